"""Hookline's exceptions.

    HooklineError                 base of everything Hookline raises on purpose
    ├── ConfigError               settings that do not validate at start-up
    ├── TemplateError             a body template that does not parse or render
    │   └── TemplateTooLarge      its rendering would exceed the body size limit
    ├── FilterError               a payload filter that does not parse
    ├── SigningError              an unknown scheme, a bad combination or an unusable secret
    ├── StoreError                the database failed or is unreachable
    │   └── StoreUnavailable      it cannot be reached at all (the API answers 503)
    └── ApiError                  a client error with an HTTP status, a stable code and a message
        ├── Unauthorized          401 unauthorized (no token, or an unknown one)
        ├── Forbidden             403 forbidden (a token that may not do this; see its code)
        ├── NotFound              404 not_found
        ├── Conflict              409 conflict
        ├── PayloadTooLarge       413 payload_too_large
        ├── ValidationFailed      422 validation_failed (names the field)
        ├── LimitExceeded         422 limit_exceeded
        └── CaptureRefused        429 (or 405): a capture URL that takes no more

API errors are rendered as ``{"error": {"code", "message", "field"}}``; anything else that
escapes a request handler is logged with context and becomes an opaque 500.
"""

from __future__ import annotations


class HooklineError(Exception):
    """Base class of every error Hookline raises deliberately."""


class ConfigError(HooklineError):
    """Settings that are missing or invalid."""


class TemplateError(HooklineError):
    """A body template that does not parse or cannot be rendered."""


class TemplateTooLarge(TemplateError):
    """A template whose rendering would be larger than allowed; raised before it is built.

    ``code`` names it wherever it is reported: an attempt's ``error_class``, an API error.
    """

    code = "template_too_large"

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"the template would render at least {size} bytes, more than the {limit} allowed"
            " (HOOKLINE_MAX_BODY_BYTES)"
        )
        self.size = size
        self.limit = limit


class FilterError(HooklineError):
    """A payload filter that does not parse."""


class SigningError(HooklineError):
    """An unknown signature scheme, a forbidden combination, or an unusable secret."""


class StoreError(HooklineError):
    """The database failed."""


class StoreUnavailable(StoreError):
    """The database cannot be reached."""


class ApiError(HooklineError):
    """A client error: an HTTP status, a stable machine-readable code and a message."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def headers(self) -> dict[str, str]:
        """Response headers that go with the error (a 429's ``Retry-After``)."""
        return {}

    def to_dict(self) -> dict[str, object]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    """A valid token that may not do this: an operation of the admin's (``forbidden``), or a
    workspace API key used on another workspace (``wrong_workspace``)."""

    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class ValidationFailed(ApiError):
    status = 422
    code = "validation_failed"


class LimitExceeded(ApiError):
    status = 422
    code = "limit_exceeded"


class CaptureRefused(ApiError):
    """A capture URL refusing a request it could not keep (its code says why)."""

    status = 429


class BinFull(CaptureRefused):
    """The bin holds its ``max_requests`` and refuses more."""

    code = "bin_full"


class BinQuotaExceeded(CaptureRefused):
    """The capture would take the bin past ``max_bin_bytes``."""

    code = "bin_quota_exceeded"


class WorkspaceQuotaExceeded(CaptureRefused):
    """The capture would take the workspace's bins past ``max_workspace_bin_bytes``."""

    code = "workspace_quota_exceeded"


class TooManyBins(CaptureRefused):
    """The workspace has ``max_bins_per_workspace`` bins already."""

    code = "too_many_bins"


class MethodTooLong(CaptureRefused):
    """A method longer than a captured request's may be."""

    status = 405
    code = "method_not_allowed"
