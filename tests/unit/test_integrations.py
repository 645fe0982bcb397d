"""The FastAPI dependency and the Flask decorator, in real apps driven by their test clients."""

# No `from __future__ import annotations`: FastAPI evaluates endpoint annotations against the
# module globals, and these endpoints depend on fixtures' locals.

import json
import subprocess
import sys
import time
import urllib.parse
from typing import Annotated, Any

import flask
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from flask.testing import FlaskClient

from hookline.domain.signing import generate_secret, sign_request
from hookline.integrations.fastapi import VerifiedWebhook
from hookline.integrations.flask import verify_webhook
from hookline.verify import Deduplicator

SECRET = generate_secret()
EVENT = {"type": "order.paid", "data": {"id": 42, "customer": "José"}}
BODY = json.dumps(EVENT).encode()


def signed(
    scheme: str, *, event_id: str = "msg_1", body: bytes = BODY, method: str = "POST", url: str = ""
) -> dict[str, str]:
    headers = sign_request(
        [scheme], [SECRET], msg_id=event_id, timestamp_ms=int(time.time() * 1000), body=body,
        method=method, url=url,
    )  # fmt: skip
    return headers | {"Content-Type": "application/json", "X-Hookline-Event-Id": event_id}


# ---------------------------------------------------------------------------------------------
# FastAPI


@pytest.fixture
def fastapi_app() -> tuple[TestClient, list[Any]]:
    received: list[Any] = []
    standard = VerifiedWebhook(
        "standard", ["whsec_" + "A" * 32, SECRET], deduplicator=Deduplicator()
    )
    timestamped = VerifiedWebhook("timestamped", SECRET)
    app = FastAPI()

    @app.post("/hooks")
    async def hooks(event: Annotated[Any, Depends(standard)]) -> dict[str, str]:
        received.append(event)
        return {"received": event["type"]}

    @app.get("/ping")
    async def ping(event: Annotated[Any, Depends(timestamped)]) -> dict[str, str]:
        received.append(event)
        return {"pong": "yes"}

    return TestClient(app), received


def test_fastapi_valid_request_hands_over_the_event(
    fastapi_app: tuple[TestClient, list[Any]],
) -> None:
    client, received = fastapi_app
    response = client.post("/hooks", content=BODY, headers=signed("standard"))
    assert response.status_code == 200
    assert response.json() == {"received": "order.paid"}
    assert received == [EVENT]


def test_fastapi_rejects_tampered_and_malformed(fastapi_app: tuple[TestClient, list[Any]]) -> None:
    client, received = fastapi_app
    tampered = client.post("/hooks", content=BODY + b" ", headers=signed("standard"))
    assert tampered.status_code == 401
    assert tampered.json()["detail"]["code"] == "invalid_signature"
    malformed = client.post("/hooks", content=BODY, headers={"webhook-id": "x"})
    assert malformed.status_code == 400
    assert malformed.json()["detail"]["code"] == "malformed_request"
    assert received == []


def test_fastapi_detects_duplicates(fastapi_app: tuple[TestClient, list[Any]]) -> None:
    client, received = fastapi_app
    headers = signed("standard", event_id="msg_dup")
    assert client.post("/hooks", content=BODY, headers=headers).status_code == 200
    again = client.post("/hooks", content=BODY, headers=headers)
    assert again.status_code == 200
    assert again.json()["detail"]["code"] == "duplicate"
    other = client.post("/hooks", content=BODY, headers=signed("standard", event_id="msg_2"))
    assert other.status_code == 200
    assert received == [EVENT, EVENT]


def test_fastapi_timestamped_get_signs_the_url(fastapi_app: tuple[TestClient, list[Any]]) -> None:
    client, received = fastapi_app
    url = "http://testserver/ping?order=42"
    headers = signed("timestamped", body=b"", method="GET", url=url)
    assert client.get("/ping?order=42", headers=headers).status_code == 200
    assert client.get("/ping?order=43", headers=headers).status_code == 401
    assert received == [None]


def test_fastapi_refuses_bad_configuration_at_start_up() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        VerifiedWebhook("standard", "not a whsec secret")


# ---------------------------------------------------------------------------------------------
# Flask


@pytest.fixture
def flask_app() -> tuple[FlaskClient, list[Any]]:
    received: list[Any] = []
    app = flask.Flask(__name__)
    dedup = Deduplicator()

    @app.post("/hooks/<name>")
    @verify_webhook("github", SECRET, deduplicator=dedup)
    def hooks(event: Any, name: str) -> dict[str, Any]:
        assert flask.g.webhook_event is event
        if event.get("fail"):
            raise RuntimeError("processing failed")
        received.append(event)
        return {"received": event["type"], "name": name}

    return app.test_client(), received


def test_flask_valid_request_hands_over_the_event(
    flask_app: tuple[FlaskClient, list[Any]],
) -> None:
    client, received = flask_app
    response = client.post("/hooks/orders", data=BODY, headers=signed("github"))
    assert response.status_code == 200
    assert response.get_json() == {"received": "order.paid", "name": "orders"}
    assert received == [EVENT]


def test_flask_rejects_tampered_and_malformed(
    flask_app: tuple[FlaskClient, list[Any]],
) -> None:
    client, received = flask_app
    tampered = client.post("/hooks/x", data=BODY.replace(b"42", b"43"), headers=signed("github"))
    assert tampered.status_code == 401
    assert tampered.get_json()["error"]["code"] == "invalid_signature"
    malformed = client.post("/hooks/x", data=BODY, headers={"X-Hub-Signature-256": "sha256=zz"})
    assert malformed.status_code == 400
    assert received == []


def test_flask_detects_duplicates_and_forgets_failures(
    flask_app: tuple[FlaskClient, list[Any]],
) -> None:
    client, received = flask_app
    headers = signed("github", event_id="evt_1")
    assert client.post("/hooks/x", data=BODY, headers=headers).status_code == 200
    again = client.post("/hooks/x", data=BODY, headers=headers)
    assert (again.status_code, again.get_json()["error"]["code"]) == (200, "duplicate")
    assert received == [EVENT]

    failing = json.dumps(EVENT | {"fail": True}).encode()
    headers = signed("github", event_id="evt_2", body=failing)
    assert client.post("/hooks/x", data=failing, headers=headers).status_code == 500
    # forgotten after the failure: the retry reaches the view again instead of "duplicate"
    assert client.post("/hooks/x", data=failing, headers=headers).status_code == 500


def test_flask_form_encoded_payload(
    flask_app: tuple[FlaskClient, list[Any]],
) -> None:
    client, received = flask_app
    form = urllib.parse.urlencode({"payload": BODY.decode()}).encode()
    headers = signed("github", body=form) | {"Content-Type": "application/x-www-form-urlencoded"}
    assert client.post("/hooks/x", data=form, headers=headers).status_code == 200
    assert received == [EVENT]


def test_integrations_package_imports_no_framework() -> None:
    code = (
        "import sys, hookline.integrations;"
        "print(','.join(m for m in ('flask', 'fastapi', 'starlette') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
