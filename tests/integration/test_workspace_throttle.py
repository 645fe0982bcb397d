"""A workspace's throttle rate (Svix's application ``throttleRate``) paces all of its
deliveries together, whichever webhook they go to."""

from __future__ import annotations

import pytest

from tests.conftest import Receiver
from tests.integration.engine_helpers import running_service, workspace

# Bounds on how soon deliveries arrive: measured with no other test competing for the CPU.
pytestmark = pytest.mark.alone


async def test_a_workspace_throttle_rate_paces_all_of_its_webhooks_together(
    database_url: str, receiver: Receiver
) -> None:
    """Two webhooks with no rate of their own, 8 events to each, in a workspace limited to 2
    messages per second: the 16 requests are spread over 7.5 s, not sent at once."""
    async with running_service(database_url, worker=False) as svc:
        api = await workspace(svc)
        await svc.ok("PATCH", f"/api/v1/app/{api.ws}", json={"throttleRate": 2})
        await api.hook(f"{receiver.url}/one", name="one")
        await api.hook(f"{receiver.url}/two", name="two")
        for n in range(8):
            await api.publish({"n": n})
    # The worker starts with the backlog waiting, and reads the rate before its first claim.
    async with running_service(database_url):
        received = await receiver.wait_for(16, timeout=30)
    assert sorted(r.path for r in received) == ["/one"] * 8 + ["/two"] * 8
    times = sorted(r.at for r in received)
    # 15 gaps of 0.5 s is 7.5 s; unthrottled it would be well under a second. The margin
    # absorbs arrival times stamped late on a loaded machine.
    assert times[-1] - times[0] >= 6.0
    # Never more than the rate allows in any second (one extra for the window's edges).
    assert all(sum(1 for t in times if start <= t < start + 1) <= 3 for start in times)
