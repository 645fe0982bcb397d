"""Enforcing the outgoing-address policy on every connection a delivery opens.

:mod:`hookline.domain.address_policy` decides which addresses are allowed; this
module applies the decision at the two points where aiohttp picks an address:

* :class:`GuardedResolver` filters each DNS answer. The connector only dials
  addresses its resolver returned, so the address checked is the address used
  and a DNS-rebinding answer cannot slip in between check and connect.
* :func:`check_url_host` judges IP-literal hosts, which aiohttp never sends to
  the resolver. It reads the host with yarl, the parser aiohttp itself connects
  with, so the host judged is exactly the host dialled (a second URL parser
  would disagree on cases such as ``[fe80::1%25eth0]``).
"""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from hookline.domain.address_policy import AddressPolicy, check_literal_host


class GuardedResolver(AbstractResolver):
    """A resolver that drops disallowed addresses from every answer.

    If nothing is left it raises :class:`~hookline.domain.address_policy.BlockedAddress`,
    which the connector reports as ``ClientConnectorDNSError`` with the original
    in ``os_error``. It also catches hostnames that getaddrinfo reads as numbers
    (``0x7f000001`` is 127.0.0.1), since the answer is judged, not the name.
    """

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner if inner is not None else ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve ``host`` with the wrapped resolver and keep allowed answers."""
        answers = await self._inner.resolve(host, port, family)
        allowed = [a for a in answers if self._policy.is_allowed(a["host"])]
        if not allowed and answers:
            self._policy.check(answers[0]["host"])
        return allowed

    async def close(self) -> None:
        """Close the wrapped resolver."""
        await self._inner.close()


def check_url_host(url: str, policy: AddressPolicy) -> None:
    """Raise ``BlockedAddress`` if ``url``'s host is a disallowed IP literal.

    aiohttp skips the resolver for IP literals, so they are judged here;
    hostnames pass (the resolver judges their answers). A malformed URL raises
    ``ValueError``.
    """
    host = URL(url).host
    if host is not None:
        check_literal_host(host, policy)
