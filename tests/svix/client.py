"""The Python SDK's async client on a test's service, keeping the HTTP exchanges it makes.

A failing SDK call says only ``HTTP Error (code): detail``; the exchanges say which request the
API got wrong and how (tests/svix/conftest.py adds them to a failed test's report).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from svix.api import SvixAsync, SvixOptions

#: How many exchanges a failed test's report shows, the newest last.
SHOWN_EXCHANGES = 12
#: Bodies longer than this are cut in the report.
SHOWN_BODY_CHARS = 600


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN_BODY_CHARS else text[:SHOWN_BODY_CHARS] + " …"


@dataclass
class Exchanges:
    """What a client sent and what it was answered, oldest first."""

    lines: list[str] = field(default_factory=list)

    def add(self, method: str, url: str, sent: str, status: int, answer: str) -> None:
        request = f"{method} {url}" + (f"\n    sent: {_cut(sent)}" if sent else "")
        self.lines.append(f"{request}\n    -> {status} {_cut(answer)}")

    def render(self) -> str:
        shown = self.lines[-SHOWN_EXCHANGES:]
        skipped = len(self.lines) - len(shown)
        head = [f"({skipped} earlier exchanges not shown)"] if skipped else []
        return "\n".join(head + shown)


def svix_client(url: str, token: str, exchanges: Exchanges) -> SvixAsync:
    """The SDK's async client on ``url``; no retries, so a 5xx fails at once."""
    client = SvixAsync(token, SvixOptions(server_url=url, retry_schedule=[], timeout=10.0))

    async def record(response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        sent = request.content.decode(errors="replace")
        path = request.url.raw_path.decode()
        exchanges.add(request.method, path, sent, response.status_code, response.text)

    client._httpx_client.event_hooks["response"].append(record)
    return client
