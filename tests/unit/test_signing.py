"""The engine's signatures, checked against the shared known-answer vectors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from hookline.domain.signing import (
    ASYMMETRIC_SCHEMES,
    SCHEMES,
    generate_secret,
    sign_request,
    validate_schemes,
    validate_secret,
)
from hookline.errors import SigningError

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "data" / "signatures.json").read_text(encoding="utf-8")
)
INPUTS = VECTORS["inputs"]
URL = "https://receiver.example.com/hooks"


def body_of(case: dict[str, Any]) -> bytes:
    """A vector's body: ``inputs.<name>`` points into the inputs, anything else is literal."""
    ref = case.get("body", case.get("body_utf8", ""))
    text = INPUTS[ref.removeprefix("inputs.")] if ref.startswith("inputs.") else ref
    return str(text).encode("utf-8")


def sign(schemes: list[str], secrets: list[str], case: dict[str, Any], **overrides: Any) -> Any:
    args: dict[str, Any] = {
        "msg_id": INPUTS["msg_id"],
        "timestamp_ms": INPUTS["timestamp_ms"],
        "body": body_of(case),
        "method": case.get("method", "POST"),
        "url": case.get("url", URL),
    }
    return sign_request(schemes, secrets, **(args | overrides))


# (section, case, scheme) for every vector Hookline must reproduce byte for byte
HEADER_VECTORS = [
    ("a_standard_webhooks", "single", "standard"),
    ("a_standard_webhooks", "utf8_body", "standard"),
    ("a_standard_webhooks", "svix_headers", "svix"),
    ("b_github", "single", "github"),
    ("b_github", "published_github_docs", "github"),
    ("c_plain", "single", "sha256-hex"),
    ("d_x_webhook_signature", "post", "timestamped"),
    ("d_x_webhook_signature", "get", "timestamped"),
    ("d_x_webhook_signature", "delete", "timestamped"),
]


@pytest.mark.parametrize(("section", "name", "scheme"), HEADER_VECTORS)
def test_vector(section: str, name: str, scheme: str) -> None:
    case = VECTORS[section][name]
    assert sign([scheme], [case["secret"]], case) == case["headers"]


def test_rotation_vector_signs_with_every_secret() -> None:
    case = VECTORS["a_standard_webhooks"]["rotation"]
    headers = sign(["standard"], case["secrets"], case)
    assert headers == case["headers"]
    assert len(headers["webhook-signature"].split(" ")) == 2


def test_published_standard_webhooks_vector() -> None:
    case = VECTORS["a_standard_webhooks"]["published_upstream"]
    headers = sign(
        ["standard"], [case["secret"]], case, msg_id=case["msg_id"],
        timestamp_ms=case["timestamp"] * 1000 + 999,
    )  # fmt: skip
    assert headers["webhook-signature"] == case["webhook-signature"]
    assert headers["webhook-timestamp"] == str(case["timestamp"])


def test_hub_sha1_is_the_github_sha1_without_prefix() -> None:
    case = VECTORS["b_github"]["single"]
    headers = sign(["hub-sha1"], [case["secret"]], case)
    assert headers == {"X-Hub-Signature": case["headers"]["X-Hub-Signature"].removeprefix("sha1=")}


def test_single_signature_schemes_use_only_the_current_secret() -> None:
    case = VECTORS["b_github"]["single"]
    headers = sign(["github", "sha256-hex"], [case["secret"], "an older secret"], case)
    assert headers == case["headers"] | VECTORS["c_plain"]["single"]["headers"]


def test_github_key_is_the_whole_whsec_string() -> None:
    secret = INPUTS["sw_secret"]
    expected = hmac.new(secret.encode(), body_of({}), hashlib.sha256).hexdigest()
    assert sign(["github"], [secret], {})["X-Hub-Signature-256"] == "sha256=" + expected


def test_several_schemes_at_once() -> None:
    case = VECTORS["a_standard_webhooks"]["single"]
    headers = sign(["standard", "svix", "timestamped"], [case["secret"]], case)
    assert set(headers) == {
        "webhook-id", "webhook-timestamp", "webhook-signature",
        "svix-id", "svix-timestamp", "svix-signature", "X-Webhook-Signature",
    }  # fmt: skip
    assert headers["svix-signature"] == headers["webhook-signature"]


@pytest.mark.parametrize("method", ["GET", "DELETE", "get"])
def test_get_and_delete_sign_the_url_not_the_body(method: str) -> None:
    case = VECTORS["d_x_webhook_signature"]["get"]
    base = sign(["timestamped"], [case["secret"]], case, method=method)
    assert base == sign(["timestamped"], [case["secret"]], case, method=method, body=b"ignored")
    other = sign(["timestamped"], [case["secret"]], case, method=method, url=case["url"] + "&x=1")
    assert base != other


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_put_and_patch_sign_the_body(method: str) -> None:
    case = VECTORS["d_x_webhook_signature"]["post"]
    assert sign(["timestamped"], [case["secret"]], case, method=method) == case["headers"]


def test_timestamped_refuses_other_methods() -> None:
    with pytest.raises(SigningError, match="HEAD"):
        sign(["timestamped"], ["s"], {}, method="HEAD")


def test_validate_schemes_dedupes_in_order() -> None:
    assert validate_schemes(["svix", "standard", "svix"]) == ("svix", "standard")
    assert validate_schemes(list(SCHEMES)[:2]) == ("standard", "svix")


@pytest.mark.parametrize("schemes", [["github", "hub-sha1"], ["hub-sha1", "standard", "github"]])
def test_github_with_hub_sha1_is_refused(schemes: list[str]) -> None:
    with pytest.raises(SigningError, match="X-Hub-Signature"):
        validate_schemes(schemes)
    with pytest.raises(SigningError):
        sign(schemes, ["secret"], {})


@pytest.mark.parametrize("schemes", [["nope"], ["standard", "stripe"], "standard"])
def test_unknown_schemes_are_refused(schemes: Any) -> None:
    with pytest.raises(SigningError):
        validate_schemes(schemes)


def whsec(n: int) -> str:
    return "whsec_" + base64.b64encode(bytes(range(n))).decode()


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "correct horse battery staple",
        "whsec_",
        "whsec_not base64!",
        "whsec_AAEC-_",  # urlsafe alphabet
        whsec(23),
        whsec(65),
        "WHSEC_" + whsec(32)[6:],
    ],
)
@pytest.mark.parametrize("scheme", ["standard", "svix"])
def test_bad_standard_secrets_are_refused(secret: str, scheme: str) -> None:
    with pytest.raises(SigningError):
        validate_secret(secret, ["github", scheme])
    with pytest.raises(SigningError):
        sign([scheme], [INPUTS["sw_secret"], secret], {})


@pytest.mark.parametrize("secret", [whsec(24), whsec(64), whsec(32).rstrip("=")])
def test_good_standard_secrets(secret: str) -> None:
    validate_secret(secret, ["standard"])


@pytest.mark.parametrize("scheme", ["github", "hub-sha1", "sha256-hex", "timestamped"])
def test_hex_schemes_take_any_non_empty_secret(scheme: str) -> None:
    validate_secret("x", [scheme])
    validate_secret("whsec_but not base64", [scheme])
    with pytest.raises(SigningError, match="empty"):
        validate_secret("", [scheme])


def test_no_secret_is_refused() -> None:
    with pytest.raises(SigningError):
        sign(["github"], [], {})


def test_generate_secret() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    validate_secret(secret, [s for s in SCHEMES if s not in ASYMMETRIC_SCHEMES])
    assert generate_secret() != secret
