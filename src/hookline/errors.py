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
        ├── ValidationFailed      422 validation_failed (names the field; may carry every problem)
        ├── LimitExceeded         422 limit_exceeded
        └── CaptureRefused        429 (or 405): a capture URL that takes no more

API errors are rendered as ``{"error": {"code", "message", "field"}}`` (:meth:`ApiError.to_dict`);
a 422 adds ``errors``, one ``{"field", "code", "message"}`` per invalid field, the first being
the one ``field`` and ``message`` describe. Anything else that escapes a request handler is
logged with context and becomes an opaque 500.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


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

    @property
    def field_message(self) -> str:
        """The message without its leading ``field:``: what is said beside the field (an
        entry of a 422's ``errors``, a form's note under its input)."""
        return self.message.removeprefix(f"{self.field}: ") if self.field else self.message

    @property
    def entry_code(self) -> str:
        """This problem's ``code`` in a 422's ``errors``."""
        return self.code

    def headers(self) -> dict[str, str]:
        """Response headers that go with the error (a 429's ``Retry-After``)."""
        return {}

    def field_errors(self) -> list[dict[str, str | None]]:
        """A 422's ``errors``: every invalid field (for most errors, the one this one names)."""
        return field_entries([self])

    def to_dict(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message, "field": self.field}
        if self.status == 422:
            error["errors"] = self.field_errors()
        return {"error": error}


def field_entries(problems: Iterable[ApiError]) -> list[dict[str, str | None]]:
    """One ``{"field", "code", "message"}`` per invalid field, in order (a field with several
    problems is reported by its first)."""
    found: dict[str | None, dict[str, str | None]] = {}
    for problem in problems:
        code, message = problem.entry_code, problem.field_message
        found.setdefault(problem.field, {"field": problem.field, "code": code, "message": message})
    return list(found.values())


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
    """422: a request that does not validate, naming the field at fault.

    ``required``: the field is missing (rather than invalid); its entry in ``errors`` says so.
    ``problems``: every problem found at once (a webhook naming an unknown event type, a flow
    that does not exist and a URL Hookline may not send to), reported together in ``errors``;
    the error itself is the first of them (its message, field and code), which is also what a
    constructor without ``message`` takes.
    """

    status = 422
    code = "validation_failed"

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        code: str | None = None,
        required: bool = False,
        problems: Sequence[ApiError] = (),
    ) -> None:
        if message is None:
            if not problems:
                raise TypeError("ValidationFailed needs a message or problems")
            first = problems[0]
            message, field, code = first.message, first.field, code or first.code
        super().__init__(message, field=field, code=code)
        self.required = required
        self.problems: tuple[ApiError, ...] = tuple(problems) or (self,)

    @property
    def entry_code(self) -> str:
        """``required`` or ``invalid``, unless the error has a more specific code (such as
        ``template_too_large``)."""
        if self.code != ValidationFailed.code:
            return self.code
        return "required" if self.required else "invalid"

    def field_errors(self) -> list[dict[str, str | None]]:
        return field_entries(self.problems)


def every_problem(problems: Sequence[ApiError]) -> ApiError:
    """The error that reports ``problems`` (at least one): a lone one itself, several one
    :class:`ValidationFailed` that carries them all (and is the first of them)."""
    return problems[0] if len(problems) == 1 else ValidationFailed(problems=problems)


def raise_every(problems: Sequence[ApiError]) -> None:
    """Raise :func:`every_problem` of the problems found, if there are any."""
    if problems:
        raise every_problem(problems)


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
