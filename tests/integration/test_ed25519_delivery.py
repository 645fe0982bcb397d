"""An ``ed25519`` webhook end to end: created through the REST API, delivered by the real worker
to a receiver on 127.0.0.1, and verified there with nothing but the public key the API shows;
its rotation, the refusals, and the dashboard's secret answers."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from hookline.domain.signing import public_key
from hookline.verify import InvalidSignature, verify
from tests.conftest import Receiver, Service
from tests.integration.dashboard_client import DashboardClient, browserless

ANOTHER_PUBLIC_KEY = "whpk_T+EhT69B58vrge5NA+Hj1yPt1Z1FxEGhQmVJWnjOYeI="  # key_a of the vectors


async def _publish(service: Service, ws: str, key: str, payload: dict[str, Any]) -> None:
    event = {"type": "invoice.paid", "payload": payload}
    await service.ok("POST", f"/v1/workspaces/{ws}/events", token=key, json=event)


async def test_a_receiver_verifies_with_the_public_key_the_api_shows(
    service: Service, receiver: Receiver
) -> None:
    ws, key = await service.workspace()
    hooks = f"/v1/workspaces/{ws}/webhooks"
    created = await service.ok(
        "POST", hooks, token=key,
        json={"name": "signed", "url": receiver.url + "/in", "events": ["*"],
              "signature_schemes": ["ed25519"], "secret": "generate"},
    )  # fmt: skip
    assert created["signature_schemes"] == ["ed25519"]
    assert created["secret"].startswith("whsk_")  # the private key, shown this once
    shown = created["public_key"]
    assert shown.startswith("whpk_") and shown == public_key(created["secret"])
    fetched = await service.ok("GET", f"{hooks}/{created['id']}", token=key)
    assert (fetched["secret"], fetched["public_key"]) == (None, shown)  # public: always shown

    await _publish(service, ws, key, {"id": "in_1", "note": "café"})
    [first] = await receiver.wait_for(1)
    assert first.headers["webhook-signature"].startswith("v1a,")
    verify("ed25519", first.body, first.headers, shown)
    with pytest.raises(InvalidSignature):
        verify("ed25519", first.body, first.headers, ANOTHER_PUBLIC_KEY)

    rotated = await service.ok("POST", f"{hooks}/{created['id']}/rotate-secret", token=key, json={})
    assert rotated["secret"].startswith("whsk_") and rotated["secret"] != created["secret"]
    new = rotated["public_key"]
    assert new == public_key(rotated["secret"]) != shown
    await _publish(service, ws, key, {"id": "in_2"})
    second = (await receiver.wait_for(2))[1]
    assert [e[:4] for e in second.headers["webhook-signature"].split(" ")] == ["v1a,", "v1a,"]
    verify("ed25519", second.body, second.headers, shown)  # a receiver not yet switched
    verify("ed25519", second.body, second.headers, new)
    fetched = await service.ok("GET", f"{hooks}/{created['id']}", token=key)
    assert fetched["public_key"] == new


async def test_ed25519_cannot_share_a_webhook_with_hmac_schemes(service: Service) -> None:
    ws, key = await service.workspace()
    hooks = f"/v1/workspaces/{ws}/webhooks"
    base = {"name": "h", "url": "http://127.0.0.1:9/in", "events": ["*"]}
    status, body = await service.call(
        "POST", hooks, token=key,
        json=base | {"signature_schemes": ["ed25519", "standard"], "secret": "generate"},
    )  # fmt: skip
    assert (status, body["error"]["code"], body["error"]["field"]) == (
        422, "validation_failed", "signature_schemes",
    )  # fmt: skip
    assert "Ed25519 key pair" in body["error"]["message"]
    status, body = await service.call(
        "POST", hooks, token=key,
        json=base | {"signature_schemes": ["ed25519"], "secret": "whsec_" + "A" * 43 + "="},
    )  # fmt: skip
    assert (status, body["error"]["field"]) == (422, "secret")
    assert "whsk_" in body["error"]["message"]

    made = await service.ok(
        "POST", hooks, token=key,
        json=base | {"signature_schemes": ["ed25519"], "secret": "generate"},
    )  # fmt: skip
    status, body = await service.call(
        "PATCH", f"{hooks}/{made['id']}", token=key, json={"signature_schemes": ["github"]}
    )
    assert (status, body["error"]["field"]) == (422, "signature_schemes")
    assert "Ed25519 private key" in body["error"]["message"]
    hmac_hook = await service.ok(
        "POST", hooks, token=key, json=base | {"name": "hmac", "secret": "generate"}
    )
    assert hmac_hook["public_key"] is None


async def test_the_dashboard_shows_the_public_key_and_generates_private_keys(
    service: Service,
) -> None:
    ws, key = await service.workspace()
    made = await service.ok(
        "POST", f"/v1/workspaces/{ws}/webhooks", token=key,
        json={"name": "h", "url": "http://127.0.0.1:9/in", "events": ["*"],
              "signature_schemes": ["ed25519"], "secret": "generate"},
    )  # fmt: skip
    async with browserless() as http:
        visitor = DashboardClient(http, service.url)
        await visitor.sign_in(key)
        page = await visitor.get(f"/webhooks/{made['id']}")
        assert made["public_key"] in html.unescape(page.text)  # the raw configuration
        revealed = await visitor.post(
            f"/webhooks/{made['id']}/reveal-secret", {"csrf_token": page.csrf()}
        )
        text = html.unescape(revealed.text)
        assert made["secret"] in text and made["public_key"] in text
        generated = await visitor.get("/secret/generate?signature_schemes=ed25519")
        value = re.search(r'value="([^"]+)"', generated.text)
        assert value and html.unescape(value.group(1)).startswith("whsk_")
        plain = await visitor.get("/secret/generate?signature_schemes=standard")
        assert 'value="whsec_' in plain.text
