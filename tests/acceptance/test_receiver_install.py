"""``pip install hookline`` without extras, as a receiver or a publisher installs it: into a fresh
virtualenv, from PyPI. The server's packages stay out, signatures verify, the client imports, the
receiver's commands work and the server's commands name the extra they need.

Installing needs PyPI (or the configured index): unreachable, the tests skip locally and fail
under CI=true.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from hookline.cli import SERVER_MODULES
from tests.conftest import IN_CI

pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "data" / "signatures.json"
SERVER_PACKAGES = ["fastapi", "uvicorn", "asyncpg", "sqlalchemy", "alembic", "jinja2"]
_OFFLINE = re.compile(
    r"NewConnectionError|Network is unreachable|Temporary failure in name resolution"
    r"|Name or service not known|ConnectTimeout|ProxyError|No route to host"
)


@dataclass(frozen=True)
class ReceiverVenv:
    """A fresh virtualenv with only ``pip install hookline`` in it."""

    root: Path
    env: dict[str, str]

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    def run(self, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            list(args), input=stdin, capture_output=True, env=self.env, cwd=self.root, timeout=120
        )

    def python_c(self, code: str, *argv: str) -> str:
        """Run ``code`` in the venv's interpreter, isolated from this checkout; its stdout."""
        done = self.run(str(self.python), "-I", "-c", code, *argv)
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode()


def _project_copy(into: Path) -> Path:
    """The files a source install reads, so building leaves nothing in the checkout."""
    project = into / "project"
    (project / "src").mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, project / name)
    shutil.copytree(
        ROOT / "src" / "hookline",
        project / "src" / "hookline",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
    )
    return project


def _clean_env() -> dict[str, str]:
    dropped = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV", "PIP_USER")
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("HOOK")}
    return env | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def _install_failed(output: str) -> NoReturn:
    offline = _OFFLINE.search(output)
    if offline and not IN_CI:
        pytest.skip(f"the package index is unreachable ({offline.group(0)})")
    pytest.fail(f"pip install hookline failed:\n{output[-3000:]}")


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> ReceiverVenv:
    base = tmp_path_factory.mktemp("receiver-install")
    project = _project_copy(base)
    venv.EnvBuilder(with_pip=True).create(base / "venv")
    made = ReceiverVenv(base / "venv", _clean_env())
    done = made.run(str(made.python), "-m", "pip", "install", "--quiet", str(project))
    if done.returncode != 0:
        _install_failed((done.stdout + done.stderr).decode(errors="replace"))
    return made


def test_the_base_install_leaves_the_servers_packages_out(receiver: ReceiverVenv) -> None:
    found = receiver.python_c(
        "import importlib.util, json, sys;"
        "print(json.dumps([n for n in sys.argv[1:] if importlib.util.find_spec(n)]))",
        *SERVER_PACKAGES,
    )
    assert json.loads(found) == []
    where = receiver.python_c("import hookline; print(hookline.__file__)")
    assert Path(where).is_relative_to(receiver.root), where


_VERIFY_VECTORS = """
import json, sys
from hookline.verify import InvalidSignature, verify
vectors = json.load(open(sys.argv[1], encoding="utf-8"))
inputs, standard = vectors["inputs"], vectors["a_standard_webhooks"]
body, now = inputs["body_utf8"].encode(), inputs["timestamp"]
single, ed25519 = standard["single"], standard["v1a_ed25519"]
verify("standard", body, single["headers"], single["secret"], now=now)
verify("standard", body, ed25519["headers"], ed25519["whpk"], now=now)
try:
    verify("standard", body + b" ", single["headers"], single["secret"], now=now)
except InvalidSignature:
    print("verified")
"""


def test_known_answer_vectors_verify_with_hookline_verify(receiver: ReceiverVenv) -> None:
    assert receiver.python_c(_VERIFY_VECTORS, str(VECTORS)).strip() == "verified"


def test_the_publisher_client_comes_with_the_base_install(receiver: ReceiverVenv) -> None:
    code = "from hookline import AsyncClient, Client; print(Client.__name__, AsyncClient.__name__)"
    assert receiver.python_c(code).split() == ["Client", "AsyncClient"]


def test_hookline_verify_checks_a_captured_request(receiver: ReceiverVenv) -> None:
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    single = vectors["a_standard_webhooks"]["single"]
    body = vectors["inputs"]["body_utf8"].encode()
    head = [f"{k}: {v}" for k, v in single["headers"].items()]
    lines = [
        "POST /hooks HTTP/1.1",
        "Host: receiver.example.com",
        *head,
        f"Content-Length: {len(body)}",
    ]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    hookline = str(receiver.root / "bin" / "hookline")
    args = [hookline, "verify", "--scheme", "standard", "--secret", single["secret"]]
    done = receiver.run(*args, "--tolerance", str(10**10), stdin=raw)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().startswith("valid standard signature")
    forged = receiver.run(
        *args, "--tolerance", str(10**10), stdin=raw.replace(b"created", b"deleted")
    )
    assert forged.returncode == 1
    assert forged.stderr.decode().startswith("invalid:")


@pytest.mark.parametrize(
    "command", [["serve"], ["worker"], ["migrate"], ["workspace", "create", "a"]]
)
def test_server_commands_name_the_extra_they_need(
    receiver: ReceiverVenv, command: list[str]
) -> None:
    done = receiver.run(str(receiver.root / "bin" / "hookline"), *command)
    assert done.returncode == 1
    assert done.stderr.decode() == (
        f"hookline {command[0]} needs the server: pip install 'hookline[server]'\n"
    )


def _requirement_names(requirements: list[str]) -> set[str]:
    return {
        re.split(r"[\[<>=;! ]", r, maxsplit=1)[0].lower().replace("-", "_") for r in requirements
    }


def test_the_server_extra_and_the_base_install_do_not_overlap() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    server = _requirement_names(project["optional-dependencies"]["server"])
    base = _requirement_names(project["dependencies"])
    assert set(SERVER_PACKAGES) <= server
    assert server <= SERVER_MODULES, "the CLI's hint must cover every server package"
    assert not base & SERVER_MODULES, "a base package missing is not a missing server"
