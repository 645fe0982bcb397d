"""The fixture that starts the service for a test fails, saying why, when the service never
answers ``/healthz``: a test never runs against a service that is not there.

The service is replaced here, as these check the fixture itself."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import tests.conftest
from tests.conftest import start_service


async def test_a_service_that_stops_at_startup_fails_with_its_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database is not migrated")

    monkeypatch.setattr(tests.conftest, "run", failing)
    with pytest.raises(RuntimeError, match="the database is not migrated"):
        await start_service(f"sqlite:///{tmp_path}/hookline.db")


async def test_a_service_that_never_answers_fails_after_the_startup_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped = asyncio.Event()

    async def silent(*args: Any, stop: asyncio.Event, **kwargs: Any) -> None:
        await stop.wait()  # runs, but serves nothing
        stopped.set()

    monkeypatch.setattr(tests.conftest, "run", silent)
    monkeypatch.setattr(tests.conftest, "STARTUP_SECONDS", 0.3)
    with pytest.raises(AssertionError, match=r"/healthz answering 200 not met within 0\.3s"):
        await start_service(f"sqlite:///{tmp_path}/hookline.db")
    assert stopped.is_set()  # and it was told to stop
