"""A real SMTP server for the email-action tests (aiosmtpd) and its inbox; TLS certificates come
from :mod:`tests.integration.certs`."""

from __future__ import annotations

import email
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import free_port
from tests.polling import until


class Inbox:
    """The messages the server accepted, and how each session that sent one was made."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.sessions: list[dict[str, Any]] = []
        self.fail_next = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fail_next:
            self.fail_next -= 1
            return "451 try again later"
        self.messages.append(email.message_from_bytes(envelope.content))
        # The transport, not session.ssl: aiosmtpd sets that after STARTTLS only.
        tls = server.transport.get_extra_info("ssl_object") is not None
        self.sessions.append({"tls": tls, "authenticated": session.authenticated})
        return "250 OK"


async def wait_mail(inbox: Inbox, count: int) -> list[Message]:
    await until(lambda: len(inbox.messages) >= count, what=f"{count} messages")
    return inbox.messages


@contextmanager
def smtp_server(inbox: Inbox, **options: Any) -> Iterator[int]:
    """aiosmtpd on 127.0.0.1 (``options`` as for ``aiosmtpd.smtp.SMTP``); yields its port."""
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def authenticator(login: str, password: str) -> Any:
    """An aiosmtpd authenticator that accepts exactly one login (PLAIN or LOGIN)."""

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            login.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    return check
