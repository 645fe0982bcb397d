"""The shape of the store: narrow repositories over one dialect, every operation of every
repository under contract on both databases, and no deep class hierarchies."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import hookline.store
from hookline.store import Store

CONTRACT = Path(__file__).parent
ROOT = CONTRACT.parent.parent
#: The most Hookline classes any class of the store may have in its MRO (itself included).
MAX_HOOKLINE_BASES = 5


def repositories(store: Store) -> dict[str, type]:
    """The store's repositories by attribute: every attribute whose class is a repository."""
    return {
        name: type(value)
        for name, value in vars(store).items()
        if type(value).__name__.endswith("Repository")
    }


def operations(cls: type) -> list[str]:
    return sorted(
        name
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    )


def store_modules() -> list[ModuleType]:
    found = [hookline.store]
    for info in pkgutil.walk_packages(hookline.store.__path__, "hookline.store."):
        if ".migrations" not in info.name:
            found.append(importlib.import_module(info.name))
    return found


def test_the_store_is_its_repositories_and_its_lifecycle(store: Store) -> None:
    # PostgreSQL's history tables are partitioned by time (SQLite's are not).
    partitioned = [] if store.partitions is None else ["partitions"]
    assert sorted(repositories(store)) == [
        "catalog", "config", "entities", "history", "idempotency", "inspector", "log",
        "operators", *partitioned, "portal", "publishing", "queue", "removal",
    ]  # fmt: skip
    assert operations(Store) == ["close", "notify_local", "ping", "wait_for_work"]


def test_every_operation_of_every_repository_has_a_contract_test(store: Store) -> None:
    """Each operation is called, as ``.<repository>.<operation>``, by a contract test (which
    runs it on SQLite and PostgreSQL); this module's own text does not count."""
    text = "\n".join(
        path.read_text()
        for path in sorted(CONTRACT.glob("test_*.py"))
        if path.name != Path(__file__).name
    )
    missing = [
        f"{name}.{op}"
        for name, cls in repositories(store).items()
        for op in operations(cls)
        if not re.search(rf"\.{name}\.{op}\b", text)
    ]
    assert missing == []


def test_the_rename_script_sends_each_call_to_an_operation_that_exists(store: Store) -> None:
    """``scripts/rename_store_calls.py`` moves code written against the single store object to
    the repositories: each operation that object had must be where the script sends it.
    (Operations added since never existed on the single object: the script need not know
    them.)"""
    spec = importlib.util.spec_from_file_location(
        "rename", ROOT / "scripts" / "rename_store_calls.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    known = {
        name: sorted(op for op in ops if not op.startswith("_"))
        for name, ops in script.REPOSITORIES.items()
    }
    actual = {name: operations(cls) for name, cls in repositories(store).items()}
    assert {name: sorted(set(ops) - set(actual.get(name, ()))) for name, ops in known.items()} == {
        name: [] for name in known
    }


def test_no_store_class_has_more_than_five_hookline_classes_in_its_mro() -> None:
    deep = {}
    for module in store_modules():
        for cls in vars(module).values():
            if inspect.isclass(cls) and cls.__module__ == module.__name__:
                ours = [c for c in cls.__mro__ if c.__module__.startswith("hookline.")]
                if len(ours) > MAX_HOOKLINE_BASES:
                    deep[cls.__qualname__] = len(ours)
    assert deep == {}
    assert len(store_modules()) > 20  # the walk found the package's modules
