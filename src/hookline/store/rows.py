"""Decoding database rows into records, shared by every SQL dialect."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import orjson

from hookline.domain import catalog_versions
from hookline.domain.destinations import has_password
from hookline.domain.models import (
    ApiKey,
    Attempt,
    AuditEntry,
    Delivery,
    DeliveryStatus,
    Event,
    EventType,
    Flow,
    FlowConfig,
    OperatorKey,
    Page,
    PortalLink,
    SecretEntry,
    Webhook,
    WebhookConfig,
    Workspace,
)
from hookline.domain.nul import STORED
from hookline.domain.secret_headers import credential_names
from hookline.domain.secretbox import SEALED_PREFIX, SecretBox
from hookline.store.held import due_of

Row = Mapping[str, Any]


def loads_or_none(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def workspace(row: Row) -> Workspace:
    return Workspace(
        id=row["id"],
        name=row["name"],
        created_at=row["created_at"],
        uid=row["uid"],
        metadata=orjson.loads(row["metadata"] or "{}"),
        throttle_rate=row["throttle_rate"],
        strict_event_types=bool(row["strict_event_types"]),
        updated_at=row["updated_at"],
    )


def api_key(row: Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        workspace_id=row["workspace_id"],
        name=row["name"],
        prefix=row["prefix"],
        key_hash=row["key_hash"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def operator_key(row: Row) -> OperatorKey:
    return OperatorKey(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        key_hash=row["key_hash"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def event_type(row: Row) -> EventType:
    """An entry of the catalog; one stored before schemas had versions reads as version 1."""
    schema = loads_or_none(row["schema"])
    return EventType(
        id=row["id"],
        workspace_id=row["workspace_id"],
        name=row["name"],
        description=row["description"],
        schema=schema,
        example=loads_or_none(row["example"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        schemas=catalog_versions.from_columns(schema, loads_or_none(row["schemas"])),
        archived=bool(row["archived"]),
        deprecated=bool(row["deprecated"]),
        feature_flags=_names(row["feature_flags"]),
        group_name=row["group_name"],
        enforce=bool(row["enforce"]),
    )


def event_type_settings(et: EventType) -> tuple[Any, ...]:
    """An entry's columns after ``updated_at``, in the order both of its statements take them."""
    return (
        None if et.schemas is None else dumps(et.schemas),
        int(et.archived),
        int(et.deprecated),
        dumps(list(et.feature_flags)) if et.feature_flags else None,
        et.group_name,
        int(et.enforce),
    )


def flow(row: Row) -> Flow:
    return Flow(
        id=row["id"],
        workspace_id=row["workspace_id"],
        name=row["name"],
        description=row["description"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        config=FlowConfig.model_construct(**orjson.loads(row["config"] or "{}")),
    )


#: The columns a :class:`WebhookDecoder` reads, in this order.
WEBHOOK_COLUMNS = "id, workspace_id, config, secrets, created_at, updated_at, disabled_reason"


class WebhookDecoder:
    """Decodes webhook rows, caching by the row's content: the claim loop sees the same few often.

    Not by ``(id, updated_at)``: detaching webhooks from a deleted flow changes rows without a
    new ``updated_at``, two writes can share one, and a stale webhook would be saved back.
    """

    def __init__(self, box: SecretBox, max_entries: int = 50_000) -> None:
        self._box = box
        self._cache: dict[tuple[Any, ...], Webhook] = {}
        self._max = max_entries

    def __call__(self, row: Row) -> Webhook:
        """The webhook of a row of exactly :data:`WEBHOOK_COLUMNS`, whose values are the key
        (taken in one C pass: a claim decodes one row per delivery when it fans out). Both
        drivers' rows (sqlite3.Row, asyncpg.Record) iterate over their values, not names."""
        key = tuple(cast("Sequence[Any]", row))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        hook = self._decode(row)
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[key] = hook
        return hook

    def _decode(self, row: Row) -> Webhook:
        secrets = tuple(
            SecretEntry(self._box.open(s), exp) for s, exp in orjson.loads(row["secrets"])
        )
        return Webhook(
            id=row["id"],
            workspace_id=row["workspace_id"],
            # Validated once per stored version (the decoder caches), so nested models are real.
            config=self._config(row["config"]),
            secrets=secrets,
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            disabled_reason=row["disabled_reason"],
        )

    def _config(self, text: str) -> WebhookConfig:
        """A stored configuration, its credential header values opened (sealed when written
        with a secret key; stored before one was set, they read as they are)."""
        if f'"{SEALED_PREFIX}' not in text:  # nothing sealed: the common, fast case
            return WebhookConfig.model_validate_json(text, context=STORED)
        data = orjson.loads(text)
        headers: dict[str, str] = data.get("headers") or {}
        for name in credential_names(headers, data.get("secret_headers") or ()):
            headers[name] = self._box.open(headers[name])
        broker = data.get(data.get("kind") or "webhook")
        if isinstance(broker, dict) and isinstance(broker.get("url"), str):
            broker["url"] = self._box.open(broker["url"])
        return WebhookConfig.model_validate(data, context=STORED)

    def encode_config(self, config: WebhookConfig) -> str:
        """The stored configuration: credential header values, and a broker URL that carries a
        password, sealed like the secrets."""
        sealed = credential_names(config.headers, config.secret_headers)
        broker = config.broker
        seal_url = broker is not None and has_password(broker.url)
        if not (sealed or seal_url) or not self._box.encrypts:
            return config.model_dump_json()
        data = config.model_dump(mode="json")
        data["headers"] = {
            k: self._box.seal(v) if k in sealed else v for k, v in config.headers.items()
        }
        if broker is not None and seal_url:
            data[config.kind]["url"] = self._box.seal(broker.url)
        return dumps(data)

    def encode_secrets(self, webhook: Webhook) -> str:
        return dumps([[self._box.seal(s.secret), s.expires_at] for s in webhook.secrets])


def event(row: Row, prefix: str = "") -> Event:
    return Event(
        id=row[prefix + "id"],
        workspace_id=row[prefix + "workspace_id"],
        type=row[prefix + "type"],
        body=row[prefix + "body"],
        idempotency_key=row[prefix + "idempotency_key"],
        created_at=row[prefix + "created_at"],
        channels=_names(row[prefix + "channels"]),
        tags=_names(row[prefix + "tags"]),
    )


def delivery(row: Row) -> Delivery:
    return Delivery(
        id=row["id"],
        workspace_id=row["workspace_id"],
        event_id=row["event_id"],
        webhook_id=row["webhook_id"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        retry_base=row["retry_base"],
        next_attempt_at=due_of(row["next_attempt_at"]),  # as before it was held
        last_status=row["last_status"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def attempt(row: Row) -> Attempt:
    return Attempt(
        id=row["id"],
        delivery_id=row["delivery_id"],
        workspace_id=row["workspace_id"],
        webhook_id=row["webhook_id"],
        number=row["number"],
        started_at=row["started_at"],
        duration_ms=row["duration_ms"],
        request_method=row["request_method"],
        request_url=row["request_url"],
        request_headers=orjson.loads(row["request_headers"]),
        # Kept once with the event when it was sent unchanged (see list_attempts).
        request_body=row["event_body"] if row["request_body_is_event"] else row["request_body"],
        response_status=row["response_status"],
        response_headers=orjson.loads(row["response_headers"]),
        response_body=row["response_body"],
        error_class=row["error_class"],
        error_message=row["error_message"],
        request_body_is_event=bool(row["request_body_is_event"]),
    )


#: The columns of :func:`attempt_params`, in its order.
ATTEMPT_COLUMNS = (
    "id", "workspace_id", "delivery_id", "webhook_id", "number", "started_at", "duration_ms",
    "request_method", "request_url", "request_headers", "request_body", "response_status",
    "response_headers", "response_body", "error_class", "error_message", "request_body_is_event",
)  # fmt: skip
#: The columns of :func:`delivery_params`, in its order.
DELIVERY_COLUMNS = (
    "id", "workspace_id", "event_id", "webhook_id", "status", "ordered", "attempts",
    "retry_base", "next_attempt_at", "lease_until", "created_at", "updated_at",
)  # fmt: skip
#: An event's columns, in the order of :class:`Event`'s fields.
EVENT_COLUMNS = (
    "id", "workspace_id", "type", "body", "idempotency_key", "created_at", "channels", "tags"
)  # fmt: skip
#: An event's columns with the trace context of its publish (``traceparent_params``), written
#: only when a batch has one: without traces a publish writes exactly ``EVENT_COLUMNS``.
TRACED_EVENT_COLUMNS = (*EVENT_COLUMNS, "traceparent")


def event_params(e: Event) -> tuple[Any, ...]:
    """An event's values in ``EVENT_COLUMNS``' order (channels and tags NULL when none)."""
    return (
        e.id, e.workspace_id, e.type, e.body, e.idempotency_key, e.created_at,
        dumps(list(e.channels)) if e.channels else None,
        dumps(list(e.tags)) if e.tags else None,
    )  # fmt: skip


def traceparent_params(e: Event) -> tuple[Any, ...]:
    """An event's values in ``TRACED_EVENT_COLUMNS``' order."""
    return (*event_params(e), e.traceparent)


def _names(value: Any) -> tuple[str, ...]:
    return tuple(orjson.loads(value)) if value else ()


def attempt_params(a: Attempt) -> tuple[Any, ...]:
    return (
        a.id,
        a.workspace_id,
        a.delivery_id,
        a.webhook_id,
        a.number,
        a.started_at,
        a.duration_ms,
        a.request_method,
        a.request_url,
        dumps(a.request_headers),
        None if a.request_body_is_event else a.request_body,
        a.response_status,
        dumps(a.response_headers),
        a.response_body,
        a.error_class,
        a.error_message,
        1 if a.request_body_is_event else 0,
    )


def delivery_params(d: Delivery, ordered: bool) -> tuple[Any, ...]:
    return (
        d.id,
        d.workspace_id,
        d.event_id,
        d.webhook_id,
        d.status.value,
        int(ordered),
        d.attempts,
        d.retry_base,
        d.next_attempt_at,
        0.0,
        d.created_at,
        d.updated_at,
    )


def rowcount(result: Any) -> int:
    """Rows a statement changed: asyncpg answers 'UPDATE 3', the SQLite adapter the count."""
    if isinstance(result, int):
        return result
    tail = str(result).split()[-1:] or ["0"]
    return int(tail[0]) if tail[0].isdigit() else 0


def page(items: list[Any], limit: int) -> Page:
    """A page of ``limit`` items fetched with one extra row, which says a next page exists."""
    if len(items) > limit:
        return Page(items=items[:limit], next_cursor=items[limit - 1].id)
    return Page(items=items, next_cursor=None)


def portal_link(row: Row) -> PortalLink:
    types = loads_or_none(row["event_types"])
    return PortalLink(
        id=row["id"],
        workspace_id=row["workspace_id"],
        token_hash=row["token_hash"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        created_by=row["created_by"],
        read_only=bool(row["read_only"]),
        event_types=None if types is None else tuple(types),
        theme=loads_or_none(row["theme"]),
        user_name=row["user_name"],
        feature_flags=tuple(loads_or_none(row["feature_flags"]) or ()),
        destination_kinds=tuple(loads_or_none(row["destination_kinds"]) or ()),
    )


def audit_entry(row: Row) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        workspace_id=row["workspace_id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        link_id=row["link_id"],
        target=row["target"],
        detail=loads_or_none(row["detail"]),
    )
