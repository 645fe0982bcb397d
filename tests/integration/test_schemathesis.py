"""Property-based API testing: schemathesis fuzzes every operation of the real service.

The service runs in-process on SQLite, in a thread with its own event loop, because
schemathesis's calls are synchronous. Every generated request carries a workspace API key and
that workspace's id in ``{ws}``, so the handlers behind authentication are reached. For every
response: no 5xx, and status code, content type and body conform to ``/openapi.json``.

Generated webhook URLs are arbitrary hosts: the service runs without a worker and without
allowed networks, and a tripwire refuses any connection or name lookup off this machine.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Service, start_service

T = TypeVar("T")
Operation = APIOperation[Any, Any, Any, Any]
EXAMPLES = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
_LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass
class Live:
    url: str
    ws: str
    api_key: str


class LoopThread:
    """An event loop in a thread of its own, for running the service beside synchronous code."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        # A daemon: a service that fails to stop must not keep the test run alive.
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="hookline-live", daemon=True
        )
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def _is_loopback(host: object) -> bool:
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return str(host) in _LOCAL_NAMES


@pytest.fixture(scope="module")
def no_outside_traffic() -> Iterator[None]:
    """Nothing generated may reach (or even resolve) a host off this machine."""
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise ConnectionRefusedError(f"tripwire: no connection to {address[0]}")
        real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_loopback(
            host.decode() if isinstance(host, bytes) else host
        ):
            raise socket.gaierror(socket.EAI_NONAME, f"tripwire: no lookup of {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        yield


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, no_outside_traffic: None) -> Iterator[Live]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/hookline.db"
    runner = LoopThread()
    try:
        service: Service
        service, stop, task = runner.run(
            start_service(database_url, worker=False, allowed_networks=())
        )
        try:
            ws, key = runner.run(service.workspace("fuzz"))
            yield Live(service.url, ws, key)
        finally:
            runner.loop.call_soon_threadsafe(stop.set)
            runner.run(asyncio.wait_for(task, 30))
            runner.run(service.http.close())
    finally:
        runner.close()


@pytest.fixture(scope="module")
def api_schema(live: Live) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{live.url}/openapi.json")


def _fuzz(operation: Operation, mode: GenerationMode, live: Live) -> None:
    fixed = {"ws": live.ws} if "{ws}" in operation.path else None
    headers = {"Authorization": f"Bearer {live.api_key}"}

    @given(case=operation.as_strategy(mode, path_parameters=fixed))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Case[Operation]) -> None:
        case.call_and_validate(base_url=live.url, headers=headers, checks=CHECKS, timeout=10)

    check()


def _negatable(operation: Operation) -> bool:
    """Path segments are plain strings, which nothing can make invalid: only a query or a body
    gives negative testing something to break."""
    return bool(len(operation.query) or operation.body)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms_and_never_fails(
    api_schema: BaseSchema, live: Live, mode: GenerationMode
) -> None:
    operations = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), result  # the document itself is valid OpenAPI
        operations.append(result.ok())
    assert len(operations) > 20, "the schema lost its operations"
    if mode is GenerationMode.NEGATIVE:
        operations = [op for op in operations if _negatable(op)]
    failures: list[str] = []
    for operation in operations:
        try:
            _fuzz(operation, mode, live)
        except (Exception, FailureGroup) as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
