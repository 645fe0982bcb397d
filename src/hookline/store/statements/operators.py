"""Operator keys' statements: made, found by hash while unrevoked, listed, revoked."""

from __future__ import annotations

from typing import NamedTuple


class OperatorSql(NamedTuple):
    create: str = (
        "INSERT INTO operator_keys (id, name, prefix, key_hash, created_at)"
        " VALUES ($1, $2, $3, $4, $5)"
    )
    by_hash: str = "SELECT * FROM operator_keys WHERE key_hash = $1 AND revoked_at IS NULL"
    listing: str = "SELECT * FROM operator_keys ORDER BY id"
    revoke: str = "UPDATE operator_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL"
