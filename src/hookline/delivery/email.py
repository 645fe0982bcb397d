"""Email actions: an event (or an aggregation window) sent as a message over SMTP.

``HOOKLINE_SMTP_URL`` names the server: ``smtp://user:pass@host:587?starttls=true&from=…`` for
STARTTLS (``starttls=false`` for a plain relay), ``smtps://…:465`` for implicit TLS, and
``verify_tls=false`` for a server with a self-signed certificate. Credentials never reach logs
or attempt records.

Sending a message gives an :class:`EmailResult`, the SMTP exchange's own account;
:func:`hookline.delivery.attempt.describe_email` is where it becomes an attempt record.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from types import UnionType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from hookline.domain import templates
from hookline.domain.models import EmailAction
from hookline.domain.records import record
from hookline.errors import ConfigError

_TRUE = ("1", "true", "yes", "on")
# The reply to DATA that takes a message for delivery; aiosmtplib raises on any other.
_ACCEPTED = 250


@record
class EmailResult:
    """What became of one message: the SMTP server's reply, or why there was none.

    ``code`` is the reply code with which the server took the message for delivery (250: any
    other reply is a refusal); None when it was not taken, or not sent, and then
    ``error_class`` says why (see :func:`_classify`; ``invalid_request`` without an SMTP server,
    ``template_too_large`` when the message could not be built). ``reply`` is the server's text,
    ``refused`` the recipients it turned away while taking the message for the others.
    """

    code: int | None
    reply: str
    refused: tuple[str, ...]
    duration_ms: float
    error_class: str | None = None
    error_message: str | None = None

    @property
    def accepted(self) -> bool:
        return self.code is not None


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    starttls: bool
    verify_tls: bool
    sender: str

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError("HOOKLINE_SMTP_URL must look like smtp://user:pass@host:587")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit,
            starttls=not implicit and query.get("starttls", "true").lower() in _TRUE,
            verify_tls=query.get("verify_tls", "true").lower() in _TRUE,
            sender=query.get("from", "hookline@localhost"),
        )


def smtp_config(smtp_url: str | None) -> SmtpConfig | None:
    """The SMTP server from ``HOOKLINE_SMTP_URL`` (None: email actions fail with a clear error)."""
    return None if not smtp_url else SmtpConfig.from_url(smtp_url)


def build_message(
    sender: str, to: list[str], subject: str, body: str, *, message_id: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=message_id, domain="hookline")
    message.set_content(body)
    return message


async def send_email(
    config: SmtpConfig | None, message: EmailMessage, timeout: float
) -> EmailResult:
    """Send one message; like ``Sender.send`` it never raises for delivery problems."""
    started = time.perf_counter()
    if config is None:
        return _failed(started, "invalid_request", "email actions need HOOKLINE_SMTP_URL")
    try:
        errors, reply = await aiosmtplib.send(
            message,
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            use_tls=config.implicit_tls,
            start_tls=config.starttls,
            validate_certs=config.verify_tls,
            timeout=timeout,
        )
    except Exception as exc:  # every failure becomes an attempt record, as for HTTP
        return _failed(started, _classify(exc), f"{type(exc).__name__}: {exc}"[:500])
    refused = tuple(sorted(errors))
    return EmailResult(_ACCEPTED, reply, refused, _ms(started))


def _classify(exc: Exception) -> str:
    """The attempt's ``error_class``, as for HTTP: ``timeout``, ``tls`` (a handshake or a
    certificate that failed, also when aiosmtplib wraps it), ``connect``, ``smtp_auth``, or
    ``smtp`` for any other refusal."""
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return "timeout"
    if _caused_by(exc, ssl.SSLError | ssl.CertificateError):
        return "tls"
    if isinstance(exc, aiosmtplib.SMTPConnectError | OSError):
        return "connect"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return "smtp_auth"
    return "smtp"


def _caused_by(exc: BaseException, kind: type[BaseException] | UnionType) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):  # the chain is short; a cycle must not loop
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _failed(started: float, error_class: str, message: str) -> EmailResult:
    return EmailResult(None, "", (), _ms(started), error_class, message)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def build_email(
    action: EmailAction,
    context: Mapping[str, Any],
    *,
    default_sender: str,
    message_id: str,
    max_bytes: int | None = None,
) -> EmailMessage:
    """The message for one event: subject and body rendered from the templates, unescaped.

    Each is held to ``max_bytes`` like an HTTP body (:class:`~hookline.errors.TemplateTooLarge`
    before it is built)."""
    subject = templates.render_body(action.subject, context, "text/plain", max_bytes=max_bytes)
    body = templates.render_body(action.body, context, "text/plain", max_bytes=max_bytes)
    # A subject is one header line: CR/LF from an event value must not inject headers.
    subject = " ".join(subject.split())
    return build_message(
        action.sender or default_sender, list(action.to), subject, body, message_id=message_id
    )
