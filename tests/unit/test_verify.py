"""The receiver toolkit: round trips with the engine, the vectors, other libraries, the seeds'
own recipes, malformed input (fuzzed), captured requests and de-duplication."""

from __future__ import annotations

import codecs
import hashlib
import hmac
import json
import shutil
import subprocess
import sys
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook as StandardWebhook
from svix.webhooks import Webhook as SvixWebhook

from hookline.domain.signing import SCHEMES as SENT_SCHEMES
from hookline.domain.signing import sign_request
from hookline.verify import (
    SCHEMES,
    Deduplicator,
    InvalidSignature,
    MalformedRequest,
    MemoryDedupStore,
    TimestampOutOfRange,
    VerificationError,
    event_id,
    parse_event,
    parse_raw_http_request,
    verify,
    verify_and_parse,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "data" / "signatures.json").read_text(encoding="utf-8")
)
INPUTS = VECTORS["inputs"]
SW_SECRET: str = INPUTS["sw_secret"]
SW_OLD: str = INPUTS["sw_secret_old"]
RAW_SECRET: str = INPUTS["raw_secret"]
ED_SECRET: str = VECTORS["a_standard_webhooks"]["v1a_ed25519"]["whsk_seed32"]
ED_PUBLIC: str = VECTORS["a_standard_webhooks"]["v1a_ed25519"]["whpk"]
BODY: bytes = INPUTS["body_utf8"].encode()
TS: int = INPUTS["timestamp"]
TS_MS: int = INPUTS["timestamp_ms"]
URL = "https://receiver.example.com/hooks/orders?id=42&status=paid"


def secret_for(scheme: str) -> str:
    if scheme == "ed25519":
        return ED_SECRET
    return SW_SECRET if scheme in ("standard", "svix") else RAW_SECRET


def signed(
    scheme: str,
    secrets: list[str] | None = None,
    *,
    body: bytes = BODY,
    method: str = "POST",
    timestamp_ms: int = TS_MS,
) -> dict[str, str]:
    """Headers as the engine would send them (stripe, which Hookline never sends, by hand)."""
    secrets = secrets or [secret_for(scheme)]
    if scheme == "stripe":
        t = timestamp_ms // 1000
        mac = hmac.new(secrets[0].encode(), f"{t}.".encode() + body, hashlib.sha256)
        return {"Stripe-Signature": f"t={t},v1={mac.hexdigest()}"}
    return sign_request(
        [scheme], secrets, msg_id=INPUTS["msg_id"], timestamp_ms=timestamp_ms, body=body,
        method=method, url=URL,
    )  # fmt: skip


def check(scheme: str, headers: dict[str, str], secret: str | list[str] = "", **kw: Any) -> None:
    kw.setdefault("now", TS_MS / 1000)
    kw.setdefault("url", URL)
    body = kw.pop("body", BODY)
    verify(scheme, body, headers, secret or secret_for(scheme), **kw)


def test_verify_knows_every_scheme_the_engine_sends() -> None:
    assert set(SENT_SCHEMES) <= set(SCHEMES)


# ---------------------------------------------------------------------------------------------
# round trips and vectors


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "GET", "DELETE"])
def test_round_trip(scheme: str, method: str) -> None:
    check(scheme, signed(scheme, method=method), method=method)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_round_trip_with_str_body_and_odd_header_case(scheme: str) -> None:
    body = INPUTS["utf8_body"]
    headers = {name.swapcase(): value for name, value in signed(scheme, body=body.encode()).items()}
    check(scheme, headers, body=body)


VECTOR_CASES = [
    ("standard", "a_standard_webhooks", "single", "POST"),
    ("standard", "a_standard_webhooks", "utf8_body", "POST"),
    ("svix", "a_standard_webhooks", "svix_headers", "POST"),
    ("github", "b_github", "single", "POST"),
    ("sha256-hex", "c_plain", "single", "POST"),
    ("timestamped", "d_x_webhook_signature", "post", "POST"),
    ("timestamped", "d_x_webhook_signature", "get", "GET"),
    ("timestamped", "d_x_webhook_signature", "delete", "DELETE"),
    ("stripe", "e_stripe", "single", "POST"),
]


@pytest.mark.parametrize(("scheme", "section", "name", "method"), VECTOR_CASES)
def test_vectors_verify(scheme: str, section: str, name: str, method: str) -> None:
    case = VECTORS[section][name]
    body = b"" if method in ("GET", "DELETE") else INPUTS[case["body"][7:]].encode()
    url = case.get("url")
    check(scheme, case["headers"], case["secret"], body=body, method=method, url=url)
    tampered = {"url": url + "0"} if url else {"body": body + b" "}
    with pytest.raises(InvalidSignature):
        check(scheme, case["headers"], case["secret"], method=method, **({"url": url} | tampered))


def test_github_docs_vector() -> None:
    case = VECTORS["b_github"]["published_github_docs"]
    check("github", case["headers"], case["secret"], body=case["body_utf8"])


def test_hub_sha1_vector() -> None:
    headers = {"X-Hub-Signature": VECTORS["b_github"]["single"]["headers"]["X-Hub-Signature"][5:]}
    check("hub-sha1", headers)


def test_rotation_any_secret_matches_any_signature() -> None:
    headers = VECTORS["a_standard_webhooks"]["rotation"]["headers"]
    check("standard", headers, SW_SECRET)
    check("standard", headers, SW_OLD)
    check("standard", headers, ["whsec_" + "A" * 32, SW_OLD])
    check("standard", signed("standard"), [SW_OLD, SW_SECRET])
    check("github", signed("github"), ["old", RAW_SECRET])
    with pytest.raises(InvalidSignature):
        check("standard", signed("standard", [SW_OLD]), ["whsec_" + "A" * 32, SW_SECRET])


# ---------------------------------------------------------------------------------------------
# rejections


@pytest.mark.parametrize("scheme", SCHEMES)
def test_tampered_body_and_wrong_secret(scheme: str) -> None:
    headers = signed(scheme)
    with pytest.raises(InvalidSignature):
        check(scheme, headers, body=BODY.replace(b"contact", b"contacT"))
    wrong = "whsec_" + "B" * 32 if scheme in ("standard", "svix") else RAW_SECRET + "!"
    wrong = "whsk_" + "B" * 43 + "=" if scheme == "ed25519" else wrong
    with pytest.raises(InvalidSignature) as caught:
        check(scheme, headers, wrong)
    assert caught.value.status == 401


def test_timestamped_get_signature_covers_the_url() -> None:
    headers = signed("timestamped", method="GET")
    with pytest.raises(InvalidSignature):
        check("timestamped", headers, method="GET", url=URL.replace("42", "43"))


@pytest.mark.parametrize("scheme", ["standard", "svix", "timestamped", "stripe"])
@pytest.mark.parametrize(("offset", "word"), [(-301, "old"), (301, "future")])
def test_stale_and_future_timestamps(scheme: str, offset: int, word: str) -> None:
    headers = signed(scheme, timestamp_ms=TS * 1000 + offset * 1000)
    with pytest.raises(TimestampOutOfRange, match=word) as caught:
        check(scheme, headers, now=TS)
    assert caught.value.status == 401
    check(scheme, headers, now=TS, tolerance=302)
    check(scheme, headers, now=TS, tolerance=None)


def test_tolerance_is_inclusive_and_timestamped_uses_milliseconds() -> None:
    check("standard", signed("standard"), now=TS + 300)
    check("timestamped", signed("timestamped"), now=TS_MS / 1000 + 300)
    with pytest.raises(TimestampOutOfRange):
        check("timestamped", signed("timestamped"), now=TS_MS / 1000 + 300.01)


def test_now_defaults_to_the_clock() -> None:
    headers = signed("standard", timestamp_ms=int(time.time() * 1000))
    verify("standard", BODY, headers, SW_SECRET)
    with pytest.raises(TimestampOutOfRange):
        verify("standard", BODY, signed("standard"), SW_SECRET)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scheme": "nope"}, "unknown signature scheme"),
        ({"secret": ""}, "secret"),
        ({"secret": []}, "secret"),
        ({"tolerance": 0}, "tolerance"),
        ({"tolerance": -5}, "tolerance"),
        ({"scheme": "standard", "secret": RAW_SECRET}, "whsec_"),
        ({"scheme": "standard", "secret": "whpk_AAAA"}, "32"),
        ({"scheme": "timestamped", "method": "GET", "url": None}, "url="),
    ],
)
def test_misuse_raises_value_error(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"scheme": "timestamped", "secret": RAW_SECRET, "url": URL}
    args |= kwargs
    with pytest.raises(ValueError, match=message):
        verify(args.pop("scheme"), BODY, signed("timestamped"), args.pop("secret"), **args)


GOOD = {scheme: signed(scheme) for scheme in SCHEMES}
SIG64 = "0" * 64
MALFORMED: list[tuple[str, dict[str, str]]] = [
    ("standard", {}),
    ("standard", GOOD["standard"] | {"webhook-id": " "}),
    ("standard", GOOD["standard"] | {"webhook-timestamp": "soon"}),
    ("standard", GOOD["standard"] | {"webhook-timestamp": "-1674087231"}),
    ("standard", GOOD["standard"] | {"webhook-timestamp": "1674087231.5"}),
    # int() would accept these Arabic-Indic digits
    ("standard", GOOD["standard"] | {"webhook-timestamp": "\u0661\u0666\u0667\u0664"}),
    ("standard", GOOD["standard"] | {"webhook-timestamp": "9" * 5000}),
    ("standard", GOOD["standard"] | {"webhook-signature": "v1"}),
    ("standard", GOOD["standard"] | {"webhook-signature": "v1,"}),
    ("standard", GOOD["standard"] | {"webhook-signature": ",abc"}),
    ("standard", GOOD["standard"] | {"webhook-signature": "v1,not*base64"}),
    ("standard", GOOD["standard"] | {"webhook-signature": "v1,é"}),
    ("standard", GOOD["standard"] | {"webhook-signature": "v2,AAAA"}),
    ("svix", GOOD["standard"]),
    ("svix", GOOD["svix"] | {"svix-signature": "v1,A"}),
    ("github", GOOD["hub-sha1"]),
    ("github", {"X-Hub-Signature-256": SIG64}),
    ("github", {"X-Hub-Signature-256": "sha1=" + SIG64}),
    ("github", {"X-Hub-Signature-256": "sha256=" + SIG64[:-1]}),
    ("github", {"X-Hub-Signature-256": "sha256=" + "g" * 64}),
    ("github", {"X-Hub-Signature-256": "sha256=" + "\u0660" * 64}),
    ("hub-sha1", {"X-Hub-Signature": "sha1=" + "0" * 40}),
    ("hub-sha1", {"X-Hub-Signature": "0" * 39}),
    ("sha256-hex", {"X-Signature": SIG64 + "0"}),
    ("sha256-hex", {"X-Signature": "0x" + SIG64[2:]}),
    ("timestamped", {"X-Webhook-Signature": SIG64}),
    ("timestamped", {"X-Webhook-Signature": f"sha256={SIG64}"}),
    ("timestamped", {"X-Webhook-Signature": f"t=1,t=2,sha256={SIG64}"}),
    ("timestamped", {"X-Webhook-Signature": "t=1674087231123"}),
    ("timestamped", {"X-Webhook-Signature": f"t=abc,sha256={SIG64}"}),
    ("timestamped", {"X-Webhook-Signature": f"t=1;sha256={SIG64}"}),
    ("timestamped", {"X-Webhook-Signature": "t=1,sha256=xyz"}),
    ("stripe", {"Stripe-Signature": f"t=1,v0={SIG64}"}),
    ("stripe", {"Stripe-Signature": ""}),
]


@pytest.mark.parametrize(("scheme", "headers"), MALFORMED)
def test_malformed_headers(scheme: str, headers: dict[str, str]) -> None:
    with pytest.raises(MalformedRequest) as caught:
        check(scheme, headers)
    assert caught.value.status == 400


def test_unsupported_method_for_timestamped() -> None:
    with pytest.raises(MalformedRequest, match="HEAD"):
        check("timestamped", signed("timestamped"), method="HEAD")


# Header values that look roughly right, so that the fuzzer gets past the first checks.
_hexish = st.text(alphabet="0123456789abcdefABCDEFxg=, ", max_size=70)
_b64ish = st.text(alphabet="ABCab019+/=_-,. é", max_size=50)
HEADER_VALUES = st.one_of(
    st.text(),
    st.builds(lambda ts, s: f"t={ts},sha256={s}", st.text(max_size=20), _hexish),
    st.builds(lambda ts, s: f"t={ts},v1={s}", st.integers(), _hexish),
    st.builds(lambda v, s: f"{v},{s}", st.sampled_from(["v1", "v1a", "v2", ""]), _b64ish),
    st.builds(lambda s: f"sha256={s}", _hexish),
    _hexish,
)
HEADER_NAMES = [
    "webhook-id", "webhook-timestamp", "webhook-signature", "svix-id", "svix-timestamp",
    "svix-signature", "X-Hub-Signature", "X-Hub-Signature-256", "X-Signature",
    "X-Webhook-Signature", "Stripe-Signature",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    scheme=st.sampled_from(SCHEMES),
    headers=st.dictionaries(st.sampled_from(HEADER_NAMES), HEADER_VALUES),
    body=st.binary(max_size=64),
    method=st.sampled_from(["POST", "GET", "DELETE", "PUT", "HEAD", "bogus"]),
    secrets=st.lists(
        st.sampled_from([SW_SECRET, SW_OLD, INPUTS["stripe_secret"], ED_PUBLIC]), min_size=1
    ),
)
def test_fuzzed_headers_only_raise_verification_error(
    scheme: str, headers: dict[str, str], body: bytes, method: str, secrets: list[str]
) -> None:
    if scheme == "ed25519":  # it takes Ed25519 keys only
        secrets = [ED_PUBLIC]
    try:
        verify(scheme, body, headers, secrets, method=method, url=URL, now=TS)
    except VerificationError:
        pass


@settings(max_examples=300, deadline=None)
@given(
    body=st.one_of(st.binary(max_size=80), st.text(max_size=80)),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", ""]),
)
def test_fuzzed_bodies_only_raise_verification_error(body: bytes | str, content_type: str) -> None:
    try:
        parse_event(body, {"Content-Type": content_type})
    except VerificationError:
        pass


# ---------------------------------------------------------------------------------------------
# other implementations and the seeds' own recipes


class _FrozenDatetime(datetime):
    """The standardwebhooks library reads the clock itself; pin it to the vectors' time."""

    @classmethod
    def now(cls, tz: Any = None) -> _FrozenDatetime:
        return cls.fromtimestamp(TS, tz=tz)


@pytest.fixture
def frozen_library_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import standardwebhooks.webhooks

    monkeypatch.setattr(standardwebhooks.webhooks, "datetime", _FrozenDatetime)


@pytest.mark.parametrize("name", ["single", "utf8_body"])
@pytest.mark.parametrize("library", [StandardWebhook, SvixWebhook])
def test_library_signatures_verify_with_ours(name: str, library: type[Any]) -> None:
    case = VECTORS["a_standard_webhooks"][name]
    body = INPUTS[case["body"][7:]]
    theirs = library(SW_SECRET).sign(INPUTS["msg_id"], datetime.fromtimestamp(TS, tz=UTC), body)
    assert theirs == case["headers"]["webhook-signature"]
    prefix = "svix" if library is SvixWebhook else "webhook"
    headers = {f"{prefix}-id": INPUTS["msg_id"], f"{prefix}-timestamp": str(TS)}
    check(
        prefix.replace("webhook", "standard"), headers | {f"{prefix}-signature": theirs}, body=body
    )


def test_published_upstream_vector_both_ways() -> None:
    case = VECTORS["a_standard_webhooks"]["published_upstream"]
    when = datetime.fromtimestamp(case["timestamp"], tz=UTC)
    theirs = StandardWebhook(case["secret"]).sign(case["msg_id"], when, case["body_utf8"])
    assert theirs == case["webhook-signature"]
    headers = {
        "webhook-id": case["msg_id"],
        "webhook-timestamp": str(case["timestamp"]),
        "webhook-signature": theirs,
    }
    check("standard", headers, case["secret"], body=case["body_utf8"], now=case["timestamp"])


@pytest.mark.usefixtures("frozen_library_clock")
@pytest.mark.parametrize("name", ["single", "rotation", "utf8_body", "svix_headers"])
def test_our_signatures_verify_with_the_libraries(name: str) -> None:
    case = VECTORS["a_standard_webhooks"][name]
    body = INPUTS[case["body"][7:]]
    for secret in case.get("secrets", [case.get("secret")]):
        if name == "svix_headers":
            SvixWebhook(secret).verify(body, signed("svix", case.get("secrets")))
        else:
            headers = signed("standard", case.get("secrets"), body=body.encode())
            assert StandardWebhook(secret).verify(body, headers) == json.loads(body)
            SvixWebhook(secret).verify(body, headers)  # svix also reads webhook-* headers


def test_our_fresh_signatures_verify_with_the_libraries() -> None:
    secret = "whsec_" + "Zm9vYmFy" * 4
    headers = signed("standard", [secret], timestamp_ms=int(time.time() * 1000))
    StandardWebhook(secret).verify(BODY, headers)
    svix_headers = signed("svix", [secret], timestamp_ms=int(time.time() * 1000))
    SvixWebhook(secret).verify(BODY, svix_headers)


def test_ed25519_v1a_vector() -> None:
    case = VECTORS["a_standard_webhooks"]["v1a_ed25519"]
    check("standard", case["headers"], case["whpk"])
    combined = case["headers"] | {"webhook-signature": case["combined_header"]}
    check("standard", combined, case["whpk"])
    check("standard", combined, SW_SECRET)
    check("standard", combined, [SW_OLD, case["whpk"]])
    with pytest.raises(InvalidSignature):
        check("standard", case["headers"], case["whpk"], body=BODY + b"!")
    with pytest.raises(InvalidSignature):  # a v1a entry never matches an HMAC secret
        check("standard", case["headers"], SW_SECRET)


def test_ed25519_vector_matches_its_seed() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    case = VECTORS["a_standard_webhooks"]["v1a_ed25519"]
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(case["seed_hex"]))
    signature = key.sign(f"{INPUTS['msg_id']}.{TS}.".encode() + BODY)
    expected = case["headers"]["webhook-signature"][4:]
    assert codecs.encode(signature, "base64").decode().replace("\n", "") == expected


def test_seed_000_python_recipe_equals_hub_sha1() -> None:
    obj = {"task": {"id": 7, "status": "complete", "name": "José 🚀"}, "ok": True, "n": None}
    body = json.dumps(obj).encode()  # what Hookline sends: byte-identical to json.dumps
    your_secret = "diffgram secret"
    header = sign_request(
        ["hub-sha1"], [your_secret], msg_id="m", timestamp_ms=0, body=body, method="POST", url=URL
    )["X-Hub-Signature"]
    computed_signature = hmac.new(
        codecs.encode(your_secret),
        msg=codecs.encode(json.dumps(json.loads(body))),
        digestmod=hashlib.sha1,
    ).hexdigest()
    assert computed_signature == header
    verify("hub-sha1", body, {"X-Hub-Signature": header}, your_secret)


def test_seed_001_php_recipe_equals_x_signature() -> None:
    def hash_hmac(algo: str, data: bytes, key: str) -> str:  # PHP: lowercase hex by default
        return hmac.new(key.encode(), data, algo).hexdigest()

    received = signed("sha256-hex")["X-Signature"]
    assert hmac.compare_digest(hash_hmac("sha256", BODY, RAW_SECRET), received)  # hash_equals


NODE = shutil.which("node")
NODE_SCRIPT = """
const crypto = require('crypto');
const [secret, t, message] = process.argv.slice(1);
process.stdout.write(crypto.createHmac('sha256', secret).update(t + '.' + message).digest('hex'));
"""


@pytest.mark.skipif(NODE is None, reason="node is not on PATH; the JS recipe needs it")
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_seed_004_node_recipe_equals_x_webhook_signature(method: str) -> None:
    body = INPUTS["utf8_body"]
    header = signed("timestamped", body=body.encode(), method=method)["X-Webhook-Signature"]
    t, _, signature = header.partition(",sha256=")
    message = body if method == "POST" else URL
    assert NODE is not None
    argv = [NODE, "-e", NODE_SCRIPT, RAW_SECRET, t.removeprefix("t="), message]
    result = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30)
    assert result.stdout == signature


# Each receiver-side module on its own: none may pull in a server dependency.
@pytest.mark.parametrize(
    "module",
    ["hookline.verify", "hookline.rawhttp", "hookline.dedup", "hookline.verify_errors"],
)
def test_verify_imports_no_server_dependency(module: str) -> None:
    code = (
        f"import sys, {module}, hookline.domain.signing;"
        "print(','.join(m for m in ('aiohttp', 'fastapi', 'starlette', 'pydantic', 'flask',"
        " 'cryptography', 'sqlalchemy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


# ---------------------------------------------------------------------------------------------
# parsing events and captured requests


def test_verify_and_parse_json_and_form_bodies() -> None:
    event = verify_and_parse("github", BODY, signed("github"), RAW_SECRET)
    assert event == json.loads(BODY)
    form = b"payload=" + urllib.parse.quote_plus(BODY.decode()).encode()
    headers = signed("github", body=form) | {"Content-Type": "application/x-www-form-urlencoded"}
    assert verify_and_parse("github", form, headers, RAW_SECRET) == json.loads(BODY)


def test_verify_and_parse_checks_before_parsing() -> None:
    with pytest.raises(InvalidSignature):
        verify_and_parse("github", b"not json", signed("github"), RAW_SECRET)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{", "application/json"),
        (b"\xff", "application/json"),
        (b"[" * 100_000, "application/json"),
        (b"other=1", "application/x-www-form-urlencoded"),
        (b"payload=%7B", "application/x-www-form-urlencoded"),
    ],
)
def test_parse_event_rejects_bad_bodies(body: bytes, content_type: str) -> None:
    with pytest.raises(MalformedRequest):
        parse_event(body, {"content-type": content_type})


def test_parse_event_empty_body_is_none() -> None:
    assert parse_event(b"", {}) is None


def test_event_id() -> None:
    assert event_id(signed("standard")) == INPUTS["msg_id"]
    assert event_id({"Svix-Id": "a"}) == "a"
    assert event_id({"X-Hookline-Event-Id": " evt_1 "}) == "evt_1"
    assert event_id({"webhook-id": "", "x-hookline-event-id": "b"}) == "b"
    assert event_id({}) is None


def raw_request(headers: dict[str, str], body: bytes, *, eol: bytes = b"\r\n") -> bytes:
    lines = [b"POST /hooks?x=1 HTTP/1.1", *(f"{k}: {v}".encode() for k, v in headers.items())]
    return eol.join(lines) + eol + eol + body


def test_parse_raw_request_then_verify() -> None:
    headers = signed("standard") | {"Host": "example.com", "Content-Length": str(len(BODY))}
    method, target, parsed, body = parse_raw_http_request(raw_request(headers, BODY + b"\n"))
    assert (method, target, body) == ("POST", "/hooks?x=1", BODY)
    assert parsed["webhook-id"] == INPUTS["msg_id"]
    check("standard", parsed, body=body)


def test_parse_raw_request_chunked_lf_and_repeated_headers() -> None:
    chunked = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"
    headers = {"Transfer-Encoding": "chunked", "X-A": "1"}
    raw = raw_request(headers, chunked).replace(b"X-A: 1", b"X-A: 1\r\nx-a: 2")
    request = parse_raw_http_request(raw)
    assert request.body == b"hello world"
    assert request.headers["X-A"] == "1, 2"
    assert parse_raw_http_request(raw_request({"A": "b"}, b"xy", eol=b"\n")).body == b"xy"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"POST / HTTP/1.1\r\nHost: x\r\n",
        b"POST /\r\n\r\n",
        b"POST / SPDY/3\r\n\r\n",
        b"POST / HTTP/1.1\r\nno colon\r\n\r\n",
        b"POST / HTTP/1.1\r\n Folded: x\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort",
        b"POST / HTTP/1.1\r\nContent-Length: ten\r\n\r\nshort",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhi\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello",
    ],
)
def test_parse_raw_request_rejects_garbage(raw: bytes) -> None:
    with pytest.raises(MalformedRequest):
        parse_raw_http_request(raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120) | st.builds(lambda b: b"POST / HTTP/1.1\r\n" + b, st.binary()))
def test_fuzzed_raw_requests_only_raise_verification_error(raw: bytes) -> None:
    try:
        parse_raw_http_request(raw)
    except VerificationError:
        pass


# ---------------------------------------------------------------------------------------------
# de-duplication


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_memory_store_expires_entries() -> None:
    clock = FakeClock()
    store = MemoryDedupStore(clock=clock)
    assert store.add_if_absent("a", 10)
    assert not store.add_if_absent("a", 10)
    clock.now += 10
    assert store.add_if_absent("a", 10)
    assert store.add_if_absent("b", 100)
    clock.now += 50  # "a" expired behind nothing, "b" still fresh
    assert len(store) == 2
    assert store.add_if_absent("c", 1)
    assert len(store) == 2
    assert not store.add_if_absent("b", 100)


def test_memory_store_is_bounded_and_forgets() -> None:
    store = MemoryDedupStore(max_size=3)
    for key in "abcd":
        assert store.add_if_absent(key, 60)
    assert len(store) == 3
    assert store.add_if_absent("a", 60)  # evicted as the oldest
    store.discard("d")
    assert store.add_if_absent("d", 60)
    with pytest.raises(ValueError):
        MemoryDedupStore(max_size=0)


def test_deduplicator() -> None:
    clock = FakeClock()
    dedup = Deduplicator(MemoryDedupStore(clock=clock), ttl=60)
    assert not dedup.seen("evt_1")
    assert dedup.seen("evt_1")
    assert not dedup.seen("evt_2")
    dedup.forget("evt_1")
    assert not dedup.seen("evt_1")
    clock.now += 61
    assert not dedup.seen("evt_2")
    assert Deduplicator().ttl == 24 * 3600
