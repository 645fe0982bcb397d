"""The real CLI in subprocesses, as a user runs it: serve, create a workspace, add a webhook,
publish, and a real receiver on 127.0.0.1 gets the request."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from hookline import __version__
from hookline.verify import verify
from tests.conftest import Receiver, free_port

HOOKLINE = [sys.executable, "-m", "hookline.cli"]


def _env(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env |= {"HOOKLINE_DATABASE_URL": f"sqlite:///{db}", "PYTHONUNBUFFERED": "1"}
    return env | extra


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    db, port = tmp_path / "hookline.db", free_port()
    proc = subprocess.Popen(
        [*HOOKLINE, "serve", "--port", str(port)],
        env=_env(db, HOOKLINE_ALLOWED_NETWORKS="127.0.0.0/8"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield f"http://127.0.0.1:{port}", proc, db
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _read_banner(proc: subprocess.Popen[str]) -> tuple[str, str]:
    assert proc.stdout is not None
    url_line = proc.stdout.readline()
    token_line = proc.stdout.readline()
    url = re.search(r"http://\S+", url_line)
    token = re.search(r"(hla_\S+)", token_line)
    assert url and token, (url_line, token_line)
    return url.group(0), token.group(1)


async def test_cli_serve_workspace_webhook_publish(
    served: tuple[str, subprocess.Popen[str], Path], receiver: Receiver
) -> None:
    base, proc, db = served
    url, admin = await asyncio.to_thread(_read_banner, proc)
    assert url == base
    created = await asyncio.to_thread(
        subprocess.run,
        [*HOOKLINE, "workspace", "create", "acme"],
        env=_env(db),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    ws = re.search(r"workspace_id: (\S+)", created.stdout)
    key = re.search(r"api_key: (\S+)", created.stdout)
    assert ws and key, created.stdout
    headers = {"Authorization": f"Bearer {key.group(1)}"}
    prefix = f"{base}/v1/workspaces/{ws.group(1)}"
    async with aiohttp.ClientSession(headers=headers) as http:
        hook_body = {"name": "r", "url": receiver.url + "/hooks", "secret": "generate"}
        async with http.post(f"{prefix}/webhooks", json=hook_body) as r:
            assert r.status == 201, await r.text()
            secret = (await r.json())["secret"]
        event = {"type": "task.completed", "payload": {"task_id": 7}}
        async with http.post(f"{prefix}/events", json=event) as r:
            assert r.status == 202, await r.text()
        async with http.get(
            f"{base}/v1/workspaces", headers={"Authorization": f"Bearer {admin}"}
        ) as r:
            assert r.status == 200
    [request] = await receiver.wait_for(1, timeout=20)
    assert request.body == b'{"task_id": 7}'
    verify("standard", request.body, request.headers, secret)


@pytest.mark.parametrize("module", ["hookline", "hookline.cli"])
def test_python_dash_m_runs_the_cli(module: str) -> None:
    found = subprocess.run(
        [sys.executable, "-m", module, "--version"], capture_output=True, text=True, timeout=60
    )
    assert found.returncode == 0, found.stderr
    assert __version__ in found.stdout


def test_every_flag_names_its_environment_variable() -> None:
    for command in (["serve"], ["worker"], ["migrate"], ["workspace", "create"]):
        out = subprocess.run(
            [*HOOKLINE, *command, "--help"], capture_output=True, text=True, check=True
        ).stdout.split("Options:", 1)[1]
        options = re.findall(r"^\s+(--[a-z-]+)", out, re.MULTILINE)
        for option in set(options) - {"--help"}:
            block = " ".join(out.split(option, 1)[1].split("\n  --", 1)[0].split())
            assert "env var: HOOKLINE_" in block, (command, option, block)


def test_postgres_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    from tests.conftest import PG_ADMIN_DSN, require_postgres

    require_postgres()
    import asyncpg

    async def make() -> str:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        await conn.execute("DROP DATABASE IF EXISTS hl_unmigrated")
        await conn.execute("CREATE DATABASE hl_unmigrated")
        await conn.close()
        return PG_ADMIN_DSN.rsplit("/", 1)[0] + "/hl_unmigrated"

    dsn = asyncio.run(make())
    out = subprocess.run(
        [*HOOKLINE, "serve", "--port", str(free_port()), "--database-url", dsn],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "hookline migrate" in out.stderr
    migrate = [*HOOKLINE, "migrate", "--database-url", dsn]
    migrated = subprocess.run(migrate, capture_output=True, text=True, timeout=60)
    assert migrated.returncode == 0, migrated.stderr
    # An empty database: it says what it created.
    assert "created Hookline's schema at revision" in migrated.stdout
    assert "webhooks" in migrated.stdout and "deliveries" in migrated.stdout
    again = subprocess.run(migrate, capture_output=True, text=True, timeout=60)
    assert again.stdout.startswith("database schema is current (revision ")


def test_migrate_reports_an_upgrade() -> None:
    from hookline.cli._main import migrate_report

    assert migrate_report(frozenset({"0006"}), frozenset({"0008"})) == (
        "upgraded the schema from revision 0006 to 0008"
    )


def test_verify_checks_a_captured_request() -> None:
    import time

    from hookline.domain.signing import sign_request

    secret, body = "whsec_" + "QUFB" * 8, b'{"a": 1}'
    headers = sign_request(
        ["standard"],
        [secret],
        msg_id="msg_1",
        timestamp_ms=int(time.time() * 1000),
        body=body,
        method="POST",
        url="https://x/hooks",
    )
    head = f"POST /hooks HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
    raw = (head + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode() + body
    ok = subprocess.run(
        [*HOOKLINE, "verify", "--scheme", "standard", "--secret", secret],
        input=raw,
        capture_output=True,
    )
    assert ok.returncode == 0 and b"valid standard" in ok.stdout
    bad = subprocess.run(
        [*HOOKLINE, "verify", "--scheme", "standard", "--secret", "whsec_" + "QkJC" * 8],
        input=raw.replace(b'"a": 1', b'"a": 2'),
        capture_output=True,
    )
    assert bad.returncode == 1 and b"invalid" in bad.stderr


def test_serve_on_a_taken_port_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        out = subprocess.run(
            [*HOOKLINE, "serve", "--port", str(port)],
            env=_env(tmp_path / "hookline.db"),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert out.returncode != 0
    said = out.stdout + out.stderr
    assert said.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: address already in use"
        " (set --port or HOOKLINE_PORT)"
    ], said
    assert "is running at" not in said and "Traceback" not in said


def test_serve_announces_its_bound_port_once_it_accepts_connections(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*HOOKLINE, "serve", "--port", "0"],
        env=_env(tmp_path / "hookline.db"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"is running at http://127\.0\.0\.1:(\d+)", line)
        assert found, line
        port = int(found.group(1))
        assert port != 0
        # No retry: the line is printed only once the port is listening.
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    finally:
        proc.terminate()
        proc.wait(15)
