"""The event-type catalog's statements: a workspace's entries and the shared ones (stored under
workspace ``''``), read one scope at a time or a workspace's together with the shared."""

from __future__ import annotations

from typing import NamedTuple

from hookline.store.statements.listing import Listing

#: The shared catalog's listing, by name, after a name and without the archived ones on demand.
EVENT_TYPES = Listing(
    "SELECT * FROM event_types WHERE workspace_id = $1",
    1,
    ("name > $?", "archived = $?"),
    " ORDER BY name",
)
#: The same, read back from a name: the page before it (names descending).
EVENT_TYPES_BEFORE = Listing(
    "SELECT * FROM event_types WHERE workspace_id = $1",
    1,
    ("name < $?", "archived = $?"),
    " ORDER BY name DESC",
)


class CatalogSql(NamedTuple):
    create: str = (
        "INSERT INTO event_types (id, workspace_id, name, description, schema, example,"
        " created_at, updated_at, schemas, archived, deprecated, feature_flags, group_name,"
        " enforce) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    )
    update: str = (
        "UPDATE event_types SET description = $3, schema = $4, example = $5, updated_at = $6,"
        " schemas = $7, archived = $8, deprecated = $9, feature_flags = $10, group_name = $11,"
        " enforce = $12 WHERE workspace_id = $1 AND id = $2"
    )
    one: str = "SELECT * FROM event_types WHERE workspace_id = $1 AND name = $2"
    #: The workspace's entry of this name, else the shared one: the workspace's sorts first.
    found: str = (
        "SELECT * FROM event_types WHERE workspace_id IN ($1, '') AND name = $2"
        " ORDER BY workspace_id DESC"
    )
    scope: str = "SELECT * FROM event_types WHERE workspace_id = $1 ORDER BY name"
    #: A workspace's entries and the shared ones; of two with one name, the workspace's first.
    view: str = (
        "SELECT * FROM event_types WHERE workspace_id IN ($1, '') ORDER BY name, workspace_id DESC"
    )
    delete: str = "DELETE FROM event_types WHERE workspace_id = $1 AND name = $2"
    #: Publishing reads a workspace's catalog with its routing (see ``services.catalog_gate``).
    bump_version: str = "UPDATE workspaces SET config_version = config_version + 1 WHERE id = $1"
