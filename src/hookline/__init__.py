"""Hookline: a self-hosted webhook platform.

The package root stays import-light so that receivers can ``import hookline.verify`` without
the server's dependencies; the publisher client is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["AsyncClient", "Client", "__version__"]

if TYPE_CHECKING:
    from hookline.client import AsyncClient, Client


def __getattr__(name: str) -> Any:
    if name in ("Client", "AsyncClient"):
        from hookline import client

        return getattr(client, name)
    raise AttributeError(f"module 'hookline' has no attribute {name!r}")
