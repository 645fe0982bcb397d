"""What a captured request looks like when it travels again: replayed by the inspector to any
URL, or forwarded by ``hookline listen`` to an app under development. Both send its headers
minus the hop-by-hop ones, and both name the URL its sender used."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["HOP_BY_HOP", "captured_url", "forward_headers", "joined_headers", "subpath"]

# Meaningful for one connection only (RFC 9110 §7.6.1), or recomputed by the HTTP client.
HOP_BY_HOP = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
    }
)


def forward_headers(pairs: Iterable[Sequence[str]]) -> list[tuple[str, str]]:
    """A captured request's headers minus hop-by-hop ones, order and duplicates kept."""
    return [(name, value) for name, value in pairs if name.lower() not in HOP_BY_HOP]


def joined_headers(pairs: Iterable[Sequence[str]]) -> dict[str, str]:
    """``forward_headers`` with one value per name, for a sender that takes a mapping:
    repeated headers travel joined with ``", "`` (RFC 9110 §5.3), under their first spelling."""
    headers: dict[str, str] = {}
    for name, value in forward_headers(pairs):
        key = next((k for k in headers if k.lower() == name.lower()), name)
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def subpath(bin_id: str, path: str) -> str:
    """The part of a captured path after ``/in/{bin_id}``."""
    return path.removeprefix(f"/in/{bin_id}")


def captured_url(bin_id: str, path: str, query: str, base: str) -> str:
    """The URL the sender used (what a timestamped GET/DELETE signature covers), capture URLs
    being served from ``base``."""
    return f"{base}/in/{bin_id}{subpath(bin_id, path)}" + (f"?{query}" if query else "")
