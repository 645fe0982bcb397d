"""The client's errors; both derive from :class:`hookline.errors.HooklineError`."""

from __future__ import annotations

from hookline.errors import HooklineError


class HooklineAPIError(HooklineError):
    """The API answered with an error: HTTP status, stable ``code``, ``message``, ``field``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field


class HooklineConnectionError(HooklineError):
    """The API could not be reached, or did not answer, even after the retries."""
