"""What a capture URL (``/in/{bin_id}``) does with a request: it is public, so the bin's id is
its only credential; the request is stored exactly, within the bin's and the workspace's quotas
(``hookline.domain.bin_quotas``), or refused with the reason. Every request of every sender
pointed at a bin comes through here: each step is one store call at most."""

from __future__ import annotations

from hookline.domain.bin_quotas import BinQuotas, CaptureOutcome
from hookline.errors import (
    ApiError,
    BinFull,
    BinQuotaExceeded,
    MethodTooLong,
    NotFound,
    WorkspaceQuotaExceeded,
)
from hookline.services.deps import Deps
from hookline.settings import Settings
from hookline.store.bins import Bin, IncomingRequest

#: The longest method a captured request may have (``bin_requests.method``).
MAX_METHOD = 16


async def live_bin(deps: Deps, bin_id: str, method: str, now: float) -> Bin:
    """The bin a request to its capture URL goes to: 404 if it is unknown or expired, 405 for
    a method longer than can be kept."""
    found = await deps.store.inspector.find_bin(bin_id)
    if found is None or found.expired(now):
        raise NotFound(f"bin {bin_id} not found (or expired)")
    if len(method) > MAX_METHOD:
        raise MethodTooLong(f"methods are limited to {MAX_METHOD} characters")
    return found


async def capture(deps: Deps, found: Bin, incoming: IncomingRequest) -> str | None:
    """Store the request in the bin; the id of the stored request. Refused (429, or 404 if the
    bin went in between) when it would take the bin or the workspace past a limit and the bin
    does not drop its oldest captures to make room."""
    settings = deps.settings
    quotas = BinQuotas(settings.max_bin_bytes, settings.max_workspace_bin_bytes)
    stored = await deps.store.inspector.capture(
        found.id, incoming, now=incoming.received_at, quotas=quotas
    )
    if stored.outcome is not CaptureOutcome.STORED:
        raise refusal(stored.outcome, found, settings)
    return stored.request_id


def refusal(outcome: CaptureOutcome, found: Bin, settings: Settings) -> ApiError:
    """The error a capture that was not stored answers."""
    if outcome is CaptureOutcome.FULL:
        return BinFull(f"bin {found.id} holds its maximum of {found.config.max_requests} requests")
    if outcome is CaptureOutcome.BIN_QUOTA:
        return BinQuotaExceeded(
            f"bin {found.id} would hold more than {settings.max_bin_bytes} bytes of captures;"
            " delete it, or create it to drop its oldest captures when full"
        )
    if outcome is CaptureOutcome.WORKSPACE_QUOTA:
        return WorkspaceQuotaExceeded(
            f"the workspace's bins would hold more than {settings.max_workspace_bin_bytes} bytes"
            " of captures; delete a bin to make room"
        )
    return NotFound(f"bin {found.id} not found (or expired)")
