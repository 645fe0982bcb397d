"""The official npm SDK (svix 2.x, pinned in tests/svix/js/package.json) driving Hookline's
Svix-compatible API: each flow of tests/svix/js/flows.mjs runs in Node.js against a fresh
service, with a receiver of its own that checks deliveries with the package's ``Webhook``.

``make test`` installs the package (``npm ci``). Without Node.js or the installed package these
tests skip, and fail under CI=true, where they must run.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, Service

JS_DIR = Path(__file__).parent / "js"
FLOWS = JS_DIR / "flows.mjs"
#: One flow starts Node.js, creates up to 300 applications and waits for deliveries.
FLOW_SECONDS = 60.0
#: The flows of flows.mjs; test_every_flow_is_run checks this against the script.
FLOW_NAMES = (
    "applications",
    "paging",
    "eventTypes",
    "endpoints",
    "delivery",
    "channels",
    "rotation",
    "recover",
    "resend",
    "idempotency",
    "portal",
)


@pytest.fixture
def node() -> str:
    """The node executable, once the npm package is installed; skip (fail in CI) otherwise."""
    node = shutil.which("node")
    if node is None:
        reason = "Node.js is not installed"
    elif not (JS_DIR / "node_modules" / "svix" / "package.json").is_file():
        reason = f"the npm svix package is not installed (`npm ci --prefix {JS_DIR}`)"
    else:
        return node
    if IN_CI:
        pytest.fail(f"{reason}: CI must run the npm SDK tests")
    pytest.skip(reason)


async def _run(node: str, *args: str, env: dict[str, str] | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        node, str(FLOWS), *args, cwd=JS_DIR, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), FLOW_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"flows.mjs {' '.join(args)} ran over {FLOW_SECONDS}s") from None
    assert process.returncode == 0, (process.returncode, err.decode())
    return out.decode().strip().splitlines()[-1]


def _explain(result: dict[str, Any]) -> str:
    lines = [f"flow {result['flow']} failed: {result['error']}", "exchanges, newest last:"]
    for x in result["exchanges"]:
        sent = f"\n    sent: {x['sent']}" if x["sent"] else ""
        lines.append(f"{x['request']}{sent}\n    -> {x['status']} {x['answer']}")
    return "\n".join(lines)


async def test_every_flow_is_run(node: str) -> None:
    assert tuple(json.loads(await _run(node, "--list"))) == FLOW_NAMES


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("flow", FLOW_NAMES)
async def test_npm_sdk_flow(flow: str, node: str, service: Service) -> None:
    env = os.environ | {"SVIX_SERVER_URL": service.url, "SVIX_TOKEN": service.admin_token}
    result = json.loads(await _run(node, flow, env=env))
    assert result["ok"], _explain(result)
