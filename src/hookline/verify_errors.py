"""What is wrong with a webhook request, as `hookline.verify` and `hookline.rawhttp` report it.

    VerificationError             base class; ``status`` is the HTTP status to answer with
    ├── MalformedRequest          a header is missing or unparsable, the body is not JSON (400)
    └── InvalidSignature          no signature matches any of the secrets (401)
        └── TimestampOutOfRange   authentic but too old or too far in the future (401)

Standard library only, like the modules that raise them; `hookline.verify` re-exports the
classes, and receivers usually import them from there.
"""

from __future__ import annotations

import re
from typing import ClassVar

_DIGITS = re.compile(r"[0-9]{1,18}", re.ASCII)


class VerificationError(Exception):
    """A request that is not a well-formed, authentic, fresh webhook."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "verification_failed"


class MalformedRequest(VerificationError):
    """A signature header is missing or cannot be parsed, or the body is not the expected JSON."""

    status = 400
    code = "malformed_request"


class InvalidSignature(VerificationError):
    """No signature in the request matches any of the secrets."""

    status = 401
    code = "invalid_signature"


class TimestampOutOfRange(InvalidSignature):
    """The signed timestamp is too old (a replay?) or too far in the future."""

    code = "timestamp_out_of_range"


def parse_int(text: str, what: str) -> int:
    """A header's whole number (``what`` names it in the error), or `MalformedRequest`."""
    value = text.strip()
    if not _DIGITS.fullmatch(value):
        raise MalformedRequest(f"{what} must be a whole number, got {text[:40]!r}")
    return int(value)
