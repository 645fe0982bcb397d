"""The DDL of PostgreSQL's time-partitioned history tables (see
:mod:`hookline.domain.partition_plan` for the layout), shared by the migration that builds
them and by the store that keeps partitions ahead and drops expired ones.

Each partitioned table is ``RANGE`` partitioned on an id column. A partition is named after its
span (``deliveries_p20261207``) and is an ordinary table: queries name the parent, and
PostgreSQL prunes to the partitions a condition on the id can reach.
"""

from __future__ import annotations

from typing import NamedTuple

from hookline.domain.partition_plan import Span


class Partitioned(NamedTuple):
    """A partitioned table: its partition key and the id prefix the key's values carry."""

    table: str
    key: str
    prefix: str
    #: Storage options of each partition (a partitioned parent takes none itself).
    options: str = ""


#: Deliveries, their attempts and their window links share the delivery's span, so they go
#: together; events go by their own id.
DELIVERY_SIDE = (
    # Room on each page for the claim's new row versions (see migration 0006).
    Partitioned("deliveries", "id", "dlv", " WITH (fillfactor = 50)"),
    Partitioned("attempts", "delivery_id", "dlv"),
    Partitioned("delivery_events", "delivery_id", "dlv"),
)
EVENTS = Partitioned("events", "id", "evt")
TABLES = (EVENTS, *DELIVERY_SIDE)
BY_NAME = {t.table: t for t in TABLES}

#: The partitions of a table with their bounds and whether a detach is unfinished, by name.
LIST_PARTITIONS = (
    "SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound,"
    " i.inhdetachpending AS detaching FROM pg_inherits i"
    " JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent"
    " WHERE p.relname = $1 AND p.relnamespace = current_schema()::regnamespace"
)


def partition_name(table: str, span: Span) -> str:
    return f"{table}_{span.suffix}"


def _range(t: Partitioned, span: Span) -> str:
    lower, upper = span.bounds(t.prefix)
    return f"FOR VALUES FROM ('{lower}') TO ('{upper}')"


def create_partition(t: Partitioned, span: Span, parent: str | None = None) -> str:
    """One statement that creates the partition in place, under ``parent`` (the table by
    default). It locks the parent exclusively: for a migration, which holds that lock anyway."""
    name = partition_name(t.table, span)
    return f"CREATE TABLE {name} PARTITION OF {parent or t.table} {_range(t, span)}{t.options}"


def attach_partition(t: Partitioned, span: Span) -> tuple[str, str]:
    """Two statements that create the partition beside the parent, then attach it: attaching
    takes only a ``SHARE UPDATE EXCLUSIVE`` lock on the parent, which reads and writes pass."""
    name = partition_name(t.table, span)
    return (
        f"CREATE TABLE IF NOT EXISTS {name} (LIKE {t.table} INCLUDING DEFAULTS){t.options}",
        f"ALTER TABLE {t.table} ATTACH PARTITION {name} {_range(t, span)}",
    )


def detach_partition(table: str, name: str) -> str:
    """Outside a transaction only: the partition leaves without blocking the parent's readers
    and writers (it waits for the transactions that might still see it)."""
    return f"ALTER TABLE {table} DETACH PARTITION {name} CONCURRENTLY"


def finish_detach(table: str, name: str) -> str:
    """Completes a concurrent detach that was interrupted (its process ended mid-way)."""
    return f"ALTER TABLE {table} DETACH PARTITION {name} FINALIZE"
