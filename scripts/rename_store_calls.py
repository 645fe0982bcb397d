"""Rewrite uses of the store's operations to go through its repositories.

The store's operations live on narrow repositories (``store.queue``, ``store.publishing``,
``store.config``, ``store.catalog``, ``store.history``, ``store.inspector``,
``store.entities``); the store itself keeps only ``close``, ``ping``, ``wait_for_work`` and
``notify_local``. This script rewrites code written against the single store object:
``store.claim(...)`` becomes
``store.queue.claim(...)``, ``self._store.get_webhook`` becomes
``self._store.config.get_webhook``, and tests reaching into a store's connections
(``store._tx()``, ``store._lock``) reach into its dialect (``store.dialect.tx()``,
``store.dialect._lock``).

What counts as a store, found with Python's own parser (code only: comments and strings are left
alone, except the attribute name of ``setattr``/``getattr`` on a store):

- a name or attribute called ``store``, ``_store``, ``stores[...]`` or ending in ``_store``;
- a name bound, anywhere in the same file, to a store: assigned from ``open_store(...)``,
  ``SqliteStore(...)``/``PostgresStore(...)`` (``.open()`` included), from a function whose
  return annotation names a store type (in any file given), or from another store; bound by
  ``async with``/``with`` such a function; or annotated with a store type.

Running it again changes nothing (a repository is not a store). Usage::

    python scripts/rename_store_calls.py            # src tests bench scripts, in place
    python scripts/rename_store_calls.py --dry-run  # only report what would change
    python scripts/rename_store_calls.py PATH...    # files or directories of your choice

The files it changes are then formatted with ``ruff format`` (lines grow by the repository's
name), when ruff is installed for this interpreter; ``--no-format`` leaves them as rewritten.

``src/hookline/store`` itself is skipped: it is written against the repositories already.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

REPOSITORIES: dict[str, tuple[str, ...]] = {
    "queue": ("claim", "record", "release", "next_due_at", "queue_stats", "expire_held"),
    "publishing": ("publish_many", "publish"),
    "config": (
        "get_meta", "set_meta_if_absent", "create_workspace", "get_workspace",
        "list_workspaces", "create_api_key", "find_api_key", "list_api_keys", "revoke_api_key",
        "revoke_session", "session_revoked", "purge_revoked_sessions", "save_flow", "get_flow",
        "list_flows", "delete_flow", "count_flow_webhooks", "save_webhook", "get_webhook",
        "list_webhooks", "delete_webhook", "set_webhook_enabled", "routing_snapshot",
        "config_version", "disabled_webhooks", "failing_since", "webhooks_with_failures",
        "disable_in_tx",
        "_bump_version",
    ),
    "catalog": ("save_event_type", "get_event_type", "list_event_types", "delete_event_type"),
    "history": (
        "get_event", "list_events", "get_delivery", "list_deliveries", "list_attempts",
        "retry_delivery", "replay_webhook", "purge",
    ),
    "inspector": (
        "create_bin", "get_bin", "find_bin", "list_bins", "delete_bin", "capture",
        "list_bin_requests", "get_bin_request", "record_replay", "purge_expired_bins",
    ),
    "entities": ("get_entity", "commit_entity_change"),
}  # fmt: skip
#: Each operation's repository.
OWNER = {method: repo for repo, methods in REPOSITORIES.items() for method in methods}
#: A store's connection internals, now its dialect's: old attribute -> new path.
DIALECT = {
    "_tx": "dialect.tx",
    "_read": "dialect.read",
    "_after_enqueue": "dialect.after_enqueue",
    "_fetch": "dialect.fetch",
    "_fetchrow": "dialect.fetchrow",
    "_lock": "dialect._lock",
    "_writer": "dialect._writer",
    "_reader": "dialect._reader",
    "_watch": "dialect._watch",
    "_checkpoints": "dialect._checkpoints",
    "_pool": "dialect._pool",
    "_listener": "dialect._listener",
    "_notifying": "dialect._notifying",
    "_enqueued": "dialect._enqueued",
    "notifier": "dialect.notifier",
}
STORE_TYPES = re.compile(r"\b(?:Store|SqliteStore|PostgresStore)\b")
STORE_NAME = re.compile(r"^(?:_?store|stores|\w+_store|\w+_stores)$")
FACTORIES = {"open_store", "SqliteStore", "PostgresStore"}
SKIPPED = (Path("src") / "hookline" / "store",)


def python_files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.py") if ".venv" not in p.parts)
        elif path.suffix == ".py":
            yield path


def skipped(path: Path) -> bool:
    parts = path.resolve().parts
    return any(parts[i : i + len(s.parts)] == s.parts for s in SKIPPED for i in range(len(parts)))


def store_factories(trees: Iterable[ast.AST]) -> set[str]:
    """Functions whose return annotation names a store type."""
    found = set(FACTORIES)
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
                if STORE_TYPES.search(ast.unparse(node.returns)):
                    found.add(node.name)
    return found


class Finder:
    """Which expressions of one file are stores (see the module's text)."""

    def __init__(self, tree: ast.AST, factories: set[str]) -> None:
        self.factories = factories
        self.names: set[str] = set()
        for _ in range(3):  # names bound from names found in the pass before
            self._collect(tree)

    def _collect(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                self._bind(node.targets, node.value)
            elif isinstance(node, ast.AnnAssign):
                if STORE_TYPES.search(ast.unparse(node.annotation)):
                    self._bind([node.target], None)
                elif node.value is not None:
                    self._bind([node.target], node.value)
            elif isinstance(node, ast.arg) and node.annotation is not None:
                if STORE_TYPES.search(ast.unparse(node.annotation)):
                    self.names.add(node.arg)
            elif isinstance(node, ast.With | ast.AsyncWith):
                for item in node.items:
                    if item.optional_vars is not None and self._made(item.context_expr):
                        self._bind([item.optional_vars], None)

    def _bind(self, targets: list[ast.expr], value: ast.expr | None) -> None:
        for target in targets:
            if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
                for t, v in zip(target.elts, value.elts, strict=False):
                    self._bind([t], v)
            elif isinstance(target, ast.Name) and (value is None or self._made(value)):
                self.names.add(target.id)

    def _made(self, value: ast.expr) -> bool:
        """Whether ``value`` is a store: made by a factory, or a store already."""
        while isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Call):
            func = value.func
            if isinstance(func, ast.Attribute) and func.attr == "open":
                return self._made(func.value)
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            return name in self.factories
        return self.is_store(value)

    def is_store(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return bool(STORE_NAME.match(node.id)) or node.id in self.names
        if isinstance(node, ast.Attribute):
            return bool(STORE_NAME.match(node.attr))
        if isinstance(node, ast.Subscript):
            return isinstance(node.value, ast.Name | ast.Attribute) and self._plural(node.value)
        return False

    @staticmethod
    def _plural(node: ast.Name | ast.Attribute) -> bool:
        name = node.id if isinstance(node, ast.Name) else node.attr
        return name.endswith("stores")


Edit = tuple[int, int, int, str]  # line (0-based), start byte, end byte, replacement


def edits(tree: ast.AST, finder: Finder) -> list[Edit]:
    found: list[Edit] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and finder.is_store(node.value):
            edit = _attribute_edit(node)
            if edit:
                found.append(edit)
        elif isinstance(node, ast.Call) and _is_attr_call(node):
            edit = _setattr_edit(node, finder)
            if edit:
                found.append(edit)
    return found


def _attribute_edit(node: ast.Attribute) -> Edit | None:
    value = node.value
    assert value.end_lineno is not None and value.end_col_offset is not None
    if node.end_lineno != value.end_lineno:  # ``store\n.claim``: not written that way here
        return None
    line, start = value.end_lineno - 1, value.end_col_offset
    assert node.end_col_offset is not None
    if node.attr in OWNER:
        return (line, start, node.end_col_offset, f".{OWNER[node.attr]}.{node.attr}")
    if node.attr in DIALECT:
        return (line, start, node.end_col_offset, f".{DIALECT[node.attr]}")
    return None


def _is_attr_call(node: ast.Call) -> bool:
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    return name in {"setattr", "getattr", "hasattr", "delattr"} and len(node.args) >= 2


def _setattr_edit(node: ast.Call, finder: Finder) -> Edit | None:
    """``setattr(store, "claim", …)`` → ``setattr(store.queue, "claim", …)``."""
    obj, name = node.args[0], node.args[1]
    if not (isinstance(name, ast.Constant) and name.value in OWNER and finder.is_store(obj)):
        return None
    assert obj.end_lineno is not None and obj.end_col_offset is not None
    end = obj.end_col_offset
    return (obj.end_lineno - 1, end, end, f".{OWNER[name.value]}")


def rewrite(source: str, found: list[Edit]) -> str:
    lines = [line.encode() for line in source.splitlines(keepends=True)]
    for line, start, end, text in sorted(found, reverse=True):
        lines[line] = lines[line][:start] + text.encode() + lines[line][end:]
    return b"".join(lines).decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--dry-run", action="store_true", help="report, change nothing")
    parser.add_argument("--no-format", action="store_true", help="do not run ruff format")
    args = parser.parse_args(argv)
    roots = args.paths or [
        Path(p) for p in ("src", "tests", "bench", "scripts") if Path(p).exists()
    ]
    files = [f for f in python_files(roots) if not skipped(f)]
    sources = {f: f.read_text(encoding="utf-8") for f in files}
    trees = {f: ast.parse(src, filename=str(f)) for f, src in sources.items()}
    factories = store_factories(trees.values())
    changed: list[Path] = []
    for path, tree in trees.items():
        found = edits(tree, Finder(tree, factories))
        if not found:
            continue
        changed.append(path)
        print(f"{path}: {len(found)} rewritten")
        if not args.dry_run:
            path.write_text(rewrite(sources[path], found), encoding="utf-8")
    print(f"{len(changed)} file(s) {'would change' if args.dry_run else 'changed'}")
    if changed and not args.dry_run and not args.no_format:
        format_files(changed)
    return 0


def format_files(files: list[Path]) -> None:
    command = [sys.executable, "-m", "ruff", "format", "--quiet", *map(str, files)]
    try:
        subprocess.run(command, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"ruff format did not run ({exc}): format the changed files yourself")


if __name__ == "__main__":
    sys.exit(main())
