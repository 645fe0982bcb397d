"""The package layout's import rules, read from the source (every ``import``, including the ones
inside functions) and checked once at run time.

* ``hookline.domain`` is the pure domain: no store, API, delivery, services, runtime, dashboard,
  CLI or wire shapes, and no library that does I/O.
* The receiver toolkit (``verify``, ``verify_errors``, ``_sigcore``, ``rawhttp``, ``dedup`` and the
  package root) imports only the standard library and itself, so ``pip install hookline`` is
  enough to check signatures.
* ``hookline.integrations`` adapts the toolkit to one framework per module, and nothing else.
* ``hookline.services`` knows nothing of its front doors (API, dashboard, CLI, wire shapes).
* ``hookline.dashboard`` is a front door of its own and does not go through the REST API.

Each rule lists every violation it finds (file, line, what is imported), not just the first.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "hookline"

TOOLKIT = frozenset(
    {"hookline", "hookline.verify", "hookline.verify_errors", "hookline._sigcore"}
    | {"hookline.rawhttp", "hookline.dedup"}
)
# Imports the toolkit may make inside a function, for a feature that needs them: Ed25519
# (``v1a``) keys need ``cryptography``; ``hookline.Client`` loads the client on first use.
TOOLKIT_LAZY = {"hookline.verify": ("cryptography",), "hookline": ("hookline.client",)}
# The framework each integration adapts (top-level package names).
FRAMEWORKS = {
    "hookline.integrations": (),
    "hookline.integrations.fastapi": ("fastapi", "starlette"),
    "hookline.integrations.flask": ("flask", "werkzeug"),
}
_PACKAGES_NOT_FOR_DOMAIN = (
    *("store", "api", "delivery", "services", "runtime", "dashboard", "portal", "cli"),
)
NOT_FOR_DOMAIN = tuple(
    f"hookline.{name}" for name in (*_PACKAGES_NOT_FOR_DOMAIN, "wire", "client", "integrations")
)
# Libraries that open sockets, files of a database, processes or event loops.
IO_LIBRARIES = frozenset(
    {"aiohttp", "yarl", "socket", "ssl", "asyncio", "selectors", "subprocess", "sqlite3"}
    | {"smtplib", "aiosmtplib", "http", "urllib.request", "httpx", "requests", "uvicorn"}
    | {"fastapi", "starlette", "jinja2", "sqlalchemy", "asyncpg", "aiosqlite", "alembic"}
)


@dataclass(frozen=True)
class Import:
    """One import statement's target, where it is and when it runs."""

    module: str  # the importing module
    path: Path
    line: int
    target: str  # the module imported (``from a import b`` is ``a.b`` when b is a module)
    lazy: bool  # inside a function: runs on first call, not at import time
    typing_only: bool  # under ``if TYPE_CHECKING:``: never runs

    def __str__(self) -> str:
        where = " (inside a function)" if self.lazy else ""
        return f"{self.path.relative_to(SRC)}:{self.line} imports {self.target}{where}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    """True if ``name`` is a module or package of ``hookline`` (not an attribute)."""
    base = SRC.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    source = _absolute(module, path, node)
    names = [f"{source}.{alias.name}" for alias in node.names]
    return [name if is_module(name) else source for name in names]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> list[Import]:
    """Every import in ``path``, with whether it runs at import time."""
    module = module_name(path)
    found: list[Import] = []

    def walk(node: ast.AST, lazy: bool, typing_only: bool) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in _targets(module, path, node):
                found.append(Import(module, path, node.lineno, target, lazy, typing_only))
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            guarded = typing_only or (
                isinstance(node, ast.If) and _is_type_checking(node.test) and child in node.body
            )
            walk(child, inner, guarded)

    walk(ast.parse(path.read_text(encoding="utf-8"), str(path)), False, False)
    return found


def all_imports() -> Iterator[Import]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield from imports_of(path)


def within(name: str, prefixes: tuple[str, ...] | frozenset[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def is_stdlib(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names


def domain_is_pure(i: Import) -> bool:
    return not within(i.target, NOT_FOR_DOMAIN) and not within(i.target, IO_LIBRARIES)


def toolkit_uses_the_standard_library(i: Import) -> bool:
    if i.typing_only or is_stdlib(i.target) or i.target in TOOLKIT:
        return True
    return i.lazy and within(i.target, TOOLKIT_LAZY.get(i.module, ()))


def integration_adapts_one_framework(i: Import) -> bool:
    allowed = FRAMEWORKS.get(i.module)
    if allowed is None:
        return False  # a new integration module names its framework in FRAMEWORKS
    return i.typing_only or is_stdlib(i.target) or i.target in TOOLKIT or within(i.target, allowed)


def services_know_no_front_door(i: Import) -> bool:
    front_doors = (
        *("hookline.api", "hookline.dashboard", "hookline.portal", "hookline.cli"),
        "hookline.wire",
    )
    return not within(i.target, front_doors)


def dashboard_skips_the_api(i: Import) -> bool:
    return not within(i.target, ("hookline.api",))


@dataclass(frozen=True)
class Rule:
    name: str
    governs: Callable[[str], bool]
    allows: Callable[[Import], bool]


RULES = [
    Rule("domain", lambda m: within(m, ("hookline.domain",)), domain_is_pure),
    Rule("toolkit", lambda m: m in TOOLKIT, toolkit_uses_the_standard_library),
    Rule(
        "integrations",
        lambda m: within(m, ("hookline.integrations",)),
        integration_adapts_one_framework,
    ),
    Rule("services", lambda m: within(m, ("hookline.services",)), services_know_no_front_door),
    Rule("dashboard", lambda m: within(m, ("hookline.dashboard",)), dashboard_skips_the_api),
    # The customer portal is a front door of its own: the services, never the REST API.
    Rule("portal", lambda m: within(m, ("hookline.portal",)), dashboard_skips_the_api),
]


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_import_rule(rule: Rule) -> None:
    governed = [i for i in all_imports() if rule.governs(i.module)]
    assert governed, f"rule {rule.name!r} governs no module: the layout moved"
    violations = [str(i) for i in governed if not rule.allows(i)]
    assert not violations, f"{rule.name}: {len(violations)} forbidden import(s)\n" + "\n".join(
        violations
    )


def test_every_toolkit_module_exists() -> None:
    assert all(is_module(name) for name in TOOLKIT), TOOLKIT


def test_the_scanner_sees_function_level_and_type_checking_imports() -> None:
    found = {(i.target, i.lazy, i.typing_only) for i in imports_of(PACKAGE / "verify.py")}
    assert ("cryptography.hazmat.primitives.asymmetric.ed25519", True, False) in found
    assert ("cryptography.hazmat.primitives.asymmetric.ed25519", False, True) in found
    assert ("hookline._sigcore", False, False) in found  # ``from hookline import _sigcore``


def test_the_rules_catch_what_they_forbid() -> None:
    here = PACKAGE / "x.py"

    def made(module: str, target: str, lazy: bool = False) -> Import:
        return Import(module, here, 1, target, lazy, typing_only=False)

    assert not domain_is_pure(made("hookline.domain.models", "hookline.store.base"))
    assert not domain_is_pure(made("hookline.domain.models", "aiohttp.abc", lazy=True))
    assert not toolkit_uses_the_standard_library(made("hookline.verify", "pydantic"))
    assert not toolkit_uses_the_standard_library(made("hookline.dedup", "cryptography", True))
    assert not integration_adapts_one_framework(made("hookline.integrations.flask", "fastapi"))
    assert not services_know_no_front_door(made("hookline.services.routing", "hookline.wire"))
    assert not dashboard_skips_the_api(made("hookline.dashboard.web", "hookline.api.errors"))


_LOADED = """
import json, sys
before = set(sys.modules)
import hookline.verify, hookline.rawhttp, hookline.dedup
loaded = set(sys.modules) - before
print(json.dumps(sorted(loaded)))
"""


def test_importing_the_receiver_toolkit_loads_only_the_standard_library() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _LOADED], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    loaded: list[str] = json.loads(out)
    assert "hookline.verify" in loaded
    foreign = [m for m in loaded if not is_stdlib(m) and m.split(".")[0] != "hookline"]
    assert not foreign, f"third-party modules loaded by the receiver toolkit: {foreign}"
    outside = [m for m in loaded if m.startswith("hookline") and m not in TOOLKIT]
    assert not outside, f"hookline modules outside the toolkit loaded: {outside}"
