"""The inspector: capture bins, the requests they caught, checking a captured request's
signature as a receiver would, and sending it again to any URL. (What a capture URL does with
a request is ``hookline.services.capture``.)

Expired bins are gone for every operation at once; their rows are purged when a bin is created
or the bins are listed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from hookline import verify as receiver
from hookline.delivery.sender import OutgoingRequest
from hookline.domain import forwarding
from hookline.domain.ids import new_id
from hookline.domain.models import Page
from hookline.domain.records import record
from hookline.errors import NotFound, TooManyBins, ValidationFailed
from hookline.services.deps import Deps
from hookline.services.webhook_checks import url_problem
from hookline.settings import Settings
from hookline.store.bins import Bin, BinConfig, CapturedRequest, ReplayResult

REPLAY_TIMEOUT = 30.0


@record
class Verdict:
    """Whether a captured request's signature holds; if not, why (``code`` is stable)."""

    valid: bool
    error: str | None = None
    code: str | None = None


def capture_base(settings: Settings, served_from: str) -> str:
    """Where capture URLs live: their own origin when the operator gave them one
    (``capture_base_url``), else the public URL, else where this request was served from."""
    return (settings.capture_base_url or settings.public_url or served_from).rstrip("/")


async def create_bin(
    deps: Deps, workspace_id: str, name: str, config: BinConfig, ttl_seconds: float
) -> Bin:
    """A capture URL that records every request it receives and answers as configured."""
    now = time.time()
    await deps.store.inspector.purge_expired_bins(now)
    created = Bin(new_id("bin"), workspace_id, name, config, 0, now + ttl_seconds, now)
    most = deps.settings.max_bins_per_workspace
    if not await deps.store.inspector.create_bin(created, max_bins=most):
        raise TooManyBins(f"a workspace has at most {most} bins: delete one to make room")
    return created


async def list_bins(deps: Deps, workspace_id: str, *, limit: int, cursor: str | None) -> Page:
    await deps.store.inspector.purge_expired_bins(time.time())
    return await deps.store.inspector.list_bins(workspace_id, limit=limit, cursor=cursor)


async def get_bin(deps: Deps, workspace_id: str, bin_id: str) -> Bin:
    found = await deps.store.inspector.get_bin(workspace_id, bin_id)
    if found is None or found.expired(time.time()):
        raise NotFound(f"bin {bin_id} not found (or expired)")
    return found


async def delete_bin(deps: Deps, workspace_id: str, bin_id: str) -> None:
    if not await deps.store.inspector.delete_bin(workspace_id, bin_id):
        raise NotFound(f"bin {bin_id} not found")


async def list_requests(
    deps: Deps,
    workspace_id: str,
    bin_id: str,
    *,
    limit: int,
    cursor: str | None = None,
    after: str | None = None,
) -> Page:
    """Newest first (page on with ``cursor``), or with ``after`` the ones since, oldest first."""
    await get_bin(deps, workspace_id, bin_id)
    return await deps.store.inspector.list_bin_requests(
        workspace_id, bin_id, limit=limit, cursor=cursor, after=after
    )


async def get_request(deps: Deps, workspace_id: str, bin_id: str, rid: str) -> CapturedRequest:
    await get_bin(deps, workspace_id, bin_id)
    found = await deps.store.inspector.get_bin_request(workspace_id, bin_id, rid)
    if found is None:
        raise NotFound(f"request {rid} not found in bin {bin_id}")
    return found


async def verify_request(
    deps: Deps,
    workspace_id: str,
    bin_id: str,
    rid: str,
    *,
    scheme: str,
    secret: str | Sequence[str],
    tolerance: float | None,
    base: str,
) -> Verdict:
    """Check the captured request's signature against a secret (or several), as a receiver
    would, at the time it arrived; ``base``: where capture URLs are served (the URL is signed
    by some schemes)."""
    found = await get_request(deps, workspace_id, bin_id, rid)
    r = found.request
    try:
        receiver.verify(
            scheme,
            r.body,
            dict(r.headers),
            secret,
            method=r.method,
            url=forwarding.captured_url(found.bin_id, r.path, r.query, base),
            tolerance=tolerance,
            now=r.received_at,
        )
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    except receiver.VerificationError as exc:
        return Verdict(valid=False, error=str(exc), code=exc.code)
    return Verdict(valid=True)


async def replay_request(
    deps: Deps, workspace_id: str, bin_id: str, rid: str, url: str
) -> ReplayResult:
    """Send the captured request again, to any URL the address policy allows: same method,
    headers (hop-by-hop ones aside) and body. The outcome is kept with the request."""
    found = await get_request(deps, workspace_id, bin_id, rid)
    refused = url_problem(deps, url)
    if refused is not None:
        raise refused
    r = found.request
    headers = forwarding.joined_headers(r.headers)
    outgoing = OutgoingRequest(r.method, url, headers, r.body or None, REPLAY_TIMEOUT)
    at = time.time()
    sent = await deps.sender.send(outgoing)
    result = ReplayResult(
        new_id("rpl"), url, at, sent.status, sent.headers, sent.body_excerpt,
        sent.duration_ms, sent.error_class, sent.error_message,
    )  # fmt: skip
    await deps.store.inspector.record_replay(workspace_id, bin_id, rid, result)
    return result
