"""Who a bearer token is (``hookline.services.workspaces.identify``): the admin token, an
operator key (the admin's rights, naming the key) or a workspace API key; and the key cache
forgetting a deleted workspace's keys."""

from __future__ import annotations

from hookline.domain.keys import OPERATOR_PREFIX, KeyCache, hash_token
from hookline.domain.models import ApiKey, OperatorKey
from hookline.services.workspaces import ADMIN, Principal, identify, is_operator_token

ADMIN_HASH = hash_token("hla_admin")


def operator_key(token: str) -> OperatorKey:
    return OperatorKey("opk_1", "deploy", token[:10], hash_token(token), 0.0)


def api_key(key_id: str, workspace: str, token: str) -> ApiKey:
    return ApiKey(key_id, workspace, "ci", token[:10], hash_token(token), 0.0)


def test_an_operator_key_is_the_admin_and_says_which_key() -> None:
    key = operator_key("hlo_secret")
    found = identify(ADMIN_HASH, hash_token("hlo_secret"), key)
    assert found == Principal(admin=True, key_hash=key.key_hash, operator_key_id="opk_1")
    assert found is not None and found.workspace_id is None


def test_the_admin_token_and_an_api_key_are_told_apart_from_it() -> None:
    assert identify(ADMIN_HASH, ADMIN_HASH, None) == ADMIN
    key = api_key("key_1", "ws_1", "hlk_secret")
    found = identify(ADMIN_HASH, hash_token("hlk_secret"), key)
    assert found == Principal(admin=False, workspace_id="ws_1", key_hash=key.key_hash)
    assert identify(ADMIN_HASH, hash_token("hlk_unknown"), None) is None


def test_a_key_stored_under_another_hash_is_nobody() -> None:
    """The key handed in must be the token's own (compared in constant time)."""
    assert identify(ADMIN_HASH, hash_token("hlo_other"), operator_key("hlo_secret")) is None


def test_operator_tokens_are_told_by_their_prefix() -> None:
    assert OPERATOR_PREFIX == "hlo_"
    assert is_operator_token("hlo_abc")
    assert not is_operator_token("hlk_abc") and not is_operator_token("hla_abc")


def test_the_cache_forgets_every_key_of_a_deleted_workspace() -> None:
    cache: KeyCache[ApiKey] = KeyCache(60.0)
    gone = [api_key("key_1", "ws_gone", "t1"), api_key("key_2", "ws_gone", "t2")]
    kept = api_key("key_3", "ws_kept", "t3")
    began = cache.generation()  # a lookup in flight while the workspace is deleted
    for key in (*gone, kept):
        cache.put(key, cache.generation())
    cache.forget_where(lambda key: key.workspace_id == "ws_gone")
    assert [cache.get(k.key_hash) for k in gone] == [None, None]
    assert cache.get(kept.key_hash) == kept
    cache.put(gone[0], began)  # what the lookup read is stale: not remembered
    assert cache.get(gone[0].key_hash) is None


def test_operator_keys_have_a_cache_of_their_own_kind() -> None:
    cache = KeyCache[OperatorKey](60.0)
    key = operator_key("hlo_secret")
    cache.put(key, cache.generation())
    assert cache.get(key.key_hash) == key
    cache.forget("opk_1")
    assert cache.get(key.key_hash) is None
