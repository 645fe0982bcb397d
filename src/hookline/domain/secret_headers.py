"""Credentials in a webhook's custom headers: which headers carry them, and their mask.

A custom header is a credential when its name says so (``Authorization``, ``Proxy-Authorization``,
``Cookie``, ``X-Api-Key``, ``X-Auth-Token``, ``X-Client-Secret`` …: the name contains one of
:data:`_CREDENTIAL_WORDS`, in any case) or when the webhook's ``secret_headers`` names it. Their
values are encrypted at rest, shown as :data:`MASK` by the API, the dashboard, flow exports and
the attempt log, and sent as configured.

The mask goes both ways: an edit that sends :data:`MASK` back as a header's value keeps the value
stored under that name (:func:`restore`), so a configuration read from the API or the dashboard
can be saved again without knowing its credentials. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

MASK = "[redacted]"
_CREDENTIAL_WORDS = (
    "authorization",
    "cookie",
    "token",
    "secret",
    "password",
    "api-key",
    "apikey",
    "api_key",
)


@lru_cache(maxsize=1024)
def _named_credential(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _CREDENTIAL_WORDS)


def is_credential(name: str, marked: Iterable[str] = ()) -> bool:
    """Whether a header's value is a credential: by its name, or marked secret (any case)."""
    if _named_credential(name):
        return True
    lowered = name.lower()
    return any(lowered == m.lower() for m in marked)


def credential_names(headers: Iterable[str], marked: Iterable[str] = ()) -> set[str]:
    """The names among ``headers`` whose values are credentials."""
    marks = tuple(marked)
    return {name for name in headers if is_credential(name, marks)}


def mask(headers: Mapping[str, str], marked: Iterable[str] = ()) -> dict[str, str]:
    """The headers as shown: every credential's value replaced by :data:`MASK`."""
    hidden = credential_names(headers, marked)
    return {k: MASK if k in hidden else v for k, v in headers.items()}


def restore(sent: Mapping[str, str], stored: Mapping[str, str]) -> dict[str, str]:
    """The headers an edit sends, with each :data:`MASK` value replaced by the value stored
    under that name (names compare in any case). A mask with nothing stored behind it is a
    ``ValueError`` naming the header: the real value must be given."""
    by_name = {k.lower(): v for k, v in stored.items()}
    restored = {}
    for name, value in sent.items():
        if value == MASK:
            if name.lower() not in by_name:
                raise ValueError(
                    f"header {name!r} has the masked value {MASK!r} but no value is stored"
                    " under that name: give the real value"
                )
            value = by_name[name.lower()]
        restored[name] = value
    return restored


def masked(headers: Mapping[str, str]) -> list[str]:
    """The names whose value is :data:`MASK` (exported without their credentials)."""
    return [name for name, value in headers.items() if value == MASK]
