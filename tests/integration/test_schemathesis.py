"""Property-based API testing: schemathesis fuzzes every operation of the real service.

The service runs in-process on SQLite, in a thread with its own event loop, because
schemathesis's calls are synchronous. Every generated request carries a workspace API key and
that workspace's id in ``{ws}``, so the handlers behind authentication are reached.

Every built-in check is on (no 5xx; status code, content type, headers and body conform to
``/openapi.json``; invalid data refused and valid data accepted; a missing token refused; a 405
listing exactly the methods documented), and every phase of a schemathesis test: the
document's examples, the coverage phase (boundary values, each required part left out, methods
the path does not take) and fuzzing, positive and negative, from a fixed seed.

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
from schemathesis import Case
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.pytest.lazy import get_all_tests
from schemathesis.schemas import BaseSchema

from tests.conftest import Service, start_service

# One worker under pytest-xdist: its tests share the module's service and schema.
pytestmark = pytest.mark.xdist_group("schemathesis")
T = TypeVar("T")
EXAMPLES = 10
SEED = 20
#: What a request the document calls valid may be answered. 422 is among them: some rules are
#: beyond JSON Schema (a template's syntax, the filter language, a referenced flow that must
#: exist, one of two fields and not both), and a 422 names the field that broke one.
SCHEMA_VALID_ANSWERS = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
#: Requests without or with a wrong token are part of every phase: none may meet the limit.
AUTH_FAILURES = 100_000
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
            start_service(
                database_url,
                worker=False,
                allowed_networks=(),
                auth_failures_per_minute=AUTH_FAILURES,
            )
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
    """The service's own document, with every check and phase at its default: on."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {live.api_key}"},
            "parameters": {"path.ws": live.ws},
            "generation": {"max-examples": EXAMPLES, "mode": "all", "database": "none"},
            "request-timeout": 10,
            "checks": {
                "positive_data_acceptance": {"expected-statuses": SCHEMA_VALID_ANSWERS},
            },
        }
    )
    return schemathesis.openapi.from_url(f"{live.url}/openapi.json", config=config)


def test_every_check_and_phase_is_on(api_schema: BaseSchema) -> None:
    load_all_checks()
    names = [check.__name__ for check in CHECKS.get_all()]
    assert len(names) >= 14
    assert [name for name in names if not getattr(api_schema.config.checks, name).enabled] == []
    phases = api_schema.config.phases
    assert phases.examples.enabled and phases.coverage.enabled and phases.fuzzing.enabled


def test_every_operation_conforms_and_never_fails(api_schema: BaseSchema, live: Live) -> None:
    """Each operation's examples, coverage and fuzzing cases (``get_all_tests`` is what
    ``schemathesis.pytest.from_fixture`` runs, without its subtests, which pytest 9.2 breaks)."""

    def check(case: Case[Any]) -> None:
        case.call_and_validate(base_url=live.url)

    built = list(get_all_tests(schema=api_schema, test_func=check, settings=None, given_kwargs={}))
    assert len(built) > 20, "the schema lost its operations"
    failures: list[str] = []
    for result in built:
        assert isinstance(result, Ok), result  # the document itself is valid OpenAPI
        operation, test = result.ok()
        try:
            test()
        except (Exception, FailureGroup) as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
