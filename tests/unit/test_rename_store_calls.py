"""``scripts/rename_store_calls.py``: code written against the single store object, moved to
the repositories; nothing else touched, and a second run changes nothing."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).parent.parent.parent / "scripts" / "rename_store_calls.py"

BEFORE = '''\
from hookline.store import Store, open_store


async def use(store: Store, state, deps, api, client) -> None:
    """store.claim( in a docstring stays."""
    await store.claim("w", limit=1)  # store.record( in a comment stays
    hook = await state.store.get_webhook("ws", "wh")
    await deps.store.publish_many([])
    found = await self._store.list_deliveries("ws", query)
    reads = VersionReads(store.config_version)
    await store.close()
    await api.publish("ignored")
    await client.get_webhook("ignored")
    label = "é" ; await store.purge(1.0)
    async with store._tx() as tx:
        await store._bump_version(tx, "ws")
    monkeypatch.setattr(store, "claim", fake)


async def other_process(settings) -> None:
    other = await open_store(settings)
    await other.revoke_api_key("ws", "key", 1.0)
    side, api_side = await opened(), await opened()
    await api_side.create_workspace(workspace)


async def opened() -> Store: ...
'''

AFTER = '''\
from hookline.store import Store, open_store


async def use(store: Store, state, deps, api, client) -> None:
    """store.claim( in a docstring stays."""
    await store.queue.claim("w", limit=1)  # store.record( in a comment stays
    hook = await state.store.config.get_webhook("ws", "wh")
    await deps.store.publishing.publish_many([])
    found = await self._store.history.list_deliveries("ws", query)
    reads = VersionReads(store.config.config_version)
    await store.close()
    await api.publish("ignored")
    await client.get_webhook("ignored")
    label = "é" ; await store.history.purge(1.0)
    async with store.dialect.tx() as tx:
        await store.config._bump_version(tx, "ws")
    monkeypatch.setattr(store.queue, "claim", fake)


async def other_process(settings) -> None:
    other = await open_store(settings)
    await other.config.revoke_api_key("ws", "key", 1.0)
    side, api_side = await opened(), await opened()
    await api_side.config.create_workspace(workspace)


async def opened() -> Store: ...
'''


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rename_store_calls", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_calls_move_to_their_repository_and_a_second_run_changes_nothing(
    script: ModuleType, tmp_path: Path
) -> None:
    code = tmp_path / "uses_the_store.py"
    code.write_text(BEFORE, encoding="utf-8")
    assert script.main([str(tmp_path), "--no-format"]) == 0
    assert code.read_text(encoding="utf-8") == AFTER
    assert script.main([str(tmp_path), "--no-format"]) == 0
    assert code.read_text(encoding="utf-8") == AFTER


def test_a_dry_run_changes_nothing(script: ModuleType, tmp_path: Path) -> None:
    code = tmp_path / "uses_the_store.py"
    code.write_text(BEFORE, encoding="utf-8")
    assert script.main([str(tmp_path), "--dry-run"]) == 0
    assert code.read_text(encoding="utf-8") == BEFORE


def test_every_operation_has_one_repository(script: ModuleType) -> None:
    names = [op for ops in script.REPOSITORIES.values() for op in ops]
    assert len(names) == len(set(names)) == len(script.OWNER)
