"""What the Python SDK raises when the API refuses a request, checked in one line."""

from __future__ import annotations

from collections.abc import Awaitable

import pytest
from svix.exceptions import HttpError, HTTPValidationError


async def refused(call: Awaitable[object], *statuses: int) -> HttpError | HTTPValidationError:
    """The SDK's exception for ``call``, which must fail with one of ``statuses``."""
    with pytest.raises((HttpError, HTTPValidationError)) as caught:
        await call
    error = caught.value
    assert isinstance(error, HttpError | HTTPValidationError)
    assert error.status_code in statuses, (
        f"expected HTTP {' or '.join(map(str, statuses))}, got {error.status_code}: {error}"
    )
    return error
