"""Schemas that hold: what publishing checks of an event against the catalogs, before anything
is stored.

* An event type with ``enforce`` on and a schema (the workspace's own entry, else the shared
  one) refuses a payload that does not match its newest version: 422 ``schema_mismatch``,
  naming the first failing path (``payload.order.total: 'abc' is not of type 'number'``).
* A workspace with ``strict_event_types`` refuses an event type that neither its catalog nor
  the shared one has (archived entries do not count): 422 ``unknown_event_type``.

Both are off by default. They hold for every event a client publishes (one at a time, in a
batch, through either API) and for entity events. They do not hold for Hookline's own
operational events (``hookline.*``, published by the worker) nor for the Test button, which
sends a sample to one webhook without publishing it to the others: a test is how a schema
change is tried before it is enforced.

The check costs a publish nothing when neither is set: each workspace's rules are cached under
its config version (which every publish reads for routing anyway, and which a change of the
workspace's settings or catalog moves) and the shared catalog's generation. The shared catalog
has no version to read: this process reads it again at once after a change it made, and any
process at most ``SHARED_TTL_SECONDS`` after a change made by another. Validators are compiled
once per entry and version of it, and a large payload is checked off the event loop.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from jsonschema.protocols import Validator

from hookline.domain.models import SHARED_CATALOG, EventType
from hookline.domain.payload_schemas import compile_schema, mismatch
from hookline.domain.records import record
from hookline.errors import ApiError, ValidationFailed, raise_every
from hookline.services.routing import OFF_LOOP_BYTES
from hookline.store import Store

__all__ = ["SHARED_TTL_SECONDS", "CatalogGate", "Checked"]

#: How long a process trusts its copy of the shared catalog (changes made through it excepted).
SHARED_TTL_SECONDS = 5.0


@record
class Checked:
    """One event to check: its type, payload and size as delivered."""

    type: str
    payload: Any
    size: int = 0


@record
class _Rules:
    """One workspace's rules, as of its config version and the shared catalog's generation."""

    version: int
    generation: int
    strict: bool
    known: frozenset[str]
    validators: dict[str, Validator]
    inert: bool
    """Neither strict nor any schema enforced: nothing to check."""

    def problem(self, event: Checked, prefix: str) -> ApiError | None:
        if self.strict and event.type not in self.known:
            field = f"{prefix}type"
            message = (
                f"{field}: event type {event.type!r} is in neither this workspace's catalog nor"
                " the shared one, and the workspace publishes only those (strict_event_types)"
            )
            return ValidationFailed(message, field=field, code="unknown_event_type")
        validator = self.validators.get(event.type)
        found = (
            None if validator is None else mismatch(validator, event.payload, f"{prefix}payload")
        )
        if found is None:
            return None
        return ValidationFailed(str(found), field=found.path, code="schema_mismatch")


class CatalogGate:
    """The checks of one process (see the module's text)."""

    def __init__(
        self,
        *,
        shared_ttl: float = SHARED_TTL_SECONDS,
        max_workspaces: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = shared_ttl
        self._max = max_workspaces
        self._clock = clock
        self._rules: dict[str, _Rules] = {}
        self._validators: dict[tuple[str, float], Validator] = {}
        self._shared: list[EventType] = []
        self._generation = 0
        self._shared_until = -math.inf
        self._changes = 0
        self._reading = asyncio.Lock()

    def shared_changed(self) -> None:
        """The shared catalog changed (through this process): read it again before the next
        check."""
        self._changes += 1
        self._shared_until = -math.inf

    async def check(
        self, store: Store, workspace_id: str, version: int, type: str, payload: Any, size: int
    ) -> None:
        """Raise the 422 that publishing an event (``size``: its payload's, as delivered) in the
        workspace answers, if any."""
        rules = self._cached(workspace_id, version)  # a publish's usual path: no await
        if rules is None or not rules.inert:
            event = Checked(type, payload, size)
            await self.check_all(store, workspace_id, version, [event], single=True)

    async def check_all(
        self,
        store: Store,
        workspace_id: str,
        version: int,
        events: Sequence[Checked],
        *,
        single: bool = False,
    ) -> None:
        """Raise one 422 naming every refused event of a batch (``events.{i}.…``); ``single``:
        the one event of a single publish (its fields unprefixed)."""
        rules = self._cached(workspace_id, version) or await self._current(
            store, workspace_id, version
        )
        if rules.inert:
            return

        def problems() -> list[ApiError]:
            found = (
                rules.problem(e, "" if single else f"events.{i}.") for i, e in enumerate(events)
            )
            return [p for p in found if p is not None]

        if rules.validators and sum(e.size for e in events) >= OFF_LOOP_BYTES:
            raise_every(await asyncio.to_thread(problems))
        else:
            raise_every(problems())

    def _cached(self, workspace_id: str, version: int) -> _Rules | None:
        """The workspace's rules if they are of this version and of a shared catalog still
        trusted."""
        rules = self._rules.get(workspace_id)
        if rules is None or rules.version != version or rules.generation != self._generation:
            return None
        return rules if self._clock() < self._shared_until else None

    async def _current(self, store: Store, workspace_id: str, version: int) -> _Rules:
        generation = await self._shared_generation(store)
        rules = self._rules.get(workspace_id)
        if rules is not None and rules.version == version and rules.generation == generation:
            return rules
        workspace = await store.config.get_workspace(workspace_id)
        own = await store.catalog.list_event_types(workspace_id)
        # Read together, with no await between: the rules and the generation they are of.
        rules = self._build(version, workspace is not None and workspace.strict_event_types, own)
        if workspace is not None:
            if len(self._rules) >= self._max:
                self._rules.clear()
            self._rules[workspace_id] = rules
        return rules

    def _build(self, version: int, strict: bool, own: list[EventType]) -> _Rules:
        entries = {et.name: et for et in self._shared} | {et.name: et for et in own}
        known = frozenset(name for name, et in entries.items() if not et.archived)
        validators = {
            name: self._validator(et)
            for name, et in entries.items()
            if et.enforce and et.schema is not None
        }
        inert = not strict and not validators
        return _Rules(version, self._generation, strict, known, validators, inert)

    def _validator(self, et: EventType) -> Validator:
        assert et.schema is not None
        key = (et.id, et.updated_at)
        found = self._validators.get(key)
        if found is None:
            if len(self._validators) >= self._max:
                self._validators.clear()
            found = self._validators[key] = compile_schema(et.schema)
        return found

    async def _shared_generation(self, store: Store) -> int:
        """The generation of this process's copy of the shared catalog, read again once it is
        older than the TTL or changed here (a read that a change overtook is not trusted)."""
        if self._clock() < self._shared_until:
            return self._generation
        async with self._reading:
            if self._clock() < self._shared_until:
                return self._generation
            changes = self._changes
            shared = await store.catalog.list_event_types(SHARED_CATALOG)
            if shared != self._shared:
                self._shared = shared
                self._generation += 1
            if changes == self._changes:
                self._shared_until = self._clock() + self._ttl
        return self._generation
