"""Email actions over TLS and with SMTP AUTH, end to end against a real SMTP server (aiosmtpd):
STARTTLS with a login, implicit TLS (``smtps://``), certificate verification against a private
CA, and credentials that never reach an attempt record or a log line."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.integration.certs import Certificates, make_certificates
from tests.integration.engine_helpers import Api, running_service, workspace
from tests.integration.smtp_helpers import Inbox, authenticator, smtp_server, wait_mail

LOGIN, PASSWORD = "hookline", "s3cret-Pa55word"
ACTION = {"to": ["ops@example.com"], "subject": "Job $jobId: $jobStatus", "body": "$jobId\n"}


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/hookline.db"


@asynccontextmanager
async def mailing(db: str, smtp_url: str) -> AsyncIterator[Api]:
    async with running_service(db, smtp_url=smtp_url) as service:
        yield await workspace(service)


async def send_one(api: Api, *, expect: str = "succeeded") -> dict[str, Any]:
    """Create an email action, publish one event to it; the delivery once it has settled
    (``failed`` after one attempt, or ``succeeded``)."""
    once = {"max_attempts": 1} if expect == "failed" else {"retry_schedule": [0, 0.2]}
    hook = {"name": "mail", "kind": "email", "email": ACTION, "events": ["task.*"], **once}
    await api.ok("POST", "/webhooks", json=hook)
    published = await api.publish({"jobId": 7, "jobStatus": "Failed"})
    return await api.settled(published["deliveries"][0]["id"], expect)


def login_server(inbox: Inbox, **tls: Any) -> AbstractContextManager[int]:
    """aiosmtpd with ``tls`` options, accepting mail only after a login as LOGIN/PASSWORD."""
    return smtp_server(
        inbox, auth_required=True, authenticator=authenticator(LOGIN, PASSWORD), **tls
    )


def starttls_server(inbox: Inbox, certs: Certificates) -> AbstractContextManager[int]:
    """STARTTLS required, and a login required once the session is encrypted."""
    return login_server(inbox, tls_context=certs.server_context(), require_starttls=True)


async def test_starttls_with_a_login_verifies_the_server_and_keeps_the_password_secret(
    db: str, certs: Certificates, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A private CA, trusted the way an operator would: OpenSSL's SSL_CERT_FILE.
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca_file))
    inbox = Inbox()
    caplog.set_level(logging.DEBUG)
    with starttls_server(inbox, certs) as port:
        url = f"smtp://{LOGIN}:{PASSWORD}@127.0.0.1:{port}?from=alerts@example.com"
        async with mailing(db, url) as api:
            detail = await send_one(api)
    [message] = await wait_mail(inbox, 1)
    assert message["Subject"] == "Job 7: Failed"
    assert message["From"] == "alerts@example.com"
    assert inbox.sessions == [{"tls": True, "authenticated": True}]
    [attempt] = detail["attempts"]
    assert attempt["error_class"] is None
    assert attempt["request"]["method"] == "SMTP"
    assert PASSWORD not in orjson.dumps(detail).decode()
    assert PASSWORD not in caplog.text


async def test_a_server_the_ca_store_does_not_trust_fails_as_tls_unless_verify_tls_false(
    db: str, certs: Certificates
) -> None:
    inbox = Inbox()
    with starttls_server(inbox, certs) as port:
        base = f"smtp://{LOGIN}:{PASSWORD}@127.0.0.1:{port}"
        async with mailing(db, base) as api:
            refused = await send_one(api, expect="failed")
        [attempt] = refused["attempts"]
        assert attempt["error_class"] == "tls", attempt
        assert "certificate" in attempt["error_message"].lower()
        assert inbox.messages == []
        async with mailing(db, f"{base}?verify_tls=false") as api:
            await send_one(api)
    await wait_mail(inbox, 1)
    assert inbox.sessions == [{"tls": True, "authenticated": True}]


async def test_a_wrong_password_is_an_smtp_auth_failure_that_does_not_record_it(
    db: str, certs: Certificates, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "not-the-Pa55word"
    inbox = Inbox()
    caplog.set_level(logging.DEBUG)
    with starttls_server(inbox, certs) as port:
        url = f"smtp://{LOGIN}:{wrong}@127.0.0.1:{port}?verify_tls=false"
        async with mailing(db, url) as api:
            detail = await send_one(api, expect="failed")
    [attempt] = detail["attempts"]
    assert attempt["error_class"] == "smtp_auth", attempt
    assert wrong not in orjson.dumps(detail).decode()
    assert wrong not in caplog.text
    assert inbox.messages == []


# aiosmtpd only knows STARTTLS as TLS: with implicit TLS it must be told that AUTH needs none,
# and warns that it may then run over plain text (not here: the whole session is TLS).
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_implicit_tls_smtps(db: str, certs: Certificates) -> None:
    inbox = Inbox()
    with login_server(inbox, ssl_context=certs.server_context(), auth_require_tls=False) as port:
        url = f"smtps://{LOGIN}:{PASSWORD}@127.0.0.1:{port}?verify_tls=false"
        async with mailing(db, url) as api:
            await send_one(api)
    await wait_mail(inbox, 1)
    assert inbox.sessions == [{"tls": True, "authenticated": True}]


async def test_a_plain_relay_that_offers_no_starttls_is_refused_by_default(db: str) -> None:
    """``starttls`` is on unless the URL turns it off: a server that cannot encrypt gets no
    message (and no password) rather than a silent downgrade."""
    inbox = Inbox()
    with smtp_server(inbox) as port:
        async with mailing(db, f"smtp://{LOGIN}:{PASSWORD}@127.0.0.1:{port}") as api:
            detail = await send_one(api, expect="failed")
    [attempt] = detail["attempts"]
    assert attempt["error_class"] == "smtp", attempt
    assert "STARTTLS" in attempt["error_message"]
    assert inbox.messages == []
