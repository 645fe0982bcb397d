"""What a receiver gets: request shaping, every signature scheme checked by the receiver
toolkit and by other implementations, secret rotation, and the Test button."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qs, quote_plus

from standardwebhooks.webhooks import Webhook as StandardWebhook
from svix.webhooks import Webhook as SvixWebhook

from hookline.verify import verify
from tests.conftest import Received, Receiver, Service
from tests.integration.engine_helpers import workspace

WHSEC = "whsec_" + base64.b64encode(bytes(range(32))).decode()
WHSEC_NEW = "whsec_" + base64.b64encode(bytes(range(100, 132))).decode()
RAW_SECRET = "raw-secret-for-the-hex-schemes"
PAYLOAD = {"jobId": 42, "jobStatus": "Complete", "note": "Zoë says hi"}
TEMPLATE = '{"text":"Job $jobId has completed. Status: $jobStatus."}'


def _by_path(received: list[Received]) -> dict[str, Received]:
    return {r.path.split("?")[0].strip("/"): r for r in received}


async def test_request_shaping(service: Service, receiver: Receiver) -> None:
    api = await workspace(service)
    # Hookline's own headers cannot be configured (422, see test_header_secrets).
    await api.hook(f"{receiver.url}/custom", headers={"X-Custom": "yes"}, secret=WHSEC)
    await api.hook(f"{receiver.url}/get", method="GET")
    await api.hook(f"{receiver.url}/delete", method="DELETE")
    await api.hook(f"{receiver.url}/form", content_type="application/x-www-form-urlencoded")
    await api.hook(f"{receiver.url}/template", body_template=TEMPLATE)
    published = await api.publish(PAYLOAD, type="task.job_done")
    got = _by_path(await receiver.wait_for(5))

    custom = got["custom"]
    assert custom.headers["X-Custom"] == "yes"
    verify("standard", custom.body, custom.headers, WHSEC)
    assert custom.body == json.dumps(PAYLOAD).encode()
    assert custom.headers["Content-Type"] == "application/json"

    for method in ("get", "delete"):
        assert (got[method].method, got[method].body) == (method.upper(), b"")
        assert "Content-Type" not in got[method].headers

    form = got["form"]
    assert form.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form.body == b"payload=" + quote_plus(json.dumps(PAYLOAD)).encode()
    assert json.loads(parse_qs(form.body.decode())["payload"][0]) == PAYLOAD

    expected = b'{"text":"Job 42 has completed. Status: Complete."}'
    assert got["template"].body == expected

    for request in got.values():
        assert request.headers["X-Hookline-Event-Id"] == published["id"]
        assert request.headers["X-Hookline-Event-Type"] == "task.job_done"


# (path, scheme, method): one webhook each.
SIGNED = [
    ("standard", "standard", "POST"),
    ("svix", "svix", "POST"),
    ("github", "github", "POST"),
    ("hub-sha1", "hub-sha1", "POST"),
    ("sha256-hex", "sha256-hex", "POST"),
    ("timestamped", "timestamped", "POST"),
    ("timestamped-get", "timestamped", "GET"),
]


def _secret(scheme: str) -> str:
    return WHSEC if scheme in ("standard", "svix") else RAW_SECRET


async def test_every_signature_scheme_verifies(service: Service, receiver: Receiver) -> None:
    api = await workspace(service)
    urls: dict[str, str] = {}
    for path, scheme, method in SIGNED:
        urls[path] = f"{receiver.url}/{path}?order=7&state=paid"
        await api.hook(
            urls[path],
            name=path,
            method=method,
            signature_schemes=[scheme],
            secret=_secret(scheme),
        )
    await api.publish(PAYLOAD)
    got = _by_path(await receiver.wait_for(len(SIGNED)))
    for path, scheme, method in SIGNED:
        request = got[path]
        assert request.method == method
        verify(
            scheme, request.body, request.headers, _secret(scheme), method=method, url=urls[path]
        )

    _check_with_other_implementations(got)
    # Both write X-Hub-Signature, in different formats.
    schemes = ["github", "hub-sha1"]
    clash = {"name": "clash", "url": receiver.url, "signature_schemes": schemes, "secret": "s"}
    status, body = await api.call("POST", "/webhooks", json=clash)
    assert (status, body["error"]["field"]) == (422, "signature_schemes")


def _check_with_other_implementations(got: dict[str, Received]) -> None:
    standard, svix = got["standard"], got["svix"]
    StandardWebhook(WHSEC).verify(standard.body, standard.headers)
    SvixWebhook(WHSEC).verify(svix.body, svix.headers)
    # The seed receivers' recipe: HMAC-SHA1 of the JSON re-serialised with json.dumps defaults.
    hub = got["hub-sha1"]
    reserialised = json.dumps(json.loads(hub.body)).encode()
    seed = hmac.new(RAW_SECRET.encode(), reserialised, hashlib.sha1).hexdigest()
    assert hub.headers["X-Hub-Signature"] == seed
    github = got["github"]
    sha1 = hmac.new(RAW_SECRET.encode(), github.body, hashlib.sha1).hexdigest()
    assert github.headers["X-Hub-Signature"] == f"sha1={sha1}"


async def test_rotation_signs_with_old_and_new_secret(service: Service, receiver: Receiver) -> None:
    api = await workspace(service)
    hook = await api.hook(receiver.url, secret=WHSEC)
    rotated = await api.ok("POST", f"/webhooks/{hook['id']}/rotate-secret", json={})
    new_secret = rotated["secret"]
    assert new_secret.startswith("whsec_") and new_secret != WHSEC
    await api.publish(PAYLOAD)
    [request] = await receiver.wait_for(1)
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    for secret in (WHSEC, new_secret):
        verify("standard", request.body, request.headers, secret)
        StandardWebhook(secret).verify(request.body, request.headers)


async def test_test_button_answers_with_the_attempt(service: Service, receiver: Receiver) -> None:
    api = await workspace(service)
    hook = await api.hook(receiver.url, secret=WHSEC)
    receiver.headers = {"X-Receiver": "seen"}
    result: dict[str, Any] = await api.ok(
        "POST", f"/webhooks/{hook['id']}/test", json={"payload": PAYLOAD}
    )
    assert result["success"] is True
    attempt = result["attempt"]
    assert attempt["response"]["status"] == 200
    assert attempt["response"]["body_excerpt"] == "ok"
    assert attempt["duration_ms"] > 0
    [request] = receiver.requests
    assert request.headers["X-Hookline-Event-Id"] == result["event_id"]
    verify("standard", request.body, request.headers, WHSEC)
    detail = await api.delivery(result["delivery_id"])
    assert (detail["status"], detail["attempt_count"]) == ("succeeded", 1)
