"""Credentials in a webhook's custom headers: encrypted at rest, masked wherever they are shown,
revealed only on request, kept when an edit sends the mask back, and sent as configured. And
the header checks made when a webhook is created or changed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from hookline.domain.secretbox import SecretBox
from tests.conftest import Receiver, Service, started
from tests.contract.test_store import execute_raw
from tests.integration.dashboard_client import DashboardClient
from tests.polling import eventually

TOKEN = "Bearer tok-3f9c1e77a2"
TENANT = "tenant-8d41b0"
MASK = "[redacted]"


@pytest.fixture
async def keyed(database_url: str) -> AsyncIterator[Service]:
    """The service (API and worker) with HOOKLINE_SECRET_KEY set."""
    async for svc in started(database_url, secret_key=SecretBox.generate_key()):
        yield svc


async def _signed_hook(
    service: Service, receiver: Receiver, **fields: Any
) -> tuple[str, str, dict[str, Any]]:
    ws, key = await service.workspace()
    body = {
        "name": "billing",
        "url": receiver.url + "/in",
        "events": ["*"],
        "headers": {"Authorization": TOKEN, "X-Tenant": TENANT, "X-Team": "ops"},
        "secret_headers": ["X-Tenant"],
        **fields,
    }
    hook = await service.ok("POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=body)
    return ws, key, hook


def _assert_hidden(text: str) -> None:
    assert TOKEN not in text and "tok-3f9c1e77a2" not in text
    assert TENANT not in text


async def test_answers_mask_credentials_and_reveal_them_only_when_asked(
    keyed: Service, receiver: Receiver
) -> None:
    ws, key, hook = await _signed_hook(keyed, receiver)
    assert hook["headers"] == {"Authorization": MASK, "X-Tenant": MASK, "X-Team": "ops"}
    assert hook["secret_headers"] == ["X-Tenant"]
    path = f"/v1/workspaces/{ws}/webhooks/{hook['id']}"
    for answer in (
        await keyed.ok("GET", path, token=key),
        await keyed.ok("GET", f"/v1/workspaces/{ws}/webhooks", token=key),
        await keyed.ok("PATCH", path, token=key, json={"description": "billing hooks"}),
    ):
        _assert_hidden(str(answer))
    revealed = await keyed.ok("GET", path + "?include_secret=true", token=key)
    assert revealed["headers"] == {"Authorization": TOKEN, "X-Tenant": TENANT, "X-Team": "ops"}
    # Created with a generated signing secret: that secret is shown once, the headers are not.
    _, _, generated = await _signed_hook(keyed, receiver, secret="generate")
    assert generated["secret"].startswith("whsec_")
    assert generated["headers"] == {"Authorization": MASK, "X-Tenant": MASK, "X-Team": "ops"}


async def test_credentials_are_encrypted_at_rest(
    keyed: Service, receiver: Receiver, database_url: str
) -> None:
    _ws, _key, hook = await _signed_hook(keyed, receiver)
    [config] = await execute_raw(
        database_url, f"SELECT config FROM webhooks WHERE id = '{hook['id']}'"
    )
    _assert_hidden(config)
    assert '"X-Team":"ops"' in config.replace(" ", "")
    assert config.count('"fernet:') == 2


async def test_an_edit_that_sends_the_mask_back_keeps_the_stored_value(
    keyed: Service, receiver: Receiver
) -> None:
    ws, key, hook = await _signed_hook(keyed, receiver)
    path = f"/v1/workspaces/{ws}/webhooks/{hook['id']}"
    headers = hook["headers"] | {"X-Team": "billing"}
    await keyed.ok("PATCH", path, token=key, json={"headers": headers})
    revealed = await keyed.ok("GET", path + "?include_secret=true", token=key)
    assert revealed["headers"] == {"Authorization": TOKEN, "X-Tenant": TENANT, "X-Team": "billing"}
    # Left out of a new headers object, a header is removed.
    await keyed.ok("PATCH", path, token=key, json={"headers": {"Authorization": MASK}})
    revealed = await keyed.ok("GET", path + "?include_secret=true", token=key)
    assert revealed["headers"] == {"Authorization": TOKEN}
    # The mask stands for a stored value: without one it is refused.
    status, body = await keyed.call("PATCH", path, token=key, json={"headers": {"X-Api-Key": MASK}})
    assert (status, body["error"]["code"], body["error"]["field"]) == (
        422,
        "validation_failed",
        "headers",
    )
    assert "X-Api-Key" in body["error"]["message"]
    status, body = await keyed.call(
        "POST", f"/v1/workspaces/{ws}/webhooks", token=key,
        json={"name": "other", "url": receiver.url, "headers": {"Authorization": MASK}},
    )  # fmt: skip
    assert (status, body["error"]["field"]) == (422, "headers")


async def test_the_receiver_gets_the_real_values_and_the_attempt_log_masks_them(
    keyed: Service, receiver: Receiver
) -> None:
    ws, key, hook = await _signed_hook(keyed, receiver)
    published = await keyed.ok(
        "POST", f"/v1/workspaces/{ws}/events", token=key,
        json={"type": "task.completed", "payload": {"id": 1}},
    )  # fmt: skip
    [request] = await receiver.wait_for(1)
    assert request.headers["Authorization"] == TOKEN
    assert request.headers["X-Tenant"] == TENANT
    delivery = f"/v1/workspaces/{ws}/deliveries/{published['deliveries'][0]['id']}"
    detail = await eventually(
        lambda: keyed.ok("GET", delivery, token=key), lambda d: bool(d["attempts"])
    )
    [attempt] = detail["attempts"]
    assert attempt["request"]["headers"]["X-Tenant"] == MASK
    assert attempt["request"]["headers"]["Authorization"] == MASK
    _assert_hidden(str(detail))
    tested = await keyed.ok(
        "POST", f"/v1/workspaces/{ws}/webhooks/{hook['id']}/test", token=key, json={}
    )
    assert receiver.requests[-1].headers["Authorization"] == TOKEN
    _assert_hidden(str(tested))
    preview = await keyed.ok(
        "POST", f"/v1/workspaces/{ws}/webhooks/{hook['id']}/preview", token=key,
        json={"type": "task.completed", "payload": {"id": 2}},
    )  # fmt: skip
    assert preview["headers"]["Authorization"] == MASK
    _assert_hidden(str(preview))


async def test_flow_export_masks_credentials_unless_secrets_are_included(
    keyed: Service, receiver: Receiver
) -> None:
    ws, key = await keyed.workspace()
    flow = await keyed.ok("POST", f"/v1/workspaces/{ws}/flows", token=key, json={"name": "f"})
    await keyed.ok(
        "POST", f"/v1/workspaces/{ws}/webhooks", token=key,
        json={
            "name": "billing", "url": receiver.url, "flow": flow["id"],
            "headers": {"Authorization": TOKEN, "X-Tenant": TENANT, "X-Team": "ops"},
            "secret_headers": ["X-Tenant"],
        },
    )  # fmt: skip
    export = f"/v1/workspaces/{ws}/flows/{flow['id']}/export"
    document = await keyed.ok("GET", export, token=key)
    _assert_hidden(str(document))
    [exported] = document["webhooks"]
    assert exported["headers"] == {"Authorization": MASK, "X-Tenant": MASK, "X-Team": "ops"}
    full = await keyed.ok("GET", export + "?include_secrets=true", token=key)
    assert full["webhooks"][0]["headers"]["Authorization"] == TOKEN

    # Imported without their values, masked headers are left out and named in the answer.
    target, target_key = await keyed.workspace("target")
    imported = await keyed.ok(
        "POST", f"/v1/workspaces/{target}/flows/import", token=target_key, json=document
    )
    assert imported["headers_left_out"] == [
        {"webhook": "billing", "header": "Authorization"},
        {"webhook": "billing", "header": "X-Tenant"},
    ]
    [copy] = imported["webhooks"]
    revealed = await keyed.ok(
        "GET", f"/v1/workspaces/{target}/webhooks/{copy['id']}?include_secret=true",
        token=target_key,
    )  # fmt: skip
    assert revealed["headers"] == {"X-Team": "ops"}
    # With the secrets, the copy has them.
    again = await keyed.ok(
        "POST", f"/v1/workspaces/{target}/flows/import", token=target_key,
        json=full | {"name": "g", "webhooks": [full["webhooks"][0] | {"name": "b2"}]},
    )  # fmt: skip
    assert again["headers_left_out"] == []
    revealed = await keyed.ok(
        "GET", f"/v1/workspaces/{target}/webhooks/{again['webhooks'][0]['id']}"
        "?include_secret=true",
        token=target_key,
    )  # fmt: skip
    assert revealed["headers"]["Authorization"] == TOKEN


async def test_dashboard_pages_mask_credentials_and_the_edit_form_keeps_them(
    keyed: Service, receiver: Receiver
) -> None:
    ws, key, hook = await _signed_hook(keyed, receiver)
    visitor = DashboardClient(keyed.http, keyed.url)
    assert (await visitor.sign_in(key)).status == 303
    page = f"/webhooks/{hook['id']}"
    for path in ("/webhooks", page, page + "/edit"):
        shown = await visitor.get(path)
        assert shown.status == 200
        _assert_hidden(shown.text)
    edit_form = await visitor.get(page + "/edit")
    assert MASK in edit_form.text
    # Saved as shown (only the description changed): the credentials are kept.
    fields = {
        "csrf_token": edit_form.csrf(),
        "webhook_id": hook["id"],
        "name": "billing",
        "description": "edited",
        "url": receiver.url + "/in",
        "method": "POST",
        "content_type": "application/json",
        "events": "*",
        "secret_headers": "X-Tenant",
        "max_attempts": "8",
        "timeout_seconds": "30",
        "aggregation_seconds": "0",
        "ordering": "none",
        "enabled": "on",
        "verify_tls": "on",
    }
    rows = [("Authorization", MASK), ("X-Tenant", MASK), ("X-Team", "ops")]
    form = [*fields.items()]
    form += [
        (k, v) for name, value in rows for k, v in (("header_name", name), ("header_value", value))
    ]
    cookie = "; ".join(f"{k}={v}" for k, v in visitor.cookies.items())
    async with keyed.http.post(
        keyed.url + page + "/edit", data=form, headers={"Cookie": cookie}, allow_redirects=False
    ) as r:
        assert r.status == 303, await r.text()
    revealed = await keyed.ok(
        "GET", f"/v1/workspaces/{ws}/webhooks/{hook['id']}?include_secret=true", token=key
    )
    assert revealed["description"] == "edited"
    assert revealed["headers"] == {"Authorization": TOKEN, "X-Tenant": TENANT, "X-Team": "ops"}
    assert revealed["secret_headers"] == ["X-Tenant"]
    detail = await visitor.get(page)
    shown = await visitor.post(page + "/reveal-headers", {"csrf_token": detail.csrf()})
    assert shown.status == 200
    assert TOKEN in shown.text and TENANT in shown.text


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Team": "ops\x0bteam"},
        {"X-Team": "ops\x0cteam"},
        {"X-Team": "ops\x7fteam"},
        {"X-Hub-Signature-256": "sha256=forged"},
        {"webhook-signature": "v1,forged"},
        {"Svix-Id": "forged"},
        {"X-Hookline-Event-Id": "forged"},
    ],
)
async def test_unsendable_or_hookline_owned_headers_are_refused(
    service: Service, headers: dict[str, str]
) -> None:
    ws, key = await service.workspace()
    body = {"name": "h", "url": "https://example.com/in", "headers": headers}
    status, answer = await service.call(
        "POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=body
    )
    assert (status, answer["error"]["code"], answer["error"]["field"]) == (
        422,
        "validation_failed",
        "headers",
    )
    assert next(iter(headers)) in answer["error"]["message"]
    hook = await service.ok(
        "POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=body | {"headers": {}}
    )
    status, answer = await service.call(
        "PATCH", f"/v1/workspaces/{ws}/webhooks/{hook['id']}", token=key, json={"headers": headers}
    )
    assert (status, answer["error"]["field"]) == (422, "headers")


async def test_content_type_and_accept_encoding_stay_replaceable(
    service: Service, receiver: Receiver
) -> None:
    ws, key = await service.workspace()
    body = {
        "name": "h",
        "url": receiver.url,
        "headers": {"Content-Type": "application/vnd.x+json", "Accept-Encoding": "gzip"},
    }
    await service.ok("POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=body)
