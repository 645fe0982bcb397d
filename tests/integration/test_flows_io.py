"""Flow export and import through the real API, and the CLI round trip in a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import Receiver, Service

HOOKLINE = [sys.executable, "-m", "hookline.cli"]
SCHEMA = {"type": "object", "required": ["orderId"]}
EXAMPLE = {"orderId": "o-1", "amount": 5}
_VOLATILE = {"id", "workspace_id", "flow", "created_at", "updated_at", "has_secret", "secret"}


async def _source(service: Service, receiver: Receiver) -> tuple[str, str, str]:
    """A workspace with a flow of two webhooks (one signed) and an unrelated webhook."""
    ws, key = await service.workspace("source")
    base = f"/v1/workspaces/{ws}"
    await service.ok(
        "POST", f"{base}/event-types", token=key,
        json={"name": "order.paid", "description": "Paid", "schema": SCHEMA, "example": EXAMPLE},
    )  # fmt: skip
    flow = await service.ok(
        "POST", f"{base}/flows", token=key,
        json={"name": "Orders", "description": "Order hooks", "events": ["order.*"]},
    )  # fmt: skip
    hooks = [
        {
            "name": "billing",
            "url": receiver.url + "/billing",
            "events": ["order.paid"],
            "secret": "generate",
            "headers": {"X-Team": "billing"},
            "filter": {"amount": {"$gt": 1}},
            "body_template": '{"id":"$orderId"}',
            "flow": flow["id"],
        },
        {"name": "audit", "url": receiver.url + "/audit", "method": "put", "flow": flow["id"]},
        {"name": "elsewhere", "url": receiver.url + "/x"},
    ]
    for body in hooks:
        await service.ok("POST", f"{base}/webhooks", token=key, json=body)
    return ws, key, flow["id"]


async def _hooks(service: Service, ws: str, key: str) -> dict[str, dict[str, Any]]:
    listed = await service.ok("GET", f"/v1/workspaces/{ws}/webhooks", token=key)
    return {h["name"]: h for h in listed["data"]}


def _config(hook: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in hook.items() if k not in _VOLATILE}


async def test_export_then_import_into_a_fresh_workspace(
    service: Service, receiver: Receiver
) -> None:
    ws, key, flow_id = await _source(service, receiver)
    export = f"/v1/workspaces/{ws}/flows/{flow_id}/export"
    document = await service.ok("GET", export, token=key)
    assert (document["hookline"], document["version"]) == ("flow-export", 1)
    assert document["flow"]["name"] == "Orders" and document["flow"]["events"] == ["order.*"]
    assert sorted(h["name"] for h in document["webhooks"]) == ["audit", "billing"]
    assert all(
        "secret" not in h and "id" not in h and "flow" not in h for h in document["webhooks"]
    )
    assert document["event_types"] == [
        {"name": "order.paid", "description": "Paid", "schema": SCHEMA, "example": EXAMPLE}
    ]
    with_secrets = await service.ok("GET", export + "?include_secrets=true", token=key)
    source = await _hooks(service, ws, key)
    billing = await service.ok(
        "GET", f"/v1/workspaces/{ws}/webhooks/{source['billing']['id']}?include_secret=true",
        token=key,
    )  # fmt: skip
    [exported] = [h for h in with_secrets["webhooks"] if h["name"] == "billing"]
    assert exported["secret"] == billing["secret"]

    target, target_key = await service.workspace("target")
    imported = await service.ok(
        "POST", f"/v1/workspaces/{target}/flows/import", token=target_key, json=with_secrets
    )
    assert imported["created_event_types"] == ["order.paid"]
    assert imported["flow"]["name"] == "Orders" and imported["flow"]["events"] == ["order.*"]
    assert all(h["secret"] is None for h in imported["webhooks"])  # none generated
    copies = await _hooks(service, target, target_key)
    assert copies.keys() == {"audit", "billing"}
    for name, copy in copies.items():
        assert copy["flow"] == imported["flow"]["id"]
        assert _config(copy) == _config(source[name])
    copied = await service.ok(
        "GET", f"/v1/workspaces/{target}/webhooks/{copies['billing']['id']}?include_secret=true",
        token=target_key,
    )  # fmt: skip
    assert copied["secret"] == billing["secret"]
    catalog = await service.ok("GET", f"/v1/workspaces/{target}/event-types", token=target_key)
    [paid] = catalog["data"]
    assert (paid["schema"], paid["example"]) == (SCHEMA, EXAMPLE)

    # The copy works: an event in the target workspace reaches the imported webhook.
    await service.ok(
        "POST", f"/v1/workspaces/{target}/events", token=target_key,
        json={"type": "order.paid", "payload": {"orderId": "o-9", "amount": 3}},
    )  # fmt: skip
    arrived = await receiver.wait_for(2)
    assert {r.path: r.body for r in arrived}["/billing"] == b'{"id":"o-9"}'


async def test_without_secrets_a_signed_webhook_gets_a_new_one(
    service: Service, receiver: Receiver
) -> None:
    ws, key, flow_id = await _source(service, receiver)
    document = await service.ok("GET", f"/v1/workspaces/{ws}/flows/{flow_id}/export", token=key)
    target, target_key = await service.workspace("target")
    imported = await service.ok(
        "POST", f"/v1/workspaces/{target}/flows/import", token=target_key, json=document
    )
    secrets = {h["name"]: h["secret"] for h in imported["webhooks"]}
    assert secrets["audit"] is None
    assert secrets["billing"].startswith("whsec_")


async def test_a_taken_name_is_a_conflict_and_changes_nothing(
    service: Service, receiver: Receiver
) -> None:
    ws, key, flow_id = await _source(service, receiver)
    document = await service.ok("GET", f"/v1/workspaces/{ws}/flows/{flow_id}/export", token=key)
    before = await _snapshot(service, ws, key)

    status, answer = await service.call(
        "POST", f"/v1/workspaces/{ws}/flows/import", token=key, json=document
    )
    assert status == 409 and answer["error"]["code"] == "conflict"
    assert answer["error"]["conflicts"] == [
        {"type": "flow", "name": "Orders"},
        {"type": "webhook", "name": "billing"},
        {"type": "webhook", "name": "audit"},
    ]
    # Under another flow name only the webhook names clash: still nothing is created.
    document["webhooks"].append({"name": "fresh", "url": receiver.url + "/fresh"})
    status, answer = await service.call(
        "POST", f"/v1/workspaces/{ws}/flows/import", token=key,
        json=document | {"name": "Orders (copy)"},
    )  # fmt: skip
    assert status == 409
    assert [c["name"] for c in answer["error"]["conflicts"]] == ["billing", "audit"]
    assert await _snapshot(service, ws, key) == before

    # Renamed webhooks import under the new flow name.
    for hook in document["webhooks"]:
        hook["name"] += " (copy)"
    imported = await service.ok(
        "POST", f"/v1/workspaces/{ws}/flows/import", token=key,
        json=document | {"name": "Orders (copy)"},
    )  # fmt: skip
    assert imported["flow"]["name"] == "Orders (copy)" and imported["created_event_types"] == []


async def test_racing_imports_leave_one_whole_copy(service: Service, receiver: Receiver) -> None:
    ws, key, flow_id = await _source(service, receiver)
    document = await service.ok("GET", f"/v1/workspaces/{ws}/flows/{flow_id}/export", token=key)
    target, target_key = await service.workspace("target")
    path = f"/v1/workspaces/{target}/flows/import"
    # Different flow names, the same webhook names: only one import can win; a loser that got
    # past the checks removes what it had created.
    answers = await asyncio.gather(
        *(
            service.call("POST", path, token=target_key, json=document | {"name": f"copy {i}"})
            for i in range(6)
        )
    )
    assert sorted(status for status, _ in answers) == [201] + [409] * 5
    [winner] = [answer for status, answer in answers if status == 201]
    flows = await service.ok("GET", f"/v1/workspaces/{target}/flows", token=target_key)
    assert [f["id"] for f in flows["data"]] == [winner["flow"]["id"]]
    hooks = await _hooks(service, target, target_key)
    assert {h["flow"] for h in hooks.values()} == {winner["flow"]["id"]} and len(hooks) == 2
    catalog = await service.ok("GET", f"/v1/workspaces/{target}/event-types", token=target_key)
    assert [et["name"] for et in catalog["data"]] == ["order.paid"]


async def test_invalid_documents_are_refused_whole(service: Service, receiver: Receiver) -> None:
    ws, key = await service.workspace()
    path = f"/v1/workspaces/{ws}/flows/import"
    good = {"hookline": "flow-export", "version": 1, "flow": {"name": "F"}, "webhooks": []}
    bad_hook = {"name": "b", "url": "ftp://nope"}
    for document, field in [
        (good | {"version": 2}, "version"),
        (good | {"hookline": "other"}, "hookline"),
        (good | {"webhooks": [{"name": "a", "url": receiver.url}, bad_hook]}, "webhooks.1.url"),
        (good | {"webhooks": [{"name": "a", "url": receiver.url}] * 2}, "webhooks.1.name"),
        (good | {"webhooks": [{"name": "a", "url": "http://10.9.9.9/"}]}, "webhooks.0.url"),
        (good | {"webhooks": [{"name": "a", "url": receiver.url, "secret": ""}]}, None),
        (good | {"event_types": [{"name": "a.b", "schema": {"type": 5}}]}, "event_types.0"),
    ]:
        status, answer = await service.call("POST", path, token=key, json=document)
        assert status == 422, (document, answer)
        if field is not None:
            assert answer["error"]["field"] == field, answer
    assert await _snapshot(service, ws, key) == ([], [], [])


async def _snapshot(service: Service, ws: str, key: str) -> tuple[list[Any], ...]:
    parts = []
    for what in ("flows", "webhooks", "event-types"):
        listed = await service.ok("GET", f"/v1/workspaces/{ws}/{what}", token=key)
        parts.append(sorted(json.dumps(x, sort_keys=True) for x in listed["data"]))
    return tuple(parts)


def _cli(args: list[str], service: Service, ws: str, key: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env |= {"HOOKLINE_API_URL": service.url, "HOOKLINE_TOKEN": key, "HOOKLINE_WORKSPACE": ws}
    return subprocess.run(
        [*HOOKLINE, "flow", *args], env=env, capture_output=True, text=True, timeout=60
    )


async def test_cli_round_trip(service: Service, receiver: Receiver, tmp_path: Path) -> None:
    ws, key, flow_id = await _source(service, receiver)
    exported = await asyncio.to_thread(
        _cli, ["export", flow_id, "--include-secrets"], service, ws, key
    )
    assert exported.returncode == 0, exported.stderr
    file = tmp_path / "flow.json"
    file.write_text(exported.stdout)
    assert json.loads(exported.stdout)["flow"]["name"] == "Orders"

    target, target_key = await service.workspace("target")
    imported = await asyncio.to_thread(
        _cli, ["import", str(file), "--name", "Orders B"], service, target, target_key
    )
    assert imported.returncode == 0, imported.stderr
    assert (
        "flow_id: flow_" in imported.stdout and "event type created: order.paid" in imported.stdout
    )
    flows = await service.ok("GET", f"/v1/workspaces/{target}/flows", token=target_key)
    assert [f["name"] for f in flows["data"]] == ["Orders B"]
    assert (await _hooks(service, target, target_key)).keys() == {"audit", "billing"}

    again = await asyncio.to_thread(_cli, ["import", str(file)], service, target, target_key)
    assert again.returncode == 1
    assert "409 conflict" in again.stderr and "conflict: webhook 'billing'" in again.stderr
    missing = await asyncio.to_thread(_cli, ["export", "flow_nope"], service, ws, key)
    assert missing.returncode == 1 and "404 not_found" in missing.stderr
