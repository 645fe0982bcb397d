"""``HOOKLINE_SMTP_URL`` parsing and the error classes of failed email attempts (pure logic; the
real SMTP exchanges are in tests/integration/test_email_tls.py)."""

from __future__ import annotations

import ssl

import aiosmtplib
import pytest

from hookline.delivery.email import SmtpConfig, _classify
from hookline.errors import ConfigError


def test_smtp_means_starttls_on_587_with_verification() -> None:
    config = SmtpConfig.from_url("smtp://user:pass@mail.example.com")
    assert (config.host, config.port, config.username, config.password) == (
        "mail.example.com",
        587,
        "user",
        "pass",
    )
    assert (config.implicit_tls, config.starttls, config.verify_tls) == (False, True, True)
    assert config.sender == "hookline@localhost"


def test_smtps_means_implicit_tls_on_465() -> None:
    config = SmtpConfig.from_url("smtps://mail.example.com?from=alerts@example.com")
    assert (config.port, config.implicit_tls, config.starttls) == (465, True, False)
    assert (config.username, config.sender) == (None, "alerts@example.com")


def test_options_and_percent_encoded_credentials() -> None:
    config = SmtpConfig.from_url(
        "smtp://me%40example.com:p%40ss%3Aw%2Frd@relay:25?starttls=false&verify_tls=false"
    )
    assert (config.username, config.password) == ("me@example.com", "p@ss:w/rd")
    assert (config.port, config.starttls, config.verify_tls) == (25, False, False)


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "mail.example.com:587"])
def test_a_url_that_names_no_smtp_server_is_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        SmtpConfig.from_url(url)


def _wrapped(outer: Exception, cause: BaseException) -> Exception:
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (aiosmtplib.SMTPConnectTimeoutError("slow"), "timeout"),
        (TimeoutError(), "timeout"),
        (ssl.SSLCertVerificationError("certificate verify failed"), "tls"),
        # aiosmtplib wraps the handshake's failure when it connects with implicit TLS.
        (
            _wrapped(aiosmtplib.SMTPConnectError("Error connecting"), ssl.SSLError("bad")),
            "tls",
        ),
        (aiosmtplib.SMTPConnectError("Error connecting: refused"), "connect"),
        (ConnectionRefusedError(), "connect"),
        (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), "smtp_auth"),
        (aiosmtplib.SMTPRecipientsRefused([]), "smtp"),
        (aiosmtplib.SMTPException("SMTP STARTTLS extension not supported by server."), "smtp"),
    ],
)
def test_error_classes(exc: Exception, expected: str) -> None:
    assert _classify(exc) == expected
