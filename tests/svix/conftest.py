"""Fixtures for the official Svix SDKs against a real Hookline: the Python SDK's client on the
test's service, and the HTTP exchanges it made, shown at the end of a failed test's report (the
SDK itself says only ``HTTP Error (code): detail``, not which request the API got wrong).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator

import pytest
from svix.api import SvixAsync

from tests.conftest import Service
from tests.svix.client import Exchanges, svix_client

EXCHANGES = pytest.StashKey[Exchanges]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    exchanges = item.stash.get(EXCHANGES, None)
    if report.failed and exchanges is not None and exchanges.lines:
        report.sections.append(("Svix API exchanges, newest last", exchanges.render()))
    return report


@pytest.fixture
def exchanges(request: pytest.FixtureRequest) -> Exchanges:
    found = Exchanges()
    request.node.stash[EXCHANGES] = found
    return found


@pytest.fixture
async def sdk(service: Service, exchanges: Exchanges) -> AsyncIterator[SvixAsync]:
    """The Python SDK with the admin token, on the test's service."""
    client = svix_client(service.url, service.admin_token, exchanges)
    try:
        yield client
    finally:
        await client._httpx_client.aclose()
