"""The inspector's statements: bins, the requests they captured, and the quotas' running totals."""

from __future__ import annotations

from typing import NamedTuple

from hookline.store.statements.listing import Listing

BINS = Listing("SELECT * FROM bins WHERE workspace_id = $1", 1, ("id < $?",), " ORDER BY id DESC")
_REQUESTS = "SELECT * FROM bin_requests WHERE workspace_id = $1 AND bin_id = $2"
#: Newest first, before a cursor.
OLDER_REQUESTS = Listing(_REQUESTS, 2, ("id < $?",), " ORDER BY id DESC")
#: Oldest first, after a request (for polling).
NEWER_REQUESTS = Listing(_REQUESTS, 2, ("id > $?",), " ORDER BY id ASC")


class InspectorSql(NamedTuple):
    ensure_usage: str = (
        "INSERT INTO bin_usage (workspace_id, bin_count, byte_count) VALUES ($1, 0, 0)"
        " ON CONFLICT (workspace_id) DO NOTHING"
    )
    count_bin: str = (
        "UPDATE bin_usage SET bin_count = bin_count + 1"
        " WHERE workspace_id = $1 AND ($2 < 0 OR bin_count < $2)"
    )
    create_bin: str = (
        "INSERT INTO bins (id, workspace_id, name, config, request_count, expires_at,"
        " created_at, byte_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    bin: str = "SELECT * FROM bins WHERE workspace_id = $1 AND id = $2"
    any_bin: str = "SELECT * FROM bins WHERE id = $1"
    delete_bin: str = "DELETE FROM bins WHERE workspace_id = $1 AND id = $2 RETURNING byte_count"
    delete_requests: str = "DELETE FROM bin_requests WHERE bin_id = $1"
    give_back: str = (
        "UPDATE bin_usage SET bin_count = bin_count - $2, byte_count = byte_count - $3"
        " WHERE workspace_id = $1"
    )
    #: The bin's row, locked until commit: concurrent captures judge their room in turn.
    locked_bin: str = "SELECT * FROM bins WHERE id = $1{row_lock}"
    #: The workspace's bytes, its row locked until commit.
    usage: str = "SELECT byte_count FROM bin_usage WHERE workspace_id = $1{row_lock}"
    # The oldest captures of a bin to drop: up to the first whose running count and bytes
    # reach $2 and $3 (the id to drop up to, inclusive).
    drop_up_to: str = (
        "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n,"
        " SUM(size) OVER (ORDER BY id) AS freed FROM bin_requests WHERE bin_id = $1) oldest"
        " WHERE n >= $2 AND freed >= $3 ORDER BY id LIMIT 1"
    )
    drop: str = "DELETE FROM bin_requests WHERE bin_id = $1 AND id <= $2 RETURNING size"
    last_request: str = "SELECT MAX(id) AS last FROM bin_requests WHERE bin_id = $1"
    insert_request: str = (
        "INSERT INTO bin_requests (id, workspace_id, bin_id, method, path, query, headers,"
        " body, source, received_at, replays, size)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '[]', $11)"
    )
    count_capture: str = (
        "UPDATE bins SET request_count = request_count + $2,"
        " byte_count = byte_count + $3 WHERE id = $1"
    )
    request: str = f"{_REQUESTS} AND id = $3"
    #: Writing the row first takes its lock, so two replays recorded at once both stay.
    touch_request: str = (
        "UPDATE bin_requests SET replays = replays"
        " WHERE workspace_id = $1 AND bin_id = $2 AND id = $3"
    )
    replays: str = (
        "SELECT replays FROM bin_requests WHERE workspace_id = $1 AND bin_id = $2 AND id = $3"
    )
    set_replays: str = (
        "UPDATE bin_requests SET replays = $4 WHERE workspace_id = $1 AND bin_id = $2 AND id = $3"
    )
    expired_bins: str = (
        "DELETE FROM bins WHERE expires_at <= $1 RETURNING id, workspace_id, byte_count"
    )
    delete_bins_requests: str = "DELETE FROM bin_requests WHERE bin_id {in $1}"
