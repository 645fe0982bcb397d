"""Broker actions through the dashboard's webhook form: created per kind (RabbitMQ, MQTT), their
problems shown beside the kind's own fields, an edit that sends the masked URL back keeping the
stored password, and every page naming the destination without the password. The Test button
publishes to the real RabbitMQ and the attempt reads as the broker's acknowledgement."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hookline.domain.secretbox import SecretBox
from tests.brokers import RABBITMQ, RABBITMQ_URL, require_broker
from tests.conftest import Service
from tests.integration.dashboard_client import DashboardClient, browserless
from tests.integration.engine_helpers import running_service as running
from tests.polling import eventually

PASSWORD = "br0ker-s3cret"
MASKED = "%5Bredacted%5D"
RABBIT_URL = f"amqp://hook:{PASSWORD}@127.0.0.1:5672/%2F"
MQTT_URL = f"mqtt://hook:{PASSWORD}@127.0.0.1:1883"
_FIELD_ERROR = re.compile(r'<p class="error" id="err-([\w.]+)">(.*?)</p>', re.DOTALL)


def _errors(page: str) -> dict[str, str]:
    return {name: html.unescape(text) for name, text in _FIELD_ERROR.findall(page)}


def _value(page: str, name: str) -> str:
    """The value an input of the form shows."""
    found = re.search(rf'name="{re.escape(name)}" type="[^"]*" value="([^"]*)"', page)
    assert found, name
    return html.unescape(found.group(1))


def _rabbitmq(csrf: str, **fields: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "name": "to-rabbit",
        "kind": "rabbitmq",
        "rabbitmq.url": RABBIT_URL,
        "rabbitmq.exchange": "events",
        "rabbitmq.routing_key": "task.$type",
        "events": "*",
        "enabled": "on",
    } | fields


def _mqtt(csrf: str, **fields: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "name": "to-mqtt",
        "kind": "mqtt",
        "mqtt.url": MQTT_URL,
        "mqtt.topic": "hooks/$type",
        "mqtt.qos": "2",
        "mqtt.retain": "on",
        "events": "*",
        "enabled": "on",
    } | fields


@pytest.fixture
async def visitor(tmp_path: Path) -> AsyncIterator[tuple[Service, str, str, DashboardClient]]:
    """A running service whose secrets are sealed at rest, a workspace, and a signed-in
    dashboard visitor."""
    key_of_box = SecretBox.generate_key()
    async with (
        browserless() as http,
        running(f"sqlite:///{tmp_path}/h.db", secret_key=key_of_box) as svc,
    ):
        ws, key = await svc.workspace()
        client = DashboardClient(http, svc.url)
        assert (await client.sign_in(key)).status == 303
        yield svc, ws, key, client


async def _created(client: DashboardClient, form: dict[str, str]) -> str:
    answer = await client.post("/webhooks/new", form)
    assert answer.status == 303, _errors(answer.text) or answer.text[:2000]
    assert answer.location is not None
    found = re.search(r"/webhooks/(wh_\w+)", answer.location)
    assert found, answer.location
    return found.group(1)


async def test_broker_actions_are_created_edited_and_listed_without_their_password(
    visitor: tuple[Service, str, str, DashboardClient],
) -> None:
    svc, ws, key, client = visitor
    api = f"/v1/workspaces/{ws}/webhooks"
    flow = await svc.ok("POST", f"/v1/workspaces/{ws}/flows", token=key, json={"name": "relay"})
    new = await client.get("/webhooks/new")
    assert "(only for kind RabbitMQ)" in new.text and 'name="mqtt.qos"' in new.text
    csrf = new.csrf()

    rabbit_id = await _created(client, _rabbitmq(csrf))
    mqtt_id = await _created(client, _mqtt(csrf, flow=flow["id"]))
    rabbit = await svc.ok("GET", f"{api}/{rabbit_id}?include_secret=true", token=key)
    assert (rabbit["kind"], rabbit["url"]) == ("rabbitmq", None)
    assert rabbit["rabbitmq"] == {
        "url": RABBIT_URL,
        "exchange": "events",
        "routing_key": "task.$type",
    }
    mqtt = await svc.ok("GET", f"{api}/{mqtt_id}?include_secret=true", token=key)
    assert mqtt["mqtt"] == {"url": MQTT_URL, "topic": "hooks/$type", "qos": 2, "retain": True}
    assert mqtt["flow"] == flow["id"]

    # The edit form shows the password masked; saved back so, the stored password is kept.
    edit = await client.get(f"/webhooks/{rabbit_id}/edit")
    assert PASSWORD not in edit.text
    shown_url = _value(edit.text, "rabbitmq.url")
    assert shown_url == f"amqp://hook:{MASKED}@127.0.0.1:5672/%2F"
    assert _value(edit.text, "rabbitmq.routing_key") == "task.$type"
    kept = {"rabbitmq.url": shown_url, "rabbitmq.routing_key": "x.$type"}
    changed = _rabbitmq(edit.csrf(), **kept)
    saved = await client.post(f"/webhooks/{rabbit_id}/edit", changed | {"webhook_id": rabbit_id})
    assert saved.status == 303, _errors(saved.text) or saved.text[:2000]
    rabbit = await svc.ok("GET", f"{api}/{rabbit_id}?include_secret=true", token=key)
    assert rabbit["rabbitmq"]["url"] == RABBIT_URL
    assert rabbit["rabbitmq"]["routing_key"] == "x.$type"

    # Every page names the destination as describe() words it, the kind as a badge.
    rabbit_shown = "amqp://hook@127.0.0.1:5672/%2F?exchange=events&routing_key=x.$type"
    mqtt_shown = "mqtt://hook@127.0.0.1:1883?topic=hooks/$type&qos=2&retain=true"
    listed = await client.get("/webhooks")
    detail = await client.get(f"/webhooks/{mqtt_id}")
    flows = await client.get("/flows")
    for page in (listed, detail, flows):
        assert page.status == 200
        assert PASSWORD not in page.text
    text = html.unescape(listed.text)
    assert rabbit_shown in text and mqtt_shown in text
    assert '<span class="badge kind">rabbitmq</span>' in text
    assert '<span class="badge kind">mqtt</span>' in html.unescape(detail.text)
    assert mqtt_shown in html.unescape(detail.text) and mqtt_shown in html.unescape(flows.text)


async def test_problems_show_beside_the_kinds_own_fields(
    visitor: tuple[Service, str, str, DashboardClient],
) -> None:
    svc, ws, key, client = visitor
    csrf = (await client.get("/webhooks/new")).csrf()
    bad_scheme = await client.post(
        "/webhooks/new", _rabbitmq(csrf, **{"rabbitmq.url": "http://127.0.0.1:5672"})
    )
    assert bad_scheme.status == 422
    errors = _errors(bad_scheme.text)
    assert set(errors) == {"rabbitmq.url"}, errors  # no HTTP field is asked for
    assert "amqp://" in errors["rabbitmq.url"]
    assert 'aria-invalid="true"' in bad_scheme.text

    bad_qos = await client.post("/webhooks/new", _mqtt(csrf, **{"mqtt.qos": "3"}))
    assert bad_qos.status == 422
    errors = _errors(bad_qos.text)
    assert set(errors) == {"mqtt.qos"}, errors
    assert "1 or 2" in errors["mqtt.qos"]
    # The submission is shown again as typed, the kind still chosen.
    assert '<option value="mqtt" selected>' in bad_qos.text
    listed = await svc.ok("GET", f"/v1/workspaces/{ws}/webhooks", token=key)
    assert listed["data"] == []


async def test_the_preview_shows_the_message_a_broker_action_publishes(
    visitor: tuple[Service, str, str, DashboardClient],
) -> None:
    _, _, _, client = visitor
    csrf = (await client.get("/webhooks/new")).csrf()
    shown = await client.post("/webhooks/preview", _rabbitmq(csrf))
    assert shown.status == 200
    text = html.unescape(shown.text)
    assert "PUBLISH amqp://hook@127.0.0.1:5672/%2F?exchange=events&routing_key=task." in text
    assert PASSWORD not in text
    email = _rabbitmq(csrf, kind="email", **{"email.to": "ops@example.com", "email.subject": "s"})
    assert "no request to preview" in (await client.post("/webhooks/preview", email)).text


async def test_the_test_button_publishes_to_rabbitmq_and_the_attempt_reads_as_an_ack(
    visitor: tuple[Service, str, str, DashboardClient],
) -> None:
    require_broker(RABBITMQ)
    import aio_pika

    _, _, _, client = visitor
    queue_name = f"hookline-dashboard-{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, auto_delete=True)
        csrf = (await client.get("/webhooks/new")).csrf()
        form = _rabbitmq(
            csrf,
            **{
                "rabbitmq.url": RABBITMQ_URL,
                "rabbitmq.exchange": "",
                "rabbitmq.routing_key": queue_name,
            },
        )
        hook_id = await _created(client, form)
        detail = await client.get(f"/webhooks/{hook_id}")
        result = await client.post(f"/webhooks/{hook_id}/test", {"csrf_token": detail.csrf()})
        assert "Delivered" in result.text, result.text
        assert '<strong class="test-status">ack</strong>' in result.text

        async def message() -> Any:
            return await queue.get(fail=False)

        got = await eventually(message, lambda m: m is not None, what="the test message")
        await got.ack()
        delivery = re.search(r'href="/deliveries/(dlv_\w+)"', result.text)
        assert delivery, result.text
        page = html.unescape((await client.get(f"/deliveries/{delivery.group(1)}")).text)
        assert re.search(r"Attempt 1 —\s+ack\s+in", page), page
        assert "Broker's answer" in page and "Acknowledged" in page
        assert "PUBLISH amqp://guest@127.0.0.1:5672/?exchange=&routing_key=" in page


async def test_an_email_action_is_created_and_saved_back_unchanged(
    visitor: tuple[Service, str, str, DashboardClient],
) -> None:
    svc, ws, key, client = visitor
    csrf = (await client.get("/webhooks/new")).csrf()
    form = {
        "csrf_token": csrf,
        "name": "to-ops",
        "kind": "email",
        "email.to": "ops@example.com, oncall@example.com",
        "email.subject": "Job $jobId finished",
        "email.body": "",
        "email.sender": "",
        "events": "*",
        "enabled": "on",
    }
    hook_id = await _created(client, form)
    path = f"/v1/workspaces/{ws}/webhooks/{hook_id}"
    stored = await svc.ok("GET", path, token=key)
    assert stored["email"] == {
        "to": ["ops@example.com", "oncall@example.com"],
        "subject": "Job $jobId finished",
        "body": "$payload",
        "sender": None,
    }
    edit = await client.get(f"/webhooks/{hook_id}/edit")
    assert _value(edit.text, "email.to") == "ops@example.com, oncall@example.com"
    again = form | {"csrf_token": edit.csrf(), "webhook_id": hook_id, "description": "edited"}
    again["email.body"] = "$payload"
    assert (await client.post(f"/webhooks/{hook_id}/edit", again)).status == 303
    edited = await svc.ok("GET", path, token=key)
    assert (edited["description"], edited["email"]) == ("edited", stored["email"])
    listed = html.unescape((await client.get("/webhooks")).text)
    assert "email to ops@example.com, oncall@example.com" in listed
