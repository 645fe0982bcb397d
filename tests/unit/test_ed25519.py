"""The ``ed25519`` scheme (Standard Webhooks asymmetric signatures): keys, signing, verifying,
its known-answer vectors and independent verifiers (libsodium through PyNaCl, Node's crypto
running the recipe in docs/receiving.md), and the framework integrations."""

# No `from __future__ import annotations`: FastAPI evaluates endpoint annotations against the
# module globals.

import base64
import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Annotated, Any

import flask
import nacl.exceptions
import nacl.signing
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from hookline import _sigcore
from hookline.domain.signing import (
    generate_secret,
    generate_secret_for,
    generate_signing_key,
    public_key,
    sign_request,
    validate_schemes,
    validate_secret,
)
from hookline.errors import SigningError
from hookline.integrations.fastapi import VerifiedWebhook
from hookline.integrations.flask import verify_webhook
from hookline.verify import InvalidSignature, MalformedRequest, check_config, verify

ROOT = Path(__file__).resolve().parents[2]
VECTORS: dict[str, Any] = json.loads(
    (ROOT / "tests" / "data" / "ed25519_vectors.json").read_text(encoding="utf-8")
)
KEYS: dict[str, dict[str, str]] = VECTORS["keys"]
CASES: dict[str, dict[str, Any]] = VECTORS["cases"]
KEY_A, KEY_B = KEYS["key_a"], KEYS["key_b"]
BODY = CASES["json"]["body_utf8"].encode()
MSG_ID = CASES["json"]["msg_id"]
TS = CASES["json"]["timestamp"]
WHSEC = "whsec_" + base64.b64encode(bytes(range(32))).decode()


def sign(secrets: list[str], body: bytes = BODY, **overrides: Any) -> dict[str, str]:
    args: dict[str, Any] = {
        "msg_id": MSG_ID, "timestamp_ms": TS * 1000, "body": body, "method": "POST", "url": "",
    }  # fmt: skip
    return sign_request(["ed25519"], secrets, **(args | overrides))


def check(headers: dict[str, str], key: str | list[str], body: bytes = BODY) -> None:
    verify("ed25519", body, headers, key, now=TS)


def entries(headers: dict[str, str]) -> list[str]:
    return headers["webhook-signature"].split(" ")


def whsk(raw: bytes) -> str:
    return "whsk_" + base64.b64encode(raw).decode()


# ---------------------------------------------------------------------------------------------
# known answers


def case_ids() -> list[str]:
    return sorted(CASES)


@pytest.mark.parametrize("name", case_ids())
@pytest.mark.parametrize("form", ["whsk", "whsk_64"])
def test_hookline_reproduces_the_vectors_byte_for_byte(name: str, form: str) -> None:
    case = CASES[name]
    secrets = [KEYS[key][form] for key in case["secrets"]]
    headers = sign(
        secrets, case["body_utf8"].encode(), msg_id=case["msg_id"],
        timestamp_ms=case["timestamp"] * 1000 + 999,  # the header carries whole seconds
    )  # fmt: skip
    assert headers == case["headers"]


@pytest.mark.parametrize("name", case_ids())
def test_the_vectors_verify_with_each_public_key(name: str) -> None:
    case = CASES[name]
    body = case["body_utf8"].encode()
    for key in case["secrets"]:
        verify("ed25519", body, case["headers"], KEYS[key]["whpk"], now=case["timestamp"])
    with pytest.raises(InvalidSignature):
        verify("ed25519", body + b" ", case["headers"], KEY_A["whpk"], now=case["timestamp"])


@pytest.mark.parametrize("key", [KEY_A, KEY_B])
def test_public_key_matches_the_vectors(key: dict[str, str]) -> None:
    assert public_key(key["whsk"]) == key["whpk"]
    assert public_key(key["whsk_64"]) == key["whpk"]
    assert _sigcore.ed25519_public(key["whpk"]).hex() == key["public_key_hex"]


def test_the_shared_vector_and_its_two_key_forms() -> None:
    shared = json.loads((ROOT / "tests" / "data" / "signatures.json").read_text("utf-8"))
    case, inputs = shared["a_standard_webhooks"]["v1a_ed25519"], shared["inputs"]
    for form in ("whsk_seed32", "whsk_seed_plus_pk64"):
        headers = sign(
            [case[form]], inputs["body_utf8"].encode(), msg_id=inputs["msg_id"],
            timestamp_ms=inputs["timestamp_ms"],
        )  # fmt: skip
        assert headers == case["headers"]
        assert public_key(case[form]) == case["whpk"]


# ---------------------------------------------------------------------------------------------
# signing and verifying


def test_round_trip_with_the_public_and_the_private_key() -> None:
    headers = sign([KEY_A["whsk"]])
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-timestamp"] == str(TS)
    check(headers, KEY_A["whpk"])
    check(headers, KEY_A["whsk"])  # the public key is derived
    check(headers, KEY_A["whsk_64"])
    verify("standard", BODY, headers, KEY_A["whpk"], now=TS)  # v1a inside the standard family


def test_rotation_signs_with_every_key_and_either_public_key_verifies() -> None:
    headers = sign([KEY_B["whsk"], KEY_A["whsk"]])
    assert [e[:4] for e in entries(headers)] == ["v1a,", "v1a,"]
    check(headers, KEY_A["whpk"])  # a receiver still on the previous key
    check(headers, KEY_B["whpk"])  # one already on the new key
    check(headers, [KEY_B["whpk"], KEY_A["whpk"]])
    only_new = headers | {"webhook-signature": entries(headers)[0]}
    with pytest.raises(InvalidSignature):
        check(only_new, KEY_A["whpk"])


@pytest.mark.parametrize(
    "change",
    [
        {"body": BODY.replace(b"4200", b"4201")},
        {"headers": {"webhook-id": MSG_ID + "x"}},
        {"headers": {"webhook-timestamp": str(TS + 1)}},
    ],
    ids=["body", "id", "timestamp"],
)
def test_anything_tampered_fails(change: dict[str, Any]) -> None:
    headers = sign([KEY_A["whsk"]]) | change.get("headers", {})
    with pytest.raises(InvalidSignature) as caught:
        check(headers, KEY_A["whpk"], change.get("body", BODY))
    assert caught.value.status == 401


def test_the_wrong_key_fails() -> None:
    headers = sign([KEY_A["whsk"]])
    with pytest.raises(InvalidSignature):
        check(headers, KEY_B["whpk"])
    with pytest.raises(InvalidSignature):
        check(headers, public_key(generate_signing_key()) or "")


def test_v1a_entries_never_match_an_hmac_secret_nor_v1_entries_a_public_key() -> None:
    hmac_secret = generate_secret()
    hmac_headers = sign_request(
        ["standard"], [hmac_secret], msg_id=MSG_ID, timestamp_ms=TS * 1000, body=BODY,
        method="POST", url="",
    )  # fmt: skip
    with pytest.raises(InvalidSignature):
        check(hmac_headers, KEY_A["whpk"])
    with pytest.raises(InvalidSignature):
        verify("standard", BODY, sign([KEY_A["whsk"]]), hmac_secret, now=TS)


@pytest.mark.parametrize(
    "signature",
    ["v1a,not*base64", "v1a", "v1a,", "v2,AAAA"],
)
def test_malformed_signature_headers(signature: str) -> None:
    headers = sign([KEY_A["whsk"]]) | {"webhook-signature": signature}
    with pytest.raises(MalformedRequest):
        check(headers, KEY_A["whpk"])


def test_a_signature_of_the_wrong_length_is_only_a_mismatch() -> None:
    headers = sign([KEY_A["whsk"]]) | {"webhook-signature": "v1a,AAAA"}
    with pytest.raises(InvalidSignature):
        check(headers, KEY_A["whpk"])


# ---------------------------------------------------------------------------------------------
# keys and configuration


def test_generated_keys() -> None:
    key = generate_secret_for(["ed25519"])
    assert key.startswith("whsk_")
    assert len(base64.b64decode(key.removeprefix("whsk_"), validate=True)) == 32
    validate_secret(key, ["ed25519"])
    assert generate_secret_for(["ed25519"]) != key
    assert generate_secret_for(["standard", "github"]).startswith("whsec_")
    assert generate_secret_for([]).startswith("whsec_")
    public = public_key(key)
    assert public is not None and len(_sigcore.ed25519_public(public)) == 32


@pytest.mark.parametrize("secret", [WHSEC, "plain", KEY_A["whpk"]])
def test_public_key_is_none_for_other_secrets(secret: str) -> None:
    assert public_key(secret) is None


@pytest.mark.parametrize(
    ("schemes", "word"),
    [
        (["ed25519", "standard"], "'standard'"),
        (["svix", "ed25519"], "'svix'"),
        (["ed25519", "github", "timestamped"], "'github', 'timestamped'"),
    ],
)
def test_mixing_ed25519_with_hmac_schemes_is_refused(schemes: list[str], word: str) -> None:
    with pytest.raises(SigningError, match=f"Ed25519 key pair.*{word}"):
        validate_schemes(schemes)
    with pytest.raises(SigningError, match="cannot use"):
        validate_secret(KEY_A["whsk"], schemes)
    with pytest.raises(SigningError):
        sign_request(
            schemes, [KEY_A["whsk"]], msg_id="m", timestamp_ms=0, body=b"", method="POST", url=""
        )
    assert validate_schemes(["ed25519", "ed25519"]) == ("ed25519",)


MISMATCHED_64 = whsk(bytes.fromhex(KEY_A["seed_hex"]) + bytes.fromhex(KEY_B["public_key_hex"]))


@pytest.mark.parametrize(
    ("secret", "word"),
    [
        ("", "empty"),
        (WHSEC, "whsk_"),
        (KEY_A["whpk"], "whsk_"),
        ("whsk_", "empty"),
        ("whsk_not base64!", "base64"),
        ("whsk_BDBM-b5s_", "base64"),  # the urlsafe alphabet
        (whsk(bytes(31)), "not 31 bytes"),
        (whsk(bytes(33)), "not 33 bytes"),
        (whsk(bytes(65)), "not 65 bytes"),
        (MISMATCHED_64, "does not belong"),
        ("WHSK_" + KEY_A["whsk"][5:], "whsk_"),
    ],
)
def test_bad_signing_keys_are_refused(secret: str, word: str) -> None:
    with pytest.raises(SigningError, match=word):
        validate_secret(secret, ["ed25519"])


def test_an_ed25519_private_key_is_no_hmac_secret() -> None:
    for scheme in ("standard", "github", "sha256-hex", "timestamped"):
        with pytest.raises(SigningError, match="Ed25519 private key"):
            validate_secret(KEY_A["whsk"], [scheme])


def test_good_signing_keys_without_padding() -> None:
    validate_secret(KEY_A["whsk"].rstrip("="), ["ed25519"])
    validate_secret(KEY_A["whsk_64"], ["ed25519"])


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (WHSEC, "whpk_"),
        ("plain", "whpk_"),
        ("whpk_AAAA", "32-byte"),
        (MISMATCHED_64, "does not belong"),
        (whsk(bytes(40)), "not 40 bytes"),
    ],
)
def test_verify_refuses_keys_it_cannot_use(secret: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_config("ed25519", secret)
    with pytest.raises(ValueError, match=message):
        verify("ed25519", BODY, sign([KEY_A["whsk"]]), [KEY_A["whpk"], secret], now=TS)


# ---------------------------------------------------------------------------------------------
# independent verifiers


def test_libsodium_verifies_hookline_signatures() -> None:
    """PyNaCl (libsodium), a second Ed25519 implementation beside cryptography's OpenSSL."""
    key = generate_signing_key()
    body = '{"note": "café \U0001f680"}'.encode()
    headers = sign([key], body, timestamp_ms=int(time.time() * 1000))
    verify_key = nacl.signing.VerifyKey(_sigcore.ed25519_public(public_key(key) or ""))
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    [entry] = entries(headers)
    version, _, signature = entry.partition(",")
    assert version == "v1a"
    assert verify_key.verify(content, base64.b64decode(signature)) == content
    with pytest.raises(nacl.exceptions.BadSignatureError):
        verify_key.verify(content + b" ", base64.b64decode(signature))


def test_libsodium_signatures_verify_with_hookline() -> None:
    signing_key = nacl.signing.SigningKey.generate()
    whpk = "whpk_" + base64.b64encode(bytes(signing_key.verify_key)).decode()
    content = f"{MSG_ID}.{TS}.".encode() + BODY
    signature = base64.b64encode(signing_key.sign(content).signature).decode()
    headers = {"webhook-id": MSG_ID, "webhook-timestamp": str(TS), "webhook-signature": ""}
    check(headers | {"webhook-signature": f"v1,AAAA v1a,{signature}"}, whpk)


NODE = shutil.which("node")


def node_recipe() -> str:
    """The ``verifyEd25519`` function exactly as docs/receiving.md prints it."""
    docs = (ROOT / "docs" / "receiving.md").read_text(encoding="utf-8")
    found = re.search(r"```js\n(function verifyEd25519.*?)```", docs, re.DOTALL)
    assert found, "docs/receiving.md lost its Node ed25519 recipe"
    return found.group(1)


NODE_MAIN = """
const crypto = require('crypto');
%s
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(cases.map(
  (c) => verifyEd25519(Buffer.from(c.body, 'base64'), c.headers, c.key))));
"""


@pytest.mark.skipif(NODE is None, reason="node is not on PATH; the JS recipe needs it")
def test_the_documented_node_recipe_verifies_hookline_signatures() -> None:
    """Node's own crypto (its bundled OpenSSL) running the recipe the docs give receivers."""
    now_ms = int(time.time() * 1000)
    body = '{"note": "café \U0001f680"}'.encode()
    rotated = sign([KEY_B["whsk"], KEY_A["whsk"]], body, timestamp_ms=now_ms)
    single = sign([KEY_A["whsk"]], body, timestamp_ms=now_ms)
    cases = [
        (single, body, KEY_A["whpk"], True),
        (rotated, body, KEY_A["whpk"], True),
        (rotated, body, KEY_B["whpk"], True),
        (single, body, KEY_B["whpk"], False),  # the wrong key
        (single, body + b" ", KEY_A["whpk"], False),  # a tampered body
        (sign([KEY_A["whsk"]], body), body, KEY_A["whpk"], False),  # 2023: far too old
    ]
    given = [{"headers": h, "body": base64.b64encode(b).decode(), "key": k} for h, b, k, _ in cases]
    assert NODE is not None
    result = subprocess.run(
        [NODE, "-e", NODE_MAIN % node_recipe()], input=json.dumps(given),
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    assert json.loads(result.stdout) == [expected for *_, expected in cases]


# ---------------------------------------------------------------------------------------------
# the integrations


def test_fastapi_dependency_with_a_public_key() -> None:
    app = FastAPI()
    receive = VerifiedWebhook("ed25519", [KEY_B["whpk"], KEY_A["whpk"]])

    @app.post("/hooks")
    async def hooks(event: Annotated[Any, Depends(receive)]) -> Any:
        return event

    client = TestClient(app)
    headers = sign([KEY_A["whsk"]], timestamp_ms=int(time.time() * 1000))
    assert client.post("/hooks", content=BODY, headers=headers).json() == json.loads(BODY)
    answer = client.post("/hooks", content=BODY + b" ", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["detail"]["code"] == "invalid_signature"
    with pytest.raises(ValueError, match="whpk_"):
        VerifiedWebhook("ed25519", generate_secret())


def test_flask_decorator_with_a_public_key() -> None:
    app = flask.Flask(__name__)

    @app.post("/hooks")
    @verify_webhook("ed25519", KEY_A["whpk"])
    def hooks(event: Any) -> Any:
        return flask.jsonify(event)

    client = app.test_client()
    headers = sign([KEY_A["whsk"]], timestamp_ms=int(time.time() * 1000))
    assert client.post("/hooks", data=BODY, headers=headers).get_json() == json.loads(BODY)
    wrong = sign([KEY_B["whsk"]], timestamp_ms=int(time.time() * 1000))
    answer = client.post("/hooks", data=BODY, headers=wrong)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "invalid_signature"


def test_the_verify_command_takes_a_public_key() -> None:
    from click.testing import CliRunner

    from hookline.cli._receiver import verify_command

    headers = sign([KEY_A["whsk"]], timestamp_ms=int(time.time() * 1000))
    raw = b"POST /in HTTP/1.1\r\nHost: example\r\nContent-Length: %d\r\n" % len(BODY)
    raw += b"".join(f"{name}: {value}\r\n".encode() for name, value in headers.items())
    raw += b"\r\n" + BODY
    runner = CliRunner()
    good = runner.invoke(
        verify_command, ["--scheme", "ed25519", "--secret", KEY_A["whpk"]], input=raw
    )
    assert (good.exit_code, good.output) == (0, "valid ed25519 signature (POST /in)\n")
    bad = runner.invoke(
        verify_command, ["--scheme", "ed25519", "--secret", KEY_B["whpk"]], input=raw
    )
    assert bad.exit_code != 0
