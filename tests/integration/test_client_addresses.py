"""Client addresses come from the connection, or from ``X-Forwarded-For`` only when a trusted
proxy sends it; the per-address limits (dashboard sign-in, failed bearer tokens) use them."""

from __future__ import annotations

from typing import Any

from tests.conftest import Service
from tests.integration.dashboard_client import DashboardClient, browserless
from tests.integration.engine_helpers import running_service as running

ATTACKER, BYSTANDER = "203.0.113.7", "198.51.100.9"


def _db(tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path}/h.db"


async def _wrong_sign_ins(visitor: DashboardClient, count: int, rotate: bool) -> None:
    page = await visitor.get("/login")
    for n in range(count):
        if rotate:
            visitor.headers["X-Forwarded-For"] = f"192.0.2.{n + 1}"
        answer = await visitor.post("/login", {"token": "hla_wrong", "csrf_token": page.csrf()})
        assert answer.status == 401, n


async def test_untrusted_forwarded_for_does_not_reset_the_sign_in_limit(tmp_path: Any) -> None:
    async with browserless() as http, running(_db(tmp_path), worker=False) as svc:
        visitor = DashboardClient(http, svc.url)
        await _wrong_sign_ins(visitor, 10, rotate=True)
        visitor.headers["X-Forwarded-For"] = "192.0.2.200"
        answer = await visitor.sign_in(svc.admin_token)
        assert answer.status == 429 and "Too many sign-in attempts" in answer.text


async def test_a_trusted_proxy_forwards_the_client_address(tmp_path: Any) -> None:
    # A CIDR with host bits set is the network it names (uvicorn alone would not match it).
    async with (
        browserless() as http,
        running(
            f"sqlite:///{tmp_path}/h.db", worker=False, trusted_proxies=("127.0.0.1/8",)
        ) as svc,
    ):
        attacker = DashboardClient(http, svc.url, headers={"X-Forwarded-For": ATTACKER})
        await _wrong_sign_ins(attacker, 10, rotate=False)
        assert (await attacker.sign_in(svc.admin_token)).status == 429
        bystander = DashboardClient(http, svc.url, headers={"X-Forwarded-For": BYSTANDER})
        assert (await bystander.sign_in(svc.admin_token)).status == 303


async def test_forwarded_proto_is_believed_only_from_a_trusted_proxy(tmp_path: Any) -> None:
    headers = {"Host": "hookline.example", "X-Forwarded-Proto": "https"}
    async with browserless() as http:
        async with running(_db(tmp_path), worker=False) as svc:
            page = await DashboardClient(http, svc.url, headers=dict(headers)).get("/login")
            assert not page.cookies["hookline_session"]["secure"]
            assert "__Host-hookline_session" not in page.cookies
        async with running(
            f"sqlite:///{tmp_path}/h.db", worker=False, trusted_proxies=("127.0.0.1",)
        ) as svc:
            visitor = DashboardClient(http, svc.url, headers=dict(headers))
            page = await visitor.get("/login")
            assert page.cookies["__Host-hookline_session"]["secure"]
            assert (await visitor.sign_in(svc.admin_token)).status == 303


async def _get(svc: Service, token: str, address: str | None = None) -> tuple[int, Any, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    if address:
        headers["X-Forwarded-For"] = address
    async with svc.http.get(svc.url + "/v1/workspaces", headers=headers) as r:
        return r.status, await r.json(), r.headers.get("Retry-After")


async def test_failed_bearer_tokens_are_limited_per_address(tmp_path: Any) -> None:
    limits = {"auth_failures_per_minute": 5, "trusted_proxies": ("127.0.0.1",)}
    async with running(_db(tmp_path), worker=False, **limits) as svc:
        good = svc.admin_token
        for _ in range(4):
            assert (await _get(svc, "hla_wrong", ATTACKER))[0] == 401
        for _ in range(20):  # successes are not counted
            assert (await _get(svc, good, ATTACKER))[0] == 200
        assert (await _get(svc, "hla_wrong", ATTACKER))[0] == 401
        status, body, retry_after = await _get(svc, "hla_wrong", ATTACKER)
        assert (status, body["error"]["code"]) == (429, "too_many_failed_authentications")
        assert retry_after is not None and 1 <= int(retry_after) <= 60
        # Until the minute has passed the address is refused before its token is looked at.
        assert (await _get(svc, good, ATTACKER))[0] == 429
        assert (await _get(svc, good, BYSTANDER))[0] == 200
        assert (await _get(svc, "hla_wrong", BYSTANDER))[0] == 401


async def test_untrusted_forwarded_for_does_not_reset_the_bearer_limit(tmp_path: Any) -> None:
    async with running(
        f"sqlite:///{tmp_path}/h.db", worker=False, auth_failures_per_minute=3
    ) as svc:
        for n in range(3):
            assert (await _get(svc, "hla_wrong", f"192.0.2.{n + 1}"))[0] == 401
        assert (await _get(svc, svc.admin_token, "192.0.2.99"))[0] == 429
