"""The schema as SQLAlchemy metadata: the reference the migrations must reproduce.

Times are epoch seconds (double precision) and flags small integers, so the same SQL and the
same row decoding serve SQLite and PostgreSQL. JSON columns are text: an event's body must keep
its exact bytes, and everything else is parsed with orjson.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

_TIME = sa.Float


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(64), primary_key=True)


def _ws() -> sa.Column[str]:
    return sa.Column("workspace_id", sa.String(64), nullable=False)


def _partial(name: str, *columns: str, where: str) -> sa.Index:
    """An index of the rows matching ``where`` only, on both databases."""
    return sa.Index(name, *columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where))


meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# Dashboard sessions signed out before they expired (kept until they would have expired).
revoked_sessions = sa.Table(
    "revoked_sessions",
    metadata,
    sa.Column("sid", sa.String(64), primary_key=True),
    sa.Column("expires_at", _TIME, nullable=False),
    sa.Index("ix_revoked_sessions_expires", "expires_at"),
)

workspaces = sa.Table(
    "workspaces",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("config_version", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("created_at", _TIME, nullable=False),
    # The operator's own identifier (Svix's application uid), unique when set.
    sa.Column("uid", sa.String(256)),
    sa.Column("metadata", sa.Text, nullable=False, server_default="{}"),
    sa.Column("throttle_rate", sa.Integer),
    sa.Column("strict_event_types", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("updated_at", _TIME),
    sa.Index("uq_workspaces_uid", "uid", unique=True),
)

# Named keys with the admin token's rights (the Svix API's tokens among them).
operator_keys = sa.Table(
    "operator_keys",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("prefix", sa.String(32), nullable=False),
    sa.Column("key_hash", sa.String(128), nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("revoked_at", _TIME),
    sa.UniqueConstraint("key_hash", name="uq_operator_keys_hash"),
)

# Links that open the customer portal for one workspace (the token's SHA-256 hash only).
portal_links = sa.Table(
    "portal_links",
    metadata,
    _id(),
    _ws(),
    sa.Column("token_hash", sa.String(128), nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("expires_at", _TIME, nullable=False),
    sa.Column("read_only", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("event_types", sa.Text),
    sa.Column("feature_flags", sa.Text),
    sa.Column("theme", sa.Text),
    sa.Column("user_name", sa.String(256)),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("destination_kinds", sa.Text),
    sa.UniqueConstraint("token_hash", name="uq_portal_links_hash"),
    sa.Index("ix_portal_links_workspace", "workspace_id"),
    sa.Index("ix_portal_links_expires", "expires_at"),
)

# A workspace's default portal theme (a link's own theme wins, field by field).
portal_themes = sa.Table(
    "portal_themes",
    metadata,
    sa.Column("workspace_id", sa.String(64), primary_key=True),
    sa.Column("theme", sa.Text, nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
)

# What was done through the customer portal and to its links, per workspace.
audit_log = sa.Table(
    "audit_log",
    metadata,
    _id(),
    _ws(),
    sa.Column("at", _TIME, nullable=False),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("link_id", sa.String(64)),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(256)),
    sa.Column("detail", sa.Text),
    sa.Index("ix_audit_log_workspace", "workspace_id", "id"),
)

# The first 2xx answer to a POST sent with an ``idempotency-key`` (``status`` NULL while the
# first request runs), replayed to a repeat until ``expires_at``.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("status", sa.Integer),
    sa.Column("body", sa.Text),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("expires_at", _TIME, nullable=False),
    sa.Index("ix_idempotency_expires", "expires_at"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    _id(),
    _ws(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("prefix", sa.String(32), nullable=False),
    sa.Column("key_hash", sa.String(128), nullable=False, unique=True),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("revoked_at", _TIME),
)

event_types = sa.Table(
    "event_types",
    metadata,
    _id(),
    _ws(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("schema", sa.Text),
    sa.Column("example", sa.Text),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
    # Every version of the schema ({"1": …, "2": …}); ``schema`` is the newest.
    sa.Column("schemas", sa.Text),
    sa.Column("archived", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("deprecated", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("feature_flags", sa.Text),
    sa.Column("group_name", sa.String(256)),
    sa.Column("enforce", sa.SmallInteger, nullable=False, server_default="0"),
    sa.UniqueConstraint("workspace_id", "name", name="uq_event_types_name"),
)

flows = sa.Table(
    "flows",
    metadata,
    _id(),
    _ws(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    # The trigger (events, filter) and aggregation window shared by the flow's actions.
    sa.Column("config", sa.Text, nullable=False, server_default="{}"),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
    sa.UniqueConstraint("workspace_id", "name", name="uq_flows_name"),
)

webhooks = sa.Table(
    "webhooks",
    metadata,
    _id(),
    _ws(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("flow_id", sa.String(64)),
    sa.Column("enabled", sa.SmallInteger, nullable=False),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("secrets", sa.Text, nullable=False),
    sa.Column("disabled_reason", sa.Text),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
    sa.Column("uid", sa.String(256)),
    sa.UniqueConstraint("workspace_id", "name", name="uq_webhooks_name"),
    sa.Index("uq_webhooks_uid", "workspace_id", "uid", unique=True),
    sa.Index("ix_webhooks_flow", "flow_id"),
    # Every claim excludes the disabled webhooks; few are, so the index stays tiny.
    _partial("ix_webhooks_disabled", "id", where="enabled = 0"),
)

events = sa.Table(
    "events",
    metadata,
    _id(),
    _ws(),
    sa.Column("type", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("idempotency_key", sa.String(200)),
    sa.Column("created_at", _TIME, nullable=False),
    # JSON lists; NULL when the event has none.
    sa.Column("channels", sa.Text),
    sa.Column("tags", sa.Text),
    # The W3C traceparent of the publish's span, when traces are exported; NULL otherwise.
    sa.Column("traceparent", sa.Text),
    sa.Index("ix_events_ws_created", "workspace_id", "created_at"),
    # On PostgreSQL events, deliveries, attempts and window links are partitioned by the time
    # in an id (docs/operations.md, "Partitions and retention"; migration 0013).
    postgresql_partition_by="RANGE (id)",
)

# Each idempotency key a workspace has used, and the event that holds it: the key's uniqueness
# lives here, outside the partitioned ``events`` (see migration 0013).
event_keys = sa.Table(
    "event_keys",
    metadata,
    _ws(),
    sa.Column("idempotency_key", sa.String(200), nullable=False),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "idempotency_key", name="pk_event_keys"),
    sa.Index("ix_event_keys_event", "event_id"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    _id(),
    _ws(),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("webhook_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("ordered", sa.SmallInteger, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("retry_base", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", _TIME, nullable=False),
    sa.Column("lease_until", _TIME, nullable=False),
    sa.Column("leased_by", sa.String(64)),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_error", sa.Text),
    # 0 for a delivery of one event; the number of events collected for an aggregation window.
    sa.Column("batch_size", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
    _partial("ix_deliveries_due", "next_attempt_at", where="status = 'pending'"),
    _partial("ix_deliveries_fifo", "webhook_id", "id", where="status = 'pending'"),
    sa.Index("ix_deliveries_event", "event_id"),
    sa.Index("ix_deliveries_webhook_created", "webhook_id", "created_at"),
    sa.Index("ix_deliveries_ws_created", "workspace_id", "created_at"),
    # The oldest pending delivery bounds each claim to the partitions that can hold pending
    # work (PostgreSQL; see migration 0013).
    _partial("ix_deliveries_pending", "id", where="status = 'pending'"),
    # (PostgreSQL: each partition keeps room on its pages for the claim's new row versions;
    # see migrations 0006 and 0013.)
    postgresql_partition_by="RANGE (id)",
)

attempts = sa.Table(
    "attempts",
    metadata,
    _id(),
    _ws(),
    sa.Column("delivery_id", sa.String(64), nullable=False),
    sa.Column("webhook_id", sa.String(64), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("started_at", _TIME, nullable=False),
    sa.Column("duration_ms", _TIME, nullable=False),
    sa.Column("request_method", sa.String(10), nullable=False),
    sa.Column("request_url", sa.Text, nullable=False),
    sa.Column("request_headers", sa.Text, nullable=False),
    sa.Column("request_body", sa.Text),
    sa.Column("response_status", sa.Integer),
    sa.Column("response_headers", sa.Text, nullable=False),
    sa.Column("response_body", sa.Text, nullable=False),
    sa.Column("error_class", sa.String(32)),
    sa.Column("error_message", sa.Text),
    # 1: the request body was the event's body, unchanged; request_body is NULL (see 0005).
    sa.Column("request_body_is_event", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Index("ix_attempts_delivery", "delivery_id"),
    # A webhook's attempts newest first (the delivery log, the Svix API's list by endpoint).
    sa.Index("ix_attempts_webhook", "webhook_id", "id"),
    # (PostgreSQL: the primary key is (id, delivery_id), as a partitioned table's must be.)
    postgresql_partition_by="RANGE (delivery_id)",
)

# The events an aggregation window collected, in arrival order.
delivery_events = sa.Table(
    "delivery_events",
    metadata,
    sa.Column("delivery_id", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Index("ix_delivery_events_event", "event_id"),
    postgresql_partition_by="RANGE (delivery_id)",
)

# The last known state of each entity published through the entity-events endpoint, so that
# updates carry ``oldValue`` and a computed ``updateMask``.
entities = sa.Table(
    "entities",
    metadata,
    _ws(),
    sa.Column("path", sa.String(1024), nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "path", name="pk_entities"),
)

# Inspector: capture URLs and the requests they received, byte for byte.
bins = sa.Table(
    "bins",
    metadata,
    _id(),
    _ws(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("request_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("expires_at", _TIME, nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    # The sum of its captures' ``size``, kept as they come and go (checked against the quota).
    sa.Column("byte_count", sa.BigInteger, nullable=False, server_default="0"),
    sa.Index("ix_bins_ws", "workspace_id"),
)

# Each workspace's bins and the bytes they hold: the row a capture or a new bin locks, so the
# workspace's quotas hold across processes.
bin_usage = sa.Table(
    "bin_usage",
    metadata,
    sa.Column("workspace_id", sa.String(64), primary_key=True),
    sa.Column("bin_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("byte_count", sa.BigInteger, nullable=False, server_default="0"),
)

bin_requests = sa.Table(
    "bin_requests",
    metadata,
    _id(),
    _ws(),
    sa.Column("bin_id", sa.String(64), nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("query", sa.Text, nullable=False),
    sa.Column("headers", sa.Text, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("received_at", _TIME, nullable=False),
    # The latest replays of the request (JSON list, newest last, a few dozen at most).
    sa.Column("replays", sa.Text, nullable=False, server_default="[]"),
    # The bytes the capture counts for: method, path, query, headers and body.
    sa.Column("size", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_bin_requests_bin", "bin_id", "id"),
)
