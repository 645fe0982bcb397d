"""The official Python SDK (svix 2.9.1) managing Hookline through its Svix-compatible API:
applications, event types, endpoints, headers, paging and who may do what.

Each test drives the SDK's public methods against a real service on a free port, as a Svix
user's code would; the deliveries those objects lead to are in test_python_sdk_delivery.py.
"""

from __future__ import annotations

import asyncio
import base64
import secrets

import pytest
from svix.api import (
    ApplicationIn,
    ApplicationListOptions,
    ApplicationPatch,
    EndpointHeadersIn,
    EndpointHeadersPatchIn,
    EndpointIn,
    EndpointPatch,
    EventTypeIn,
    EventTypeListOptions,
    SvixAsync,
)
from svix.exceptions import HttpError, HTTPValidationError

from tests.conftest import Service
from tests.polling import eventually
from tests.svix.client import Exchanges, svix_client
from tests.svix.errors import refused

INVOICE_SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "amount": {"type": "integer"}},
    "required": ["id"],
    "examples": [{"id": "inv_1", "amount": 100}],
}


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def test_get_or_create_finds_the_application_by_uid(sdk: SvixAsync) -> None:
    wanted = ApplicationIn(name="Acme", uid="acme", metadata={"plan": "pro"})
    first = await sdk.application.get_or_create(wanted)
    again = await sdk.application.get_or_create(ApplicationIn(name="Other name", uid="acme"))
    assert again.id == first.id
    assert (first.name, first.uid, first.metadata) == ("Acme", "acme", {"plan": "pro"})
    assert (again.name, again.uid) == ("Acme", "acme"), "get_or_create must not change it"
    by_uid = await sdk.application.get("acme")
    by_id = await sdk.application.get(first.id)
    assert by_uid.id == by_id.id == first.id
    assert by_id.created_at <= by_id.updated_at


async def test_an_application_uid_is_unique(sdk: SvixAsync) -> None:
    await sdk.application.create(ApplicationIn(name="Acme", uid="acme"))
    await refused(sdk.application.create(ApplicationIn(name="Acme again", uid="acme")), 409)


async def test_an_unknown_application_is_404(sdk: SvixAsync) -> None:
    await refused(sdk.application.get("no-such-app"), 404)


async def test_applications_are_patched_upserted_and_deleted(sdk: SvixAsync) -> None:
    app = await sdk.application.create(ApplicationIn(name="Acme", uid="acme"))
    patched = await sdk.application.patch("acme", ApplicationPatch(metadata={"plan": "pro"}))
    assert (patched.id, patched.name, patched.metadata) == (app.id, "Acme", {"plan": "pro"})
    renamed = await sdk.application.upsert(app.id, ApplicationIn(name="Acme Inc", uid="acme"))
    assert (renamed.id, renamed.name) == (app.id, "Acme Inc")
    made = await sdk.application.upsert("globex", ApplicationIn(name="Globex", uid="globex"))
    assert (await sdk.application.get("globex")).id == made.id != app.id
    await sdk.application.delete("acme")
    await refused(sdk.application.get(app.id), 404)
    assert [a.id for a in (await sdk.application.list()).data] == [made.id]


async def test_a_bad_request_is_422_with_the_fields_at_fault(sdk: SvixAsync) -> None:
    app = await sdk.application.create(ApplicationIn(name="Acme"))
    error = await refused(sdk.endpoint.create(app.id, EndpointIn(url="not a url")), 422)
    assert isinstance(error, HTTPValidationError)
    assert [(d.loc[-1], bool(d.msg), bool(d.type)) for d in error.detail] == [("url", True, True)]


async def test_event_types_keep_their_schemas_and_names_are_unique(
    sdk: SvixAsync, service: Service, exchanges: Exchanges
) -> None:
    created = await sdk.event_type.create(
        EventTypeIn(name="invoice.paid", description="An invoice was paid",
                    schemas={"1": INVOICE_SCHEMA})
    )  # fmt: skip
    assert (created.name, created.description) == ("invoice.paid", "An invoice was paid")
    assert created.schemas == {"1": INVOICE_SCHEMA}
    assert created.deprecated is False
    fetched = await sdk.event_type.get("invoice.paid")
    assert fetched.schemas == {"1": INVOICE_SCHEMA}
    duplicate = EventTypeIn(name="invoice.paid", description="again")
    error = await refused(sdk.event_type.create(duplicate), 409)
    assert error.to_dict()["code"], "a refusal carries a machine-readable code"
    listed = await sdk.event_type.list(EventTypeListOptions(with_content=True))
    assert [t.schemas for t in listed.data if t.name == "invoice.paid"] == [{"1": INVOICE_SCHEMA}]
    _, key = await service.workspace("acme")
    own = svix_client(service.url, key, exchanges)
    try:  # the catalog is shared: an application's key reads it but does not change it
        assert (await own.event_type.get("invoice.paid")).name == "invoice.paid"
        await refused(own.event_type.create(EventTypeIn(name="x.y", description="d")), 401, 403)
    finally:
        await own._httpx_client.aclose()


async def test_endpoints_are_created_patched_fetched_and_deleted(sdk: SvixAsync) -> None:
    app = await sdk.application.create(ApplicationIn(name="Acme"))
    plain = await sdk.endpoint.create(app.id, EndpointIn(url="https://example.com/plain"))
    assert plain.channels is None or plain.channels == []
    assert plain.metadata == {} and plain.description == ""
    secret = new_secret()
    billing = await sdk.endpoint.create(
        app.id,
        EndpointIn(url="https://example.com/billing", description="Billing",
                   uid="billing-hook", channels=["project.1"], metadata={"team": "billing"},
                   secret=secret),
    )  # fmt: skip
    assert billing.id != plain.id
    assert (billing.url, billing.description, billing.uid) == (
        "https://example.com/billing", "Billing", "billing-hook",
    )  # fmt: skip
    assert billing.channels == ["project.1"] and billing.metadata == {"team": "billing"}
    assert (await sdk.endpoint.get_secret(app.id, billing.id)).key == secret
    assert (await sdk.endpoint.get(app.id, "billing-hook")).id == billing.id

    patched = await sdk.endpoint.patch(
        app.id, billing.id,
        EndpointPatch(description="Billing v2", channels=["project.2"], metadata={"team": "b2"}),
    )  # fmt: skip
    assert (patched.description, patched.channels) == ("Billing v2", ["project.2"])
    assert patched.metadata == {"team": "b2"} and patched.url == billing.url
    fetched = await sdk.endpoint.get(app.id, billing.id)
    assert (fetched.description, fetched.channels) == ("Billing v2", ["project.2"])
    listed = await sdk.endpoint.list(app.id)
    assert {e.id for e in listed.data} == {plain.id, billing.id} and listed.done

    await sdk.endpoint.delete(app.id, billing.id)
    await refused(sdk.endpoint.get(app.id, billing.id), 404)
    assert [e.id for e in (await sdk.endpoint.list(app.id)).data] == [plain.id]


async def test_an_endpoint_in_an_unknown_application_is_404(sdk: SvixAsync) -> None:
    endpoint = EndpointIn(url="https://example.com/hook")
    await refused(sdk.endpoint.create("no-such-app", endpoint), 404)


async def test_endpoint_headers_are_set_read_and_patched(sdk: SvixAsync) -> None:
    app = await sdk.application.create(ApplicationIn(name="Acme"))
    endpoint = await sdk.endpoint.create(app.id, EndpointIn(url="https://example.com/h"))
    assert (await sdk.endpoint.get_headers(app.id, endpoint.id)).headers == {}
    wanted = {"X-Team": "billing", "X-Region": "eu"}
    await sdk.endpoint.set_headers(app.id, endpoint.id, EndpointHeadersIn(headers=wanted))
    assert (await sdk.endpoint.get_headers(app.id, endpoint.id)).headers == wanted
    patch = EndpointHeadersPatchIn(headers={"X-Region": "us", "X-Extra": "1"})
    await sdk.endpoint.patch_headers(app.id, endpoint.id, patch)
    merged = await sdk.endpoint.get_headers(app.id, endpoint.id)
    assert merged.headers == {"X-Team": "billing", "X-Region": "us", "X-Extra": "1"}
    await sdk.endpoint.set_headers(app.id, endpoint.id, EndpointHeadersIn(headers={"X-Only": "1"}))
    assert (await sdk.endpoint.get_headers(app.id, endpoint.id)).headers == {"X-Only": "1"}


async def test_the_sdk_2x_header_fields_are_honoured(sdk: SvixAsync) -> None:
    """svix 2.x sends ``headers`` in ``EndpointIn`` and ``deleteHeaders`` in a headers patch;
    the open-source server's spec has neither (a patch there removes a header set to null,
    which the typed SDK cannot send)."""
    app = await sdk.application.create(ApplicationIn(name="Acme"))
    endpoint = await sdk.endpoint.create(
        app.id, EndpointIn(url="https://example.com/h", headers={"X-Keep": "1", "X-Drop": "2"})
    )
    created = await sdk.endpoint.get_headers(app.id, endpoint.id)
    assert created.headers == {"X-Keep": "1", "X-Drop": "2"}
    patch = EndpointHeadersPatchIn(headers={}, delete_headers=["X-Drop"])
    await sdk.endpoint.patch_headers(app.id, endpoint.id, patch)
    assert (await sdk.endpoint.get_headers(app.id, endpoint.id)).headers == {"X-Keep": "1"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_paging_through_300_applications_sees_each_once(sdk: SvixAsync) -> None:
    made: set[str] = set()
    for batch in range(0, 300, 20):  # 20 requests at a time on the one client
        names = (f"app {batch + n}" for n in range(20))
        creations = (sdk.application.create(ApplicationIn(name=name)) for name in names)
        made |= {app.id for app in await asyncio.gather(*creations)}
    seen: list[str] = []
    options = ApplicationListOptions(limit=120)
    for _ in range(10):  # 3 pages, and a 4th empty one if the server says done only then
        page = await sdk.application.list(options)
        assert len(page.data) <= 120
        seen += [a.id for a in page.data]
        if page.done:
            break
        assert page.iterator, "a page that is not the last gives an iterator"
        options = ApplicationListOptions(limit=120, iterator=page.iterator)
    else:
        raise AssertionError(f"still not done after 10 pages, {len(seen)} applications seen")
    assert len(seen) == len(set(seen)) == 300
    assert set(seen) == made


async def test_a_limit_above_250_is_refused(sdk: SvixAsync) -> None:
    assert len((await sdk.application.list(ApplicationListOptions(limit=250))).data) == 0
    await refused(sdk.application.list(ApplicationListOptions(limit=251)), 422)


async def test_health_answers(sdk: SvixAsync) -> None:
    await sdk.health.get()


async def test_a_wrong_token_is_401(service: Service, exchanges: Exchanges) -> None:
    stranger = svix_client(service.url, "not-a-token", exchanges)
    try:
        await refused(stranger.application.list(), 401)
    finally:
        await stranger._httpx_client.aclose()


async def test_an_operator_key_manages_every_application_until_revoked(
    service: Service, exchanges: Exchanges
) -> None:
    key = await service.ok("POST", "/v1/operator-keys", json={"name": "provisioning"})
    operator = svix_client(service.url, key["token"], exchanges)
    try:
        app = await operator.application.create(ApplicationIn(name="Acme"))
        assert (await operator.application.get(app.id)).name == "Acme"
        await operator.event_type.create(EventTypeIn(name="a.b", description="d"))
        await service.ok("DELETE", f"/v1/operator-keys/{key['id']}")

        async def answer() -> int:
            try:
                await operator.application.list()
            except HttpError as exc:
                return int(exc.status_code)
            return 200

        await eventually(answer, lambda status: status == 401, what="the revoked key refused")
    finally:
        await operator._httpx_client.aclose()


async def test_a_workspace_key_reaches_its_own_application_only(
    sdk: SvixAsync, service: Service, exchanges: Exchanges
) -> None:
    ws, key = await service.workspace("acme")
    other = await sdk.application.create(ApplicationIn(name="Other"))
    own = svix_client(service.url, key, exchanges)
    try:
        assert (await own.application.get(ws)).name == "acme"
        endpoint = await own.endpoint.create(ws, EndpointIn(url="https://example.com/own"))
        assert (await own.endpoint.get(ws, endpoint.id)).url == "https://example.com/own"
        await refused(own.application.get(other.id), 403, 404)
        await refused(own.endpoint.list(other.id), 403, 404)
    finally:
        await own._httpx_client.aclose()
