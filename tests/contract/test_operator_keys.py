"""Operator keys on SQLite and PostgreSQL: found by hash until revoked, listed with their
revocations, revoked once."""

from __future__ import annotations

from dataclasses import replace

from hookline.domain.ids import new_id
from hookline.domain.models import OperatorKey
from hookline.store import Store
from tests.contract.test_store import T0


def key(name: str, key_hash: str) -> OperatorKey:
    return OperatorKey(new_id("opk"), name, "hlo_abcdef", key_hash, T0)


async def test_an_operator_key_is_found_by_hash_until_revoked(store: Store) -> None:
    deploy, ci = key("deploy", "hash-1"), key("ci", "hash-2")
    await store.operators.create_operator_key(deploy)
    await store.operators.create_operator_key(ci)
    assert await store.operators.find_operator_key("hash-1") == deploy
    assert await store.operators.find_operator_key("hash-unknown") is None
    assert await store.operators.revoke_operator_key(deploy.id, T0 + 5) is True
    assert await store.operators.revoke_operator_key(deploy.id, T0 + 6) is False  # once
    assert await store.operators.revoke_operator_key("opk_missing", T0 + 6) is False
    assert await store.operators.find_operator_key("hash-1") is None
    assert await store.operators.find_operator_key("hash-2") == ci


async def test_operator_keys_are_listed_oldest_first_with_their_revocations(store: Store) -> None:
    assert await store.operators.list_operator_keys() == []
    first, second = key("first", "hash-1"), key("second", "hash-2")
    await store.operators.create_operator_key(first)
    await store.operators.create_operator_key(second)
    await store.operators.revoke_operator_key(first.id, T0 + 1)
    assert await store.operators.list_operator_keys() == [
        replace(first, revoked_at=T0 + 1),
        second,
    ]
