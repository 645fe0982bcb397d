"""What a workspace may be called and carry (pure): its name, the operator's own identifier for
it (``uid``, Svix's rules), metadata and throttle rate. One rule for Hookline's API, the Svix
API and the CLI."""

from __future__ import annotations

from collections.abc import Mapping

from hookline.domain.ids import ID_PREFIXES
from hookline.domain.models import UID_PATTERN
from hookline.domain.records import record
from hookline.errors import ValidationFailed

__all__ = ["WorkspaceDraft", "draft_problems"]

MAX_METADATA = 50


@record
class WorkspaceDraft:
    """A workspace as an operator describes it (``throttle_rate``: messages per second to all
    of its webhooks together; 0 or None: no limit)."""

    name: str
    uid: str | None = None
    metadata: Mapping[str, str] | None = None
    throttle_rate: int | None = None


def draft_problems(draft: WorkspaceDraft) -> list[ValidationFailed]:
    """Every problem of the draft (none: it may be saved)."""
    found = []
    if not 1 <= len(draft.name) <= 200:
        found.append(ValidationFailed("name: 1 to 200 characters", field="name"))
    uid = draft.uid
    if uid is not None and not (1 <= len(uid) <= 256 and UID_PATTERN.match(uid)):
        message = "uid: 1 to 256 letters, digits, '-', '_' or '.'"
        found.append(ValidationFailed(message, field="uid"))
    elif uid is not None and uid.startswith(ID_PREFIXES):
        message = f"uid: must not start with an id prefix ({uid.split('_')[0]}_)"
        found.append(ValidationFailed(message, field="uid"))
    if draft.throttle_rate is not None and not 0 <= draft.throttle_rate <= 65535:
        message = "throttle_rate: 0 to 65535 messages per second"
        found.append(ValidationFailed(message, field="throttle_rate"))
    metadata = draft.metadata or {}
    if len(metadata) > MAX_METADATA or any(len(k) > 256 or len(v) > 4096
                                           for k, v in metadata.items()):  # fmt: skip
        message = f"metadata: at most {MAX_METADATA} keys of 256 characters, values of 4096"
        found.append(ValidationFailed(message, field="metadata"))
    return found
