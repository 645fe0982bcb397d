"""The real CLI in subprocesses against a running Hookline's database: operator keys made, listed
and revoked, and workspaces listed and deleted, as an operator does it."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path

import aiohttp

from tests.acceptance.test_cli import HOOKLINE, _env, _read_banner, served
from tests.polling import eventually

__all__ = ["served"]  # the fixture, used here too


def hookline(db: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HOOKLINE, *args], env=_env(db), input=stdin, capture_output=True, text=True, timeout=60
    )


async def cli(db: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(hookline, db, *args, stdin=stdin)


async def call(base: str, method: str, path: str, token: str, json: object = None) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.request(method, base + path, json=json) as r,
    ):
        return r.status


async def test_an_operator_key_made_by_the_cli_is_the_admin_until_revoked(
    served: tuple[str, subprocess.Popen[str], Path],
) -> None:
    base, proc, db = served
    await asyncio.to_thread(_read_banner, proc)
    made = await cli(db, "operator-key", "create", "deploy")
    assert made.returncode == 0, made.stderr
    key_id = re.search(r"operator_key_id: (opk_\S+)", made.stdout)
    token = re.search(r"token: (hlo_\S+)", made.stdout)
    assert key_id and token, made.stdout
    assert await call(base, "POST", "/v1/workspaces", token.group(1), {"name": "x"}) == 201
    assert await call(base, "GET", "/v1/workspaces", token.group(1)) == 200

    listed = await cli(db, "operator-key", "list")
    assert listed.returncode == 0 and key_id.group(1) in listed.stdout and "deploy" in listed.stdout
    assert token.group(1) not in listed.stdout and token.group(1)[:10] in listed.stdout

    revoked = await cli(db, "operator-key", "revoke", key_id.group(1))
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    again = await cli(db, "operator-key", "revoke", key_id.group(1))
    assert again.returncode == 2 and "not found" in again.stderr
    await eventually(
        lambda: call(base, "GET", "/v1/workspaces", token.group(1)),
        lambda status: status == 401,
        15.0,  # the server's key cache trusts it for HOOKLINE_API_KEY_CACHE_SECONDS at most
        what="the running Hookline refusing the revoked key",
    )
    listed = await cli(db, "operator-key", "list")
    row = next(line for line in listed.stdout.splitlines() if key_id.group(1) in line)
    assert re.search(r"\d{4}-\d\d-\d\dT.*\d{4}-\d\d-\d\dT", row), row  # created and revoked


async def test_workspaces_are_listed_and_deleted_by_the_cli(
    served: tuple[str, subprocess.Popen[str], Path],
) -> None:
    base, proc, db = served
    _, admin = await asyncio.to_thread(_read_banner, proc)
    ids = {}
    for name in ("busy", "idle"):
        created = await cli(db, "workspace", "create", name)
        found = re.search(r"workspace_id: (\S+)", created.stdout)
        assert found, created.stdout
        ids[name] = found.group(1)
    listed = await cli(db, "workspace", "list")
    assert listed.stdout.splitlines()[0].split() == ["ID", "NAME", "UID", "CREATED"]
    assert all(ws in listed.stdout for ws in ids.values())

    busy = f"/v1/workspaces/{ids['busy']}"
    paused = {"name": "paused", "url": "https://example.com/h", "events": ["*"], "enabled": False}
    assert await call(base, "POST", f"{busy}/webhooks", admin, paused) == 201
    assert await call(base, "POST", f"{busy}/events", admin, {"type": "a.b", "payload": {}}) == 202
    refused = await cli(db, "workspace", "delete", ids["busy"], "--yes")
    assert refused.returncode == 2, refused.stdout
    assert "1 pending delivery" in refused.stderr and "--force" in refused.stderr
    declined = await cli(db, "workspace", "delete", ids["busy"], "--force", stdin="n\n")
    assert declined.returncode == 1 and "drop its 1 pending delivery" in declined.stdout
    assert await call(base, "GET", busy, admin) == 200

    forced = await cli(db, "workspace", "delete", ids["busy"], "--force", "--yes")
    assert forced.returncode == 0 and "deleted workspace" in forced.stdout, forced.stderr
    assert await call(base, "GET", busy, admin) == 404
    confirmed = await cli(db, "workspace", "delete", ids["idle"], stdin="y\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert (await cli(db, "workspace", "list")).stdout.strip() == "no workspaces"
    unknown = await cli(db, "workspace", "delete", "ws_missing", "--yes")
    assert unknown.returncode == 2 and "ws_missing not found" in unknown.stderr


def test_the_new_commands_name_their_environment_variables() -> None:
    """``--database-url`` names ``HOOKLINE_DATABASE_URL``; ``--force`` and ``--yes`` say that no
    variable sets them (a deletion is confirmed run by run)."""
    commands = (
        ["workspace", "list"], ["workspace", "delete"], ["operator-key", "create"],
        ["operator-key", "list"], ["operator-key", "revoke"],
    )  # fmt: skip
    for command in commands:
        out = subprocess.run(
            [*HOOKLINE, *command, "--help"], capture_output=True, text=True, check=True
        ).stdout.split("Options:", 1)[1]
        blocks = {
            option: " ".join(out.split(option, 1)[1].split("\n  -", 1)[0].split())
            for option in re.findall(r"^\s+(?:-\w, )?(--[a-z-]+)", out, re.MULTILINE)
        }
        for option, block in blocks.items():
            if option in ("--force", "--yes"):
                assert "no environment variable" in block, (command, option, block)
            elif option != "--help":
                assert "env var: HOOKLINE_" in block, (command, option, block)
        assert "--database-url" in blocks, command
