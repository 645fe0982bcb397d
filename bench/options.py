"""Every knob of a benchmark run, with the defaults of ``python -m bench``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Options:
    runs: int = 3
    events: int = 50_000
    # Requests in flight per worker (and per webhook: the throughput runs use one webhook).
    concurrency: int = 100
    publishers: int = 32
    # Events per publish request in the throughput runs (POST …/events/batch); 1 = one request
    # per event (POST …/events), as the latency runs always do.
    publish_batch: int = 100
    backends: tuple[str, ...] = ("sqlite", "sqlite1", "sqlite2", "pg1", "pg2")
    celery_pools: tuple[str, ...] = ("prefork-4", "prefork-8", "gevent-100")
    latency_rates: tuple[int, ...] = (100, 500, 1000)
    latency_seconds: float = 10.0
    latency_backends: tuple[str, ...] = ("sqlite", "pg1")
    fanout_sizes: tuple[int, ...] = (1_000, 10_000)
    fanout_backends: tuple[str, ...] = ("sqlite", "sqlite1", "sqlite2", "pg2")
    isolation_events: int = 100
    isolation_timeout: float = 5.0
    growth_sizes: tuple[int, ...] = (10_000, 1_000_000)
    growth_backends: tuple[str, ...] = ("sqlite", "pg1")
    growth_ingest: int = 2_000
    growth_window: float = 20.0
    # The ``volume`` scenario (PostgreSQL): attempt rows of history, the past days they span,
    # and the deliveries of the database whose conversion to partitions is timed.
    volume_attempts: int = 20_000_000
    volume_days: int = 30
    volume_migrate_rows: int = 1_000_000
    sink: str = "nginx"
    # Webhooks the ``instructions`` backlog is spread over: 1 is one endpoint's backlog; as many
    # as the deliveries is the fan-out's shape (each webhook holds one delivery).
    instructions_webhooks: int = 1
    # Broker kinds the ``destinations`` scenario publishes to (``--events`` messages each).
    destination_kinds: tuple[str, ...] = ("rabbitmq", "redis")
    # HOOKLINE_* variables for every Hookline process (``--env``), e.g. HOOKLINE_CLAIM_BATCH.
    extra: dict[str, str] = field(default_factory=dict)
