"""The customer portal's storage on SQLite and PostgreSQL: links (every option, the broker kinds
they allow included) found by their token's hash (or by id, within their workspace) while
unexpired, revoked per workspace, forgotten once expired; the workspaces' themes replaced whole;
the audit log read newest first, a page at a time."""

from __future__ import annotations

from hookline.domain.ids import new_id
from hookline.domain.models import AuditEntry, PortalLink
from hookline.store import Store
from tests.contract.test_store import T0, workspace

HOUR = 3600.0


def new_link(ws: str, token_hash: str, expires_at: float = T0 + HOUR) -> PortalLink:
    return PortalLink(new_id("pl"), ws, token_hash, T0, expires_at, "admin")


async def test_a_link_is_found_by_its_hash_until_it_expires(store: Store, ws: str) -> None:
    full = PortalLink(
        new_id("pl"), ws, "hash-1", T0, T0 + HOUR, "operator key opk_1",
        read_only=True, event_types=("invoice.*", "order.paid"),
        theme={"primary_color": "#00aa55", "mode": "dark"}, user_name="ann@example.com",
        feature_flags=("beta", "eu-only"), destination_kinds=("redis", "mqtt"),
    )  # fmt: skip
    plain = new_link(ws, "hash-2")
    await store.portal.create_link(full)
    await store.portal.create_link(plain)
    assert await store.portal.find_link("hash-1", T0 + 1) == full
    assert await store.portal.find_link("hash-2", T0 + 1) == plain
    assert plain.destination_kinds == ()  # none given: HTTP endpoints only
    assert await store.portal.find_link("hash-unknown", T0 + 1) is None
    assert await store.portal.find_link("hash-1", T0 + HOUR - 0.001) == full
    assert await store.portal.find_link("hash-1", T0 + HOUR) is None  # expired at expires_at
    assert await store.portal.find_link("hash-1", T0 + 2 * HOUR) is None


async def test_a_link_by_id_must_be_live_and_of_the_workspace_asked(store: Store, ws: str) -> None:
    other = await workspace(store, "other")
    made = new_link(ws, "hash-1")
    await store.portal.create_link(made)
    assert await store.portal.get_link(ws, made.id, T0 + 1) == made
    assert await store.portal.get_link(other, made.id, T0 + 1) is None
    assert await store.portal.get_link(ws, "pl_missing", T0 + 1) is None
    assert await store.portal.get_link(ws, made.id, T0 + HOUR) is None


async def test_live_links_are_the_workspace_s_unexpired_ones(store: Store, ws: str) -> None:
    other = await workspace(store, "other")
    short, long = new_link(ws, "h-short", T0 + 60), new_link(ws, "h-long", T0 + HOUR)
    await store.portal.create_link(short)
    await store.portal.create_link(long)
    await store.portal.create_link(new_link(other, "h-other"))
    assert await store.portal.live_links(ws, T0 + 1) == [short, long]  # by id: oldest first
    assert await store.portal.live_links(ws, T0 + 60) == [long]
    assert await store.portal.live_links("ws_missing", T0) == []


async def test_revoking_deletes_every_link_of_the_workspace_only(store: Store, ws: str) -> None:
    other = await workspace(store, "other")
    mine = [new_link(ws, "h-1"), new_link(ws, "h-2", T0 - 1)]  # one already expired
    kept = new_link(other, "h-3")
    for made in (*mine, kept):
        await store.portal.create_link(made)
    assert await store.portal.revoke_links(ws) == 2
    assert await store.portal.find_link("h-1", T0) is None
    assert await store.portal.get_link(ws, mine[0].id, T0) is None
    assert await store.portal.find_link("h-3", T0) == kept
    assert await store.portal.revoke_links(ws) == 0


async def test_purging_forgets_expired_links_everywhere(store: Store, ws: str) -> None:
    other = await workspace(store, "other")
    old, live = new_link(ws, "h-old", T0 + 10), new_link(ws, "h-live", T0 + HOUR)
    old_other = new_link(other, "h-old-other", T0 + 10)
    for made in (old, live, old_other):
        await store.portal.create_link(made)
    assert await store.portal.purge_links(T0 + 10) == 2
    assert await store.portal.live_links(ws, T0) == [live]
    assert await store.portal.live_links(other, T0) == []
    assert await store.portal.purge_links(T0 + 10) == 0


async def test_a_workspace_theme_is_replaced_whole(store: Store, ws: str) -> None:
    other = await workspace(store, "other")
    assert await store.portal.get_theme(ws) is None
    await store.portal.put_theme(ws, {"product_name": "Acme", "primary_color": "#ff0000"}, T0)
    assert await store.portal.get_theme(ws) == {"product_name": "Acme", "primary_color": "#ff0000"}
    await store.portal.put_theme(ws, {"mode": "dark"}, T0 + 1)
    assert await store.portal.get_theme(ws) == {"mode": "dark"}
    await store.portal.put_theme(ws, {}, T0 + 2)
    assert await store.portal.get_theme(ws) == {}
    assert await store.portal.get_theme(other) is None


def entry(ws: str, n: int, link_id: str | None = None, **detail: str) -> AuditEntry:
    """The ``n``-th entry: at ``T0 + n``, with ``detail`` when given."""
    at, action = T0 + n, f"action.{n}"
    target = "wh_1" if detail else None
    return AuditEntry(
        new_id("aud"), ws, at, "ann@example.com", action, link_id, target, detail or None
    )


async def test_the_audit_log_pages_newest_first(store: Store, ws: str) -> None:
    other = await workspace(store, "other")
    first = entry(ws, 0, "pl_1", url="https://example.com")
    entries = [first, *(entry(ws, n) for n in range(1, 5))]
    for made in entries:
        await store.portal.add_audit(made)
    theirs = entry(other, 9)
    await store.portal.add_audit(theirs)
    newest = list(reversed(entries))
    assert await store.portal.audit_page(ws, 10) == newest
    assert await store.portal.audit_page(ws, 2) == newest[:2]
    assert await store.portal.audit_page(ws, 2, newest[1].id) == newest[2:4]
    assert await store.portal.audit_page(ws, 2, newest[3].id) == newest[4:]
    assert await store.portal.audit_page(ws, 2, first.id) == []
    assert await store.portal.audit_page("ws_missing", 10) == []
    assert await store.portal.audit_page(other, 10) == [theirs]
