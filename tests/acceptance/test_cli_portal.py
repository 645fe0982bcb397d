"""The real CLI in subprocesses making and revoking customer-portal links on a running
Hookline's database: the printed URL opens the portal there, with the options given, until the
workspace's links are revoked."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path
from typing import Any

import aiohttp

from tests.acceptance.test_cli import HOOKLINE, _env, _read_banner, served
from tests.acceptance.test_cli_admin import cli

__all__ = ["served"]  # the fixture, used here too


async def sign_in(base: str, url: str) -> tuple[int, str]:
    """What the portal's page does with a link: its fragment's token, in a header."""
    token = url.partition("#")[2]
    headers = {"Authorization": f"Bearer {token}", "HX-Request": "true"}
    async with aiohttp.ClientSession() as http, http.post(base + "/portal/sign-in",
                                                          headers=headers) as r:  # fmt: skip
        return r.status, await r.text()


async def get(base: str, path: str, token: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http, http.get(base + path, headers=headers) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def test_a_link_made_by_the_cli_opens_the_portal_until_revoked(
    served: tuple[str, subprocess.Popen[str], Path],
) -> None:
    base, proc, db = served
    _, admin = await asyncio.to_thread(_read_banner, proc)
    created = await cli(db, "workspace", "create", "acme")
    ws = re.search(r"workspace_id: (\S+)", created.stdout)
    assert ws, created.stdout
    args = ("portal-link", "create", "--workspace", ws.group(1), "--base-url", base + "/")
    made = await cli(db, *args, "--read-only", "--event-type", "invoice.*",
                     "--event-type", "order.paid", "--feature-flag", "beta",
                     "--feature-flag", "eu", "--user", "ann@example.com")  # fmt: skip
    assert made.returncode == 0, made.stderr
    url = made.stdout.strip()
    assert re.fullmatch(re.escape(base) + r"/portal/#hlp_\S+", url), made.stdout
    assert re.search(r"portal link pl_\S+ valid until \d{4}-", made.stderr), made.stderr
    status, page = await sign_in(base, url)
    assert status == 200, page[:300]
    assert 'data-read-only="true"' in page
    [link] = (await get(base, f"/v1/workspaces/{ws.group(1)}/portal-links", admin))["data"]
    assert (link["read_only"], link["event_types"], link["user"], link["created_by"]) == (
        True, ["invoice.*", "order.paid"], "ann@example.com", "command line",
    )  # fmt: skip
    assert link["feature_flags"] == ["beta", "eu"]

    env_url = await asyncio.to_thread(
        subprocess.run,
        [*HOOKLINE, "portal-link", "create", "--workspace", ws.group(1)],
        env=_env(db, HOOKLINE_PUBLIC_URL="https://hooks.example.com"),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert env_url.stdout.startswith("https://hooks.example.com/portal/#hlp_"), env_url.stderr

    revoked = await cli(db, "portal-link", "revoke", "--workspace", ws.group(1))
    assert revoked.returncode == 0, revoked.stderr
    assert f"revoked 2 portal links of workspace {ws.group(1)}" in revoked.stdout
    status, page = await sign_in(base, url)
    assert status == 401 and "This link has expired" in page
    log = await get(base, f"/v1/workspaces/{ws.group(1)}/audit-log", admin)
    actions = [(e["action"], e["actor"]) for e in log["data"]]
    assert actions[0] == ("portal_links.revoked", "command line")


async def test_bad_options_and_unknown_workspaces_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "hookline.db"
    created = await cli(db, "workspace", "create", "acme")
    ws = re.search(r"workspace_id: (\S+)", created.stdout)
    assert ws, created.stdout
    for args, said in (
        (("--expires-in", "30"), "expires_in"),
        (("--expires-in", "604801"), "expires_in"),
        (("--event-type", "not a type"), "event_types.0"),
        (("--feature-flag", "beta", "--feature-flag", "not a flag"), "feature_flags.1"),
    ):
        refused = await cli(db, "portal-link", "create", "--workspace", ws.group(1), *args)
        assert refused.returncode == 2 and said in refused.stderr, refused.stderr
        assert refused.stdout == ""
    for command in ("create", "revoke"):
        unknown = await cli(db, "portal-link", command, "--workspace", "ws_missing")
        assert unknown.returncode == 2 and "ws_missing not found" in unknown.stderr
    missing = await cli(db, "portal-link", "create")
    assert missing.returncode == 2 and "--workspace" in missing.stderr


def test_every_option_names_its_environment_variable_or_says_it_has_none() -> None:
    for command in ("create", "revoke"):
        out = subprocess.run(
            [*HOOKLINE, "portal-link", command, "--help"], capture_output=True, text=True,
            check=True,
        ).stdout.split("Options:", 1)[1]  # fmt: skip
        blocks = re.split(r"\n  (?=--)", out)
        options = [b for b in blocks if b.strip() and not b.strip().startswith("--help")]
        assert options, out
        for block in options:
            text = " ".join(block.split())
            assert "env var: HOOKLINE_" in text or "no environment variable" in text, text
