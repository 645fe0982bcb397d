"""Idempotent requests' statements: a key claimed by the first request, its answer kept."""

from __future__ import annotations

from typing import NamedTuple


class IdempotencySql(NamedTuple):
    #: Taken when free, expired, or left running by a request that never finished.
    claim: str = (
        "INSERT INTO idempotency_keys (key, status, body, created_at, expires_at)"
        " VALUES ($1, NULL, NULL, $2, $3) ON CONFLICT (key) DO UPDATE SET status = NULL,"
        " body = NULL, created_at = $2, expires_at = $3"
        " WHERE idempotency_keys.expires_at <= $2"
        " OR (idempotency_keys.status IS NULL AND idempotency_keys.created_at < $4)"
    )
    find: str = "SELECT status, body FROM idempotency_keys WHERE key = $1 AND expires_at > $2"
    settle: str = "UPDATE idempotency_keys SET status = $2, body = $3 WHERE key = $1"
    release: str = "DELETE FROM idempotency_keys WHERE key = $1 AND status IS NULL"
    purge: str = "DELETE FROM idempotency_keys WHERE expires_at <= $1"
