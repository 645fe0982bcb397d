"""What the front doors of one process share (REST handlers and dashboard pages alike): the
settings, the store, the router, the sender, the group commit of publishes, the caches of API keys
and operator keys, their reads in flight and the count of failed authentications."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.requests import Request

from hookline.delivery.destinations.pool import Destinations
from hookline.domain.address_policy import AddressPolicy
from hookline.domain.keys import KeyCache
from hookline.domain.models import ApiKey, OperatorKey
from hookline.domain.ratelimit import SlidingWindow
from hookline.runtime.metrics import Metrics
from hookline.runtime.shared_reads import SharedReads
from hookline.services.deps import Deps
from hookline.services.routing import Router
from hookline.settings import Settings
from hookline.store import Store
from hookline.store.group_commit import GroupCommit

if TYPE_CHECKING:
    from hookline.delivery.sender import Sender


@dataclass
class AppState:
    settings: Settings
    store: Store
    router: Router
    sender: Sender
    admin_token_hash: str = field(repr=False)
    metrics: Metrics = field(default_factory=Metrics)
    destinations: Destinations | None = None
    """The process's broker connections (the Test button's); made here when not given."""
    publisher: GroupCommit = field(init=False, repr=False)
    api_keys: KeyCache[ApiKey] = field(init=False, repr=False)
    operator_keys: KeyCache[OperatorKey] = field(init=False, repr=False)
    key_reads: SharedReads[ApiKey | OperatorKey | None] = field(init=False, repr=False)
    """Database reads of keys in flight, shared by the requests that missed the caches."""
    auth_failures: SlidingWindow = field(init=False, repr=False)
    deps: Deps = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Made here, not by the caller: one per process and store, whoever builds the state.
        self.publisher = GroupCommit(self.store)
        self.api_keys = KeyCache(self.settings.api_key_cache_seconds)
        self.operator_keys = KeyCache[OperatorKey](self.settings.api_key_cache_seconds)
        self.key_reads = SharedReads()
        self.auth_failures = SlidingWindow(self.settings.auth_failures_per_minute, 60.0)
        if self.destinations is None:
            self.destinations = Destinations(AddressPolicy(self.settings.allowed_networks))
        self.deps = Deps(
            self.settings, self.store, self.router, self.sender, self.publisher,
            forget_keys_of=self._forget_keys_of, destinations=self.destinations,
        )  # fmt: skip

    def _forget_keys_of(self, workspace_id: str) -> None:
        self.api_keys.forget_where(lambda key: key.workspace_id == workspace_id)


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.hookline
    return state
