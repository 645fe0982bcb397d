"""PostgreSQL's array writes: their element types agree with the schema, and their SQL has one
typed array per column."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql

from hookline.store import pg_arrays, rows
from hookline.store.tables import metadata


def test_column_types_are_the_schemas() -> None:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    names = {"VARCHAR": "text", "TEXT": "text", "SMALLINT": "int2", "INTEGER": "int4"}
    names |= {"FLOAT": "float8", "BIGINT": "int8"}
    for table, types in pg_arrays.COLUMN_TYPES.items():
        columns = metadata.tables[table].c
        for name, kind in types.items():
            compiled = columns[name].type.compile(dialect=dialect).split("(")[0]
            assert names[compiled] == kind, (table, name)


def test_every_column_written_has_a_type() -> None:
    assert set(rows.ATTEMPT_COLUMNS) == set(pg_arrays.COLUMN_TYPES["attempts"])
    assert set(rows.DELIVERY_COLUMNS) <= set(pg_arrays.COLUMN_TYPES["deliveries"])
    # A traced publish writes every column; an untraced one all but ``traceparent``.
    assert set(rows.TRACED_EVENT_COLUMNS) == set(pg_arrays.COLUMN_TYPES["events"])
    assert set(rows.TRACED_EVENT_COLUMNS) == {c.name for c in metadata.tables["events"].c}
    attempts = {c.name for c in metadata.tables["attempts"].c}
    assert set(rows.ATTEMPT_COLUMNS) == attempts


def test_insert_sql_casts_each_parameter_to_its_array_type() -> None:
    sql = pg_arrays.insert_sql("events", rows.EVENT_COLUMNS, " ON CONFLICT DO NOTHING")
    columns = "id, workspace_id, type, body, idempotency_key, created_at, channels, tags"
    assert sql == (
        f"INSERT INTO events ({columns}) SELECT {columns} FROM unnest("
        "$1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[],"
        f" $7::text[], $8::text[]) AS v({columns}) ON CONFLICT DO NOTHING"
    )


def test_arrays_turn_rows_into_columns() -> None:
    assert pg_arrays.arrays([(1, "a", None), (2, "b", 3.5)]) == [[1, 2], ["a", "b"], [None, 3.5]]
