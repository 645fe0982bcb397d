"""Credential header values at rest, on every database: sealed with a secret key, readable
when stored before the key was set (and sealed when the webhook is next saved)."""

from __future__ import annotations

from dataclasses import replace

from hookline.domain.secretbox import SecretBox
from tests.contract.test_store import T0, execute_raw, opened, webhook, workspace

TOKEN = "Bearer tok-51c0de"
HEADERS = {"Authorization": TOKEN, "X-Tenant": "t-7a", "X-Team": "fernet:not-sealed"}


async def _stored_config(db_url: str, webhook_id: str) -> str:
    [config] = await execute_raw(db_url, f"SELECT config FROM webhooks WHERE id = '{webhook_id}'")
    return str(config)


async def test_credential_values_are_sealed_with_a_key(db_url: str) -> None:
    async with opened(db_url, secret_key=SecretBox.generate_key()) as store:
        ws = await workspace(store)
        hook = await webhook(store, ws, headers=HEADERS, secret_headers=["x-tenant"])
        stored = await _stored_config(db_url, hook.id)
        assert TOKEN not in stored and "t-7a" not in stored
        assert "fernet:not-sealed" in stored  # not a credential: stored as it is
        found = await store.config.get_webhook(ws, hook.id)
        assert found is not None and found.config.headers == HEADERS


async def test_values_stored_before_the_key_still_read_and_are_sealed_on_the_next_save(
    db_url: str,
) -> None:
    async with opened(db_url) as store:
        ws = await workspace(store)
        hook = await webhook(store, ws, headers=HEADERS)
    assert TOKEN in await _stored_config(db_url, hook.id)
    async with opened(db_url, secret_key=SecretBox.generate_key()) as store:
        found = await store.config.get_webhook(ws, hook.id)
        assert found is not None and found.config.headers == HEADERS
        await store.config.save_webhook(replace(found, updated_at=T0 + 1), create=False)
        assert TOKEN not in await _stored_config(db_url, hook.id)
        again = await store.config.get_webhook(ws, hook.id)
        assert again is not None and again.config.headers == HEADERS
