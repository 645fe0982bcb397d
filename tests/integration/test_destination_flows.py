"""Broker actions in flow documents: exported with the URL's password masked (or with it, on
request), imported without the masked password and named in ``passwords_left_out``, imported
whole from a document that carries it."""

from __future__ import annotations

from typing import Any

from tests.conftest import Service

PASSWORD = "flow-broker-pass"
URL = f"amqp://hook:{PASSWORD}@127.0.0.1:5672/%2F"


async def _flow_with_a_queue(service: Service) -> tuple[str, str, str]:
    ws, key = await service.workspace("source")
    base = f"/v1/workspaces/{ws}"
    flow = await service.ok(
        "POST", f"{base}/flows", token=key, json={"name": "Jobs", "events": ["job.*"]}
    )
    action = {
        "name": "job queue",
        "kind": "rabbitmq",
        "rabbitmq": {"url": URL, "exchange": "jobs", "routing_key": "$type"},
        "flow": flow["id"],
        "secret": "generate",
    }
    await service.ok("POST", f"{base}/webhooks", token=key, json=action)
    return ws, key, f"{base}/flows/{flow['id']}/export"


async def _imported(service: Service, document: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    ws, key = await service.workspace("target")
    result = await service.ok("POST", f"/v1/workspaces/{ws}/flows/import", token=key, json=document)
    [hook] = result["webhooks"]
    path = f"/v1/workspaces/{ws}/webhooks/{hook['id']}?include_secret=true"
    return result, await service.ok("GET", path, token=key)


async def test_a_masked_password_is_left_out_and_named(service: Service) -> None:
    _ws, key, export = await _flow_with_a_queue(service)
    document = await service.ok("GET", export, token=key)
    [exported] = document["webhooks"]
    assert exported["kind"] == "rabbitmq"
    assert PASSWORD not in str(document)
    assert exported["rabbitmq"]["url"] == "amqp://hook:%5Bredacted%5D@127.0.0.1:5672/%2F"
    result, stored = await _imported(service, document)
    assert result["passwords_left_out"] == [{"webhook": "job queue", "field": "rabbitmq.url"}]
    assert stored["rabbitmq"]["url"] == "amqp://hook@127.0.0.1:5672/%2F"
    assert stored["rabbitmq"]["routing_key"] == "$type"


async def test_a_document_with_secrets_carries_the_password(service: Service) -> None:
    _ws, key, export = await _flow_with_a_queue(service)
    document = await service.ok("GET", export + "?include_secrets=true", token=key)
    assert document["webhooks"][0]["rabbitmq"]["url"] == URL
    result, stored = await _imported(service, document)
    assert result["passwords_left_out"] == []
    assert stored["rabbitmq"]["url"] == URL
    assert PASSWORD not in str(result)  # the import's answer masks it again


async def test_bad_broker_settings_in_a_document_name_the_field(service: Service) -> None:
    _ws, key, export = await _flow_with_a_queue(service)
    document = await service.ok("GET", export + "?include_secrets=true", token=key)
    document["webhooks"][0]["rabbitmq"]["url"] = "kafka://127.0.0.1:9092"
    ws, target_key = await service.workspace("target")
    status, body = await service.call(
        "POST", f"/v1/workspaces/{ws}/flows/import", token=target_key, json=document
    )
    assert status == 422, body
    assert body["error"]["field"] == "webhooks.0.rabbitmq.url", body
