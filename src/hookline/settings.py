"""One frozen settings object, validated once at start-up and passed in explicitly.

Values come from defaults, then ``HOOKLINE_*`` environment variables, then CLI flags (click
resolves the last two; every flag names its variable in ``--help``).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from hookline.domain.partition_plan import INTERVALS, Interval
from hookline.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///./hookline.db"


@dataclass(frozen=True)
class Settings:
    """Everything an API process or a worker needs to know about its deployment."""

    database_url: str = DEFAULT_DATABASE_URL
    # What sits between Hookline and PostgreSQL: "none" (a direct connection or a session-mode
    # pooler) or "transaction" (PgBouncer with pool_mode=transaction: no statement is prepared
    # for reuse and no pooled connection LISTENs; see docs/operations.md, "Behind PgBouncer").
    database_pooler: str = "none"
    # A direct PostgreSQL connection for LISTEN when database_url goes through a transaction
    # pooler; without one such workers poll (every poll_interval) instead of being woken.
    listen_database_url: str | None = field(default=None, repr=False)
    admin_token: str | None = field(default=None, repr=False)
    allowed_networks: tuple[str, ...] = ()
    max_body_bytes: int = 1024 * 1024
    # A batch publish's whole body; each event in it is still held to max_body_bytes.
    max_batch_body_bytes: int = 16 * 1024 * 1024
    # How long an API key found is trusted without reading it again (revocation through
    # another process takes effect here within this; 0 reads it on every request).
    api_key_cache_seconds: float = 5.0
    worker_concurrency: int = 200
    per_webhook_concurrency: int = 20
    claim_batch: int = 200
    # The least time from a claim that found all that was due to the next claim: what falls
    # due meanwhile is claimed together (docs/operations.md, "Sizing"). 0 claims at every wake.
    claim_interval: float = 0.02
    poll_interval: float = 1.0
    lease_seconds: float = 60.0
    response_excerpt_bytes: int = 4096
    rotation_grace_seconds: float = 24 * 3600
    max_webhooks_per_flow: int = 50
    retention_days: float = 30.0
    # PostgreSQL: the span of each history partition, "day" or "week" (docs/operations.md,
    # "Partitions and retention"). SQLite has no partitions.
    partition_interval: str = "day"
    auto_disable_after_seconds: float = 5 * 86400
    maintenance_interval: float = 300.0
    secret_key: str | None = field(default=None, repr=False)
    smtp_url: str | None = field(default=None, repr=False)
    public_url: str | None = None
    # Where capture URLs (``/in/{bin_id}``) are shown as living: a separate origin keeps what a
    # bin answers away from the dashboard's cookies and pages (as webhook.site does).
    capture_base_url: str | None = None
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs or CIDRs; empty:
    # none, so a client cannot pick the address the sign-in and auth limits count it under).
    trusted_proxies: tuple[str, ...] = ()
    # Failed bearer authentications one client address may make per minute before 429.
    auth_failures_per_minute: int = 30
    # /metrics: on its own port (not the API's) and/or behind a bearer token.
    metrics_port: int | None = None
    # The address the metrics port listens on (loopback unless opened to a scraper).
    metrics_host: str = "127.0.0.1"
    metrics_token: str | None = field(default=None, repr=False)
    # The inspector's quotas: bins per workspace, bytes one bin keeps, bytes all of a
    # workspace's bins keep.
    max_bins_per_workspace: int = 20
    max_bin_bytes: int = 10 * 1024 * 1024
    max_workspace_bin_bytes: int = 100 * 1024 * 1024
    # The origins that may frame the customer portal (space-separated CSP sources such as
    # ``https://app.example.com https://*.example.com``); every other page may not be framed.
    portal_frame_ancestors: str = ""
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        _check_database_url(self.database_url)
        _check_pooler(self)
        if self.partition_interval not in INTERVALS:
            raise ConfigError(
                f"HOOKLINE_PARTITION_INTERVAL: {self.partition_interval!r} is not one of"
                f" {', '.join(INTERVALS)}"
            )
        for cidr in self.allowed_networks:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ConfigError(f"HOOKLINE_ALLOWED_NETWORKS: {cidr!r} is not a CIDR") from exc
        _positive(self, "max_body_bytes", "worker_concurrency", "per_webhook_concurrency")
        _positive(self, "max_batch_body_bytes")
        for cidr in self.trusted_proxies:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ConfigError(
                    f"HOOKLINE_TRUSTED_PROXIES: {cidr!r} is not an IP or CIDR"
                ) from exc
        _positive(self, "auth_failures_per_minute", "max_bins_per_workspace")
        _positive(self, "max_bin_bytes", "max_workspace_bin_bytes")
        if self.api_key_cache_seconds < 0:
            raise ConfigError("api_key_cache_seconds must not be negative")
        if not 0 <= self.claim_interval <= 1:
            raise ConfigError("claim_interval must be from 0 to 1 second")
        _positive(self, "claim_batch", "poll_interval", "lease_seconds", "response_excerpt_bytes")
        for source in self.portal_frame_ancestors.split():
            if not _FRAME_SOURCE.match(source):
                raise ConfigError(
                    f"HOOKLINE_PORTAL_FRAME_ANCESTORS: {source!r} is not an origin such as"
                    " https://app.example.com, https://*.example.com or 'self'"
                )
        if self.lease_seconds < 35:
            raise ConfigError("lease_seconds must exceed the 30 s request timeout (>= 35)")

    @property
    def trusted_proxy_networks(self) -> list[str]:
        """``trusted_proxies`` as networks (``10.1.2.3/8`` is ``10.0.0.0/8``), the form
        uvicorn's ``forwarded_allow_ips`` takes (it would treat a host-bits CIDR as a name)."""
        return [str(ipaddress.ip_network(p, strict=False)) for p in self.trusted_proxies]

    @property
    def partitions(self) -> Interval:
        """``partition_interval``, checked."""
        return "week" if self.partition_interval == "week" else "day"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given non-None values replaced."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults overlaid with every ``HOOKLINE_<FIELD>`` variable that is set."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"HOOKLINE_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.name, f.type, raw)
        return cls(**values)


# A CSP source naming one origin (scheme optional), a subdomain wildcard or an IPv6 address:
# never a bare ``*`` nor anything that could end the directive (``;``, spaces, quotes).
_FRAME_SOURCE = re.compile(
    r"^('self'|(https?://)?((\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9a-fA-F:]+\])"
    r"(:(\d{1,5}|\*))?)$"
)


def parse_networks(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.replace(";", ",").split(",") if part.strip())


def _coerce(name: str, type_name: Any, raw: str) -> Any:
    kind = str(type_name)
    try:
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
    except ValueError as exc:
        raise ConfigError(f"HOOKLINE_{name.upper()}: {raw!r} is not a number") from exc
    if kind.startswith("tuple"):
        return parse_networks(raw)
    return raw


def _positive(settings: Settings, *names: str) -> None:
    for name in names:
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{name} must be positive")


def _check_database_url(url: str) -> None:
    if url.startswith("sqlite:///") or url.startswith(("postgresql://", "postgres://")):
        return
    raise ConfigError(
        f"unsupported database URL {url.split('@')[-1]!r}: use sqlite:///PATH or postgresql://…"
    )


#: The values of ``database_pooler``.
POOLERS = ("none", "transaction")


def _check_pooler(settings: Settings) -> None:
    """Both settings concern PostgreSQL only (a SQLite deployment ignores them)."""
    if settings.database_pooler not in POOLERS:
        raise ConfigError(
            f"HOOKLINE_DATABASE_POOLER: {settings.database_pooler!r} is not one of"
            f" {', '.join(POOLERS)}"
        )
    listen = settings.listen_database_url
    if listen is not None and not listen.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            f"HOOKLINE_LISTEN_DATABASE_URL: {listen.split('@')[-1]!r} is not a postgresql:// URL"
        )
