"""Deleting a workspace through the running service: refused while deliveries are pending unless
forced, everything of it gone afterwards (and nothing of another workspace), its API keys
refused, and a worker sending one of its deliveries at that moment unharmed."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import Receiver, Service, start_receiver
from tests.contract.test_removal import owned
from tests.integration.engine_helpers import running_service
from tests.polling import eventually, until


async def answered_410(service: Service) -> bool:
    """Whether the worker has had its 410 answer (counted as it is handed to the recorder)."""
    text = await service.ok("GET", "/metrics")
    return any(
        line.startswith("hookline_attempts_total{") and 'outcome="failed"' in line
        for line in text.splitlines()
    )


async def test_a_workspace_with_pending_deliveries_is_deleted_only_when_forced(
    service: Service,
) -> None:
    ws, key = await service.workspace("doomed")
    kept, kept_key = await service.workspace("kept")
    for workspace, token in ((ws, key), (kept, kept_key)):
        hook = {"name": "paused", "url": "https://example.com/h", "events": ["*"], "enabled": False}
        await service.ok("POST", f"/v1/workspaces/{workspace}/webhooks", token=token, json=hook)
        await service.ok(
            "POST", f"/v1/workspaces/{workspace}/flows", token=token, json={"name": "f"}
        )
        await service.ok(
            "POST", f"/v1/workspaces/{workspace}/event-types", token=token, json={"name": "a.b"}
        )
        await service.ok("POST", f"/v1/workspaces/{workspace}/bins", token=token, json={})
        await service.ok(
            "POST", f"/v1/workspaces/{workspace}/entities/orders/o1", token=token,
            json={"properties": {"status": "open"}},
        )  # fmt: skip
    # Held: the webhook is disabled, so the event's delivery waits, pending.
    await service.ok(
        "POST", f"/v1/workspaces/{ws}/events", token=key, json={"type": "a.b", "payload": {}}
    )

    status, body = await service.call("DELETE", f"/v1/workspaces/{ws}")
    assert (status, body["error"]["code"]) == (409, "deliveries_in_flight")
    assert "has 2 pending deliveries" in body["error"]["message"]  # the event, the entity's
    assert "?force=true" in body["error"]["message"]
    status, body = await service.call("DELETE", f"/v1/workspaces/{ws}?force=true", token=key)
    assert (status, body["error"]["code"]) == (403, "forbidden")  # its own key may not
    status, body = await service.call("DELETE", f"/v1/workspaces/{ws}", token=kept_key)
    assert (status, body["error"]["code"]) == (403, "wrong_workspace")
    await service.ok("GET", f"/v1/workspaces/{ws}/webhooks", token=key)  # still all there

    before = await owned(service.settings.database_url, ws)
    assert all(before[t] for t in ("webhooks", "events", "deliveries", "bin_usage", "api_keys"))
    status, _ = await service.call("DELETE", f"/v1/workspaces/{ws}?force=true")
    assert status == 204

    assert set((await owned(service.settings.database_url, ws)).values()) == {0}
    kept_rows = await owned(service.settings.database_url, kept)
    assert all(kept_rows[t] for t in ("webhooks", "flows", "event_types", "bins", "entities"))
    status, body = await service.call("GET", f"/v1/workspaces/{ws}")
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, _ = await service.call("DELETE", f"/v1/workspaces/{ws}?force=true")
    assert status == 404
    status, body = await service.call("GET", f"/v1/workspaces/{ws}/webhooks", token=key)
    assert (status, body["error"]["code"]) == (401, "unauthorized")  # its key is gone
    status, _ = await service.call(
        "POST", f"/v1/workspaces/{ws}/events", json={"type": "a.b", "payload": {}}
    )
    assert status == 404
    listed = await service.ok("GET", "/v1/workspaces")
    assert [w["id"] for w in listed["data"]] == [kept]
    await service.ok("GET", f"/v1/workspaces/{kept}/webhooks", token=kept_key)


async def test_a_forced_deletion_while_a_worker_sends_leaves_the_worker_unharmed(
    service: Service, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """The endpoint answers 410 (which would disable the webhook and publish a notice) after
    its workspace is gone: the worker records nothing, logs no error, and goes on delivering."""
    ws, key = await service.workspace("doomed")
    hook = {"name": "slow", "url": receiver.url + "/slow", "events": ["*"]}
    await service.ok("POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=hook)
    receiver.delay, receiver.status = 1.0, 410
    fast, runner = await start_receiver()
    with caplog.at_level(logging.WARNING, logger="hookline"):
        await service.ok(
            "POST", f"/v1/workspaces/{ws}/events", token=key, json={"type": "a.b", "payload": {}}
        )
        await receiver.wait_for(1)  # leased by the worker, the request in flight
        status, body = await service.call("DELETE", f"/v1/workspaces/{ws}")
        assert (status, body["error"]["code"]) == (409, "deliveries_in_flight")
        status, _ = await service.call("DELETE", f"/v1/workspaces/{ws}?force=true")
        assert status == 204
        await until(lambda: answered_410(service), what="the worker's result, after the deletion")

        # Recorded in order: once this delivery shows as succeeded, the 410 was recorded too.
        other, other_key = await service.workspace("next")
        hook = {"name": "fast", "url": fast.url, "events": ["*"]}
        await service.ok("POST", f"/v1/workspaces/{other}/webhooks", token=other_key, json=hook)
        published = await service.ok(
            "POST", f"/v1/workspaces/{other}/events", token=other_key,
            json={"type": "a.b", "payload": {}},
        )  # fmt: skip
        delivery = published["deliveries"][0]["id"]

        async def settled() -> str:
            found = await service.ok(
                "GET", f"/v1/workspaces/{other}/deliveries/{delivery}", token=other_key
            )
            return str(found["status"])

        await eventually(settled, lambda s: s == "succeeded", what="the next delivery")
        await runner.cleanup()
    assert set((await owned(service.settings.database_url, ws)).values()) == {0}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


async def test_another_process_refuses_a_deleted_workspace_key_within_its_cache_lifetime(
    database_url: str,
) -> None:
    async with (
        running_service(database_url, worker=False) as first,
        running_service(database_url, worker=False, api_key_cache_seconds=1.0) as other,
    ):
        ws, key = await first.workspace()
        await other.ok("GET", f"/v1/workspaces/{ws}/webhooks", token=key)  # now in its cache
        status, _ = await first.call("DELETE", f"/v1/workspaces/{ws}")
        assert status == 204

        async def status_there() -> int:
            found, _ = await other.call("GET", f"/v1/workspaces/{ws}/webhooks", token=key)
            return found

        await eventually(status_there, lambda s: s == 401, 5.0, what="the key refused there")
