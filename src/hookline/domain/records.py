"""``@record``: an immutable data class that is cheap to make.

``@dataclass(frozen=True)`` enforces immutability at run time by setting each field through
``object.__setattr__`` in ``__init__``, which makes building one several times dearer than a
plain data class. A delivery builds a dozen such objects (the claimed delivery, its event, the
request, the response, the attempt, the outcome…): frozen, they cost about a tenth of a
worker's instructions per delivery (856k → 763k, measured with callgrind on an in-process drain;
see ``python -m bench instructions``).

A record is frozen for the type checker (mypy rejects any assignment to a field), compared and
hashed by value like a frozen data class, and has slots; only the run-time guard is left out.
Use ``dataclasses.replace`` to derive a changed copy, as with any frozen data class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from typing_extensions import dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True)
def record(cls: type[T]) -> type[T]:
    return dataclass(slots=True, unsafe_hash=True)(cls)
