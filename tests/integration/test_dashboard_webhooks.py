"""The dashboard's webhook form over its HTTP routes: every problem of a submission shown at
once in product language, and a preview that shows the body byte for byte as it is sent."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from tests.conftest import Receiver
from tests.integration.dashboard_client import DashboardClient, browserless
from tests.integration.engine_helpers import running_service as running

_FIELD_ERROR = re.compile(r'<p class="error" id="err-(\w+)">(.*?)</p>', re.DOTALL)
EXAMPLE = {"order": {"id": "o-1", "lines": [1, 2]}, "note": "a  b"}


def _errors(page: str) -> dict[str, str]:
    return {name: html.unescape(text) for name, text in _FIELD_ERROR.findall(page)}


async def test_the_form_shows_every_problem_on_the_first_submit(tmp_path: Path) -> None:
    async with browserless() as http, running(f"sqlite:///{tmp_path}/h.db") as svc:
        ws, key = await svc.workspace()
        visitor = DashboardClient(http, svc.url)
        await visitor.sign_in(key)
        form = (await visitor.get("/webhooks/new")).csrf()
        answer = await visitor.post(
            "/webhooks/new",
            {
                "csrf_token": form,
                "name": "",
                "url": "http://10.1.2.3/hooks",
                "events_other": "no.such",
                "timeout_seconds": "90",
                "filter": "{not json",
            },
        )
        assert answer.status == 422
        errors = _errors(answer.text)
        assert set(errors) == {"name", "url", "events", "timeout_seconds", "filter"}
        assert errors["name"] == "must not be empty"
        assert errors["timeout_seconds"] == "must be less than or equal to 30"
        assert "'no.such'" in errors["events"] and "10.1.2.3" in errors["url"]
        assert errors["filter"].startswith("not valid JSON")
        listed = await svc.ok("GET", f"/v1/workspaces/{ws}/webhooks", token=key)
        assert listed["data"] == []  # nothing was saved


async def test_the_preview_words_problems_plainly_and_shows_the_body_as_sent(
    tmp_path: Path, receiver: Receiver
) -> None:
    async with browserless() as http, running(f"sqlite:///{tmp_path}/h.db") as svc:
        ws, key = await svc.workspace()
        await svc.ok(
            "POST", f"/v1/workspaces/{ws}/event-types", token=key,
            json={"name": "order.paid", "example": EXAMPLE},
        )  # fmt: skip
        visitor = DashboardClient(http, svc.url)
        await visitor.sign_in(key)
        csrf = (await visitor.get("/webhooks/new")).csrf()

        empty = html.unescape((await visitor.post("/webhooks/preview", {"csrf_token": csrf})).text)
        assert "<strong>name</strong>: must not be empty" in empty
        assert "should" not in empty

        fields = {"csrf_token": csrf, "name": "n", "url": receiver.url, "events": "order.paid"}
        fields["enabled"] = "on"
        shown = html.unescape((await visitor.post("/webhooks/preview", fields)).text)
        assert f"POST {receiver.url}" in shown
        sent = json.dumps(EXAMPLE)  # every Hookline body is byte-identical to json.dumps
        assert f'<span class="preview-body">{sent}</span>' in shown
        assert "Not sent now" not in shown and "aggregation window" not in shown

        windowed = {k: v for k, v in fields.items() if k != "enabled"}
        windowed["aggregation_seconds"] = "60"
        shown = html.unescape((await visitor.post("/webhooks/preview", windowed)).text)
        assert "sent as an aggregation window" in shown
        body = re.search(r'<span class="preview-body">(.*?)</span>', shown, re.DOTALL)
        assert body is not None
        window = json.loads(body.group(1))
        assert (window["type"], window["events"][0]["payload"]) == ("hookline.batch", EXAMPLE)
        assert "X-Hookline-Event-Type: hookline.batch" in shown
        # The status unchecked: the preview says the delivery would be held.
        assert "Not sent now: the webhook is disabled" in shown
