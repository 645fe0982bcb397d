"""The outgoing-address policy: which destinations webhook deliveries may reach.

Webhook URLs are chosen by users, so without a policy a URL such as
``http://169.254.169.254/`` would make the platform fetch cloud credentials on
the attacker's behalf. The rules are a fixed table (not ``ipaddress``'s
``is_private`` family, whose lists change between Python patch releases), and
an operator can open chosen networks with ``HOOKLINE_ALLOWED_NETWORKS``.

This module only decides; it opens no socket and resolves no name.
:mod:`hookline.delivery.resolver` enforces the decisions on every connection
(each DNS answer, and IP-literal hosts in URLs).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_N = ipaddress.ip_network
# First match wins, so the specific entries (metadata, broadcast) come before
# the ranges that contain them.
_BLOCKED_V4: tuple[tuple[IPNetwork, str], ...] = (
    (_N("169.254.169.254/32"), "cloud metadata"),  # AWS, GCP, Azure, ...
    (_N("169.254.170.2/32"), "cloud metadata"),  # AWS ECS task credentials
    (_N("100.100.100.200/32"), "cloud metadata"),  # Alibaba Cloud
    (_N("192.0.0.192/32"), "cloud metadata"),  # Oracle Cloud
    (_N("0.0.0.0/8"), "unspecified"),
    (_N("10.0.0.0/8"), "private"),
    (_N("100.64.0.0/10"), "carrier-grade NAT"),
    (_N("127.0.0.0/8"), "loopback"),
    (_N("169.254.0.0/16"), "link-local"),
    (_N("172.16.0.0/12"), "private"),
    (_N("192.0.0.0/24"), "IETF protocol assignments"),
    (_N("192.0.2.0/24"), "documentation"),
    (_N("192.88.99.0/24"), "reserved"),  # deprecated 6to4 relay anycast
    (_N("192.168.0.0/16"), "private"),
    (_N("198.18.0.0/15"), "benchmarking"),
    (_N("198.51.100.0/24"), "documentation"),
    (_N("203.0.113.0/24"), "documentation"),
    (_N("224.0.0.0/4"), "multicast"),
    (_N("255.255.255.255/32"), "broadcast"),
    (_N("240.0.0.0/4"), "reserved"),
)
_BLOCKED_V6: tuple[tuple[IPNetwork, str], ...] = (
    (_N("fd00:ec2::254/128"), "cloud metadata"),  # AWS IMDS over IPv6
    (_N("::/128"), "unspecified"),
    (_N("::1/128"), "loopback"),
    (_N("64:ff9b:1::/48"), "reserved"),  # local-use NAT64, prefix length varies
    (_N("2001:2::/48"), "benchmarking"),
    (_N("2001:db8::/32"), "documentation"),
    (_N("3fff::/20"), "documentation"),
    (_N("2001::/23"), "IETF protocol assignments"),
    (_N("fc00::/7"), "private"),
    (_N("fe80::/10"), "link-local"),
    (_N("ff00::/8"), "multicast"),
)
# Outside 2000::/3 nothing is globally routable except what _BLOCKED_V6 and
# the embeddings already cover, so the rest is refused as reserved.
_GLOBAL_UNICAST_V6 = _N("2000::/3")
_NAT64 = _N("64:ff9b::/96")
_TEREDO = _N("2001::/32")


class BlockedAddress(OSError):
    """An outgoing connection was refused because of its destination address.

    It subclasses :class:`OSError` on purpose: aiohttp's connector wraps
    resolver ``OSError``s in ``ClientConnectorDNSError`` (as ``os_error``), so
    any aiohttp caller sees an ordinary client error instead of a stray one.
    """

    def __init__(self, address: str, reason: str) -> None:
        message = f"address {address} is not allowed ({reason})"
        super().__init__(message)
        self.strerror = message  # what ClientConnectorError shows in brackets
        self.address = address
        self.reason = reason


def _parse_networks(values: Sequence[str | IPNetwork]) -> tuple[IPNetwork, ...]:
    networks: list[IPNetwork] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value))
        except ValueError as exc:
            raise ValueError(f"invalid allowed network {value!r}: {exc}") from exc
    return tuple(networks)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses a packet to ``ip`` would really reach (mapped, NAT64, 6to4, Teredo)."""
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in _NAT64:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip in _TEREDO and ip.teredo is not None:
        return list(ip.teredo)
    return []


def _table_reason(ip: IPAddress) -> str | None:
    table = _BLOCKED_V4 if ip.version == 4 else _BLOCKED_V6
    for network, reason in table:
        if ip in network:
            return reason
    if ip.version == 6 and ip not in _GLOBAL_UNICAST_V6:
        return "reserved"
    return None


class AddressPolicy:
    """Decides which destination addresses outgoing requests may reach.

    Non-public addresses are blocked unless they fall inside one of
    ``allowed_networks`` (CIDRs or bare addresses); ``ValueError`` names a
    malformed entry.
    """

    def __init__(self, allowed_networks: Sequence[str | IPNetwork] = ()) -> None:
        self.allowed_networks = _parse_networks(allowed_networks)

    def blocked_reason(self, ip: str | IPAddress) -> str | None:
        """Why ``ip`` is blocked ("loopback", "private", ...), or None if allowed."""
        address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
        if any(address in network for network in self.allowed_networks):
            return None
        if isinstance(address, ipaddress.IPv6Address):
            embedded = _embedded_ipv4(address)
            if embedded:
                reasons = [self.blocked_reason(inner) for inner in embedded]
                return next((r for r in reasons if r is not None), None)
        return _table_reason(address)

    def is_allowed(self, ip: str | IPAddress) -> bool:
        """True if requests may connect to ``ip``."""
        return self.blocked_reason(ip) is None

    def check(self, ip: str | IPAddress) -> None:
        """Raise :class:`BlockedAddress` unless requests may connect to ``ip``."""
        reason = self.blocked_reason(ip)
        if reason is not None:
            raise BlockedAddress(str(ip), reason)


_NUMERIC_PART = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")


def _parse_part(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part, 16)
    return int(part, 8) if part.startswith("0") else int(part)


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Parse the inet_aton forms (``2130706433``, ``0x7f.1``, ``0177.0.0.1``)."""
    parts = host.removesuffix(".").split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_PART.fullmatch(p) for p in parts):
        return None
    *head, last = [_parse_part(p) for p in parts]
    if any(n > 0xFF for n in head) or last >= 1 << (8 * (5 - len(parts))):
        return None
    value = last
    for index, number in enumerate(head):
        value |= number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return _legacy_ipv4(host)


def check_literal_host(host: str, policy: AddressPolicy) -> None:
    """Raise :class:`BlockedAddress` if ``host`` is an IP literal ``policy`` refuses.

    Hostnames pass: their DNS answers are judged when a connection resolves
    them. Numeric hostnames in the legacy inet_aton forms (``2130706433``,
    ``0x7f.1``) count as literals because that is how the system resolver reads
    them. ``host`` is a URL's host as the HTTP client will dial it, without
    brackets (``::1``, ``fe80::1%eth0``).
    """
    address = _literal_address(host)
    if address is not None:
        policy.check(address)
