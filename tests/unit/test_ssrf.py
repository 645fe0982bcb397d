"""The SSRF address policy and URL-literal check (pure, no network)."""

from __future__ import annotations

import ipaddress

import pytest

from hookline.delivery.resolver import check_url_host
from hookline.domain.address_policy import AddressPolicy, BlockedAddress

BLOCKED = [
    # IPv4
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.0.0.1", "private"),
    ("10.255.255.255", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "cloud metadata"),
    ("169.254.170.2", "cloud metadata"),
    ("100.100.100.200", "cloud metadata"),
    ("192.0.0.192", "cloud metadata"),
    ("169.254.1.1", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.255", "carrier-grade NAT"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.254", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("192.0.0.8", "IETF protocol assignments"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.255", "benchmarking"),
    ("192.88.99.1", "reserved"),
    # IPv6
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fc00::1", "private"),
    ("fd12:3456:789a::1", "private"),
    ("fd00:ec2::254", "cloud metadata"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("febf::1", "link-local"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    ("2001:2::1", "benchmarking"),
    ("2001:10::1", "IETF protocol assignments"),
    ("100::1", "reserved"),
    ("::127.0.0.1", "reserved"),  # deprecated IPv4-compatible form
    ("fec0::1", "reserved"),  # deprecated site-local
    ("64:ff9b:1::a00:1", "reserved"),
    # addresses that embed an IPv4 address are judged by it
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.1.2.3", "private"),
    ("::ffff:169.254.169.254", "cloud metadata"),
    ("::ffff:0.0.0.0", "unspecified"),
    ("64:ff9b::7f00:1", "loopback"),
    ("64:ff9b::192.168.0.1", "private"),
    ("2002:7f00:1::1", "loopback"),
    ("2002:a9fe:a9fe::", "cloud metadata"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo client 127.0.0.1
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "documentation"),  # Teredo client 192.0.2.45
]

ALLOWED = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "172.15.255.255",
    "172.32.0.0",
    "100.63.255.255",
    "100.128.0.0",
    "169.253.255.255",
    "198.17.255.255",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::8.8.8.8",
    "2002:808:808::1",
    "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo client 8.8.8.8
]


@pytest.mark.parametrize(("address", "reason"), BLOCKED)
def test_blocked_addresses_name_their_reason(address: str, reason: str) -> None:
    policy = AddressPolicy()
    assert policy.blocked_reason(address) == reason
    assert not policy.is_allowed(address)
    with pytest.raises(BlockedAddress) as info:
        policy.check(address)
    assert info.value.reason == reason
    assert address in str(info.value) and reason in str(info.value)


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    policy = AddressPolicy()
    assert policy.is_allowed(address)
    assert policy.blocked_reason(address) is None
    policy.check(address)


def test_accepts_address_objects() -> None:
    policy = AddressPolicy()
    assert not policy.is_allowed(ipaddress.ip_address("127.0.0.1"))
    assert policy.is_allowed(ipaddress.IPv6Address("2606:4700::1"))


def test_allowed_networks_override_the_defaults() -> None:
    policy = AddressPolicy(["127.0.0.0/8", "::1/128", ipaddress.ip_network("10.1.0.0/16")])
    assert policy.is_allowed("127.0.0.1")
    assert policy.is_allowed("127.9.9.9")
    assert policy.is_allowed("::1")
    assert policy.is_allowed("10.1.2.3")
    assert not policy.is_allowed("10.2.0.1")
    assert not policy.is_allowed("192.168.0.1")
    assert policy.is_allowed("8.8.8.8")


def test_allowed_network_covers_embedded_ipv4() -> None:
    policy = AddressPolicy(["127.0.0.0/8"])
    assert policy.is_allowed("::ffff:127.0.0.1")
    assert policy.is_allowed("64:ff9b::7f00:1")
    assert not policy.is_allowed("::1")


def test_allowed_metadata_network_is_explicit() -> None:
    assert not AddressPolicy(["10.0.0.0/8"]).is_allowed("169.254.169.254")
    assert AddressPolicy(["169.254.169.254/32"]).is_allowed("169.254.169.254")


def test_bare_address_is_a_single_host_network() -> None:
    policy = AddressPolicy(["192.168.1.10"])
    assert policy.is_allowed("192.168.1.10")
    assert not policy.is_allowed("192.168.1.11")


@pytest.mark.parametrize("bad", ["not-a-network", "10.0.0.0/33", "10.0.0.1/8", "::1/129", ""])
def test_bad_cidr_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid allowed network"):
        AddressPolicy([bad])


def test_blocked_address_is_an_os_error() -> None:
    # aiohttp wraps resolver OSErrors in ClientConnectorDNSError (see BlockedAddress).
    exc = BlockedAddress("127.0.0.1", "loopback")
    assert isinstance(exc, OSError)
    assert exc.address == "127.0.0.1"
    assert exc.strerror == str(exc)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("https://127.0.0.1:8443/hook?x=1", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::1]:8080/path", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[::ffff:a9fe:a9fe]/", "cloud metadata"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://user:secret@10.0.0.5/", "private"),
        ("http://[fe80::1%25eth0]/", "link-local"),
        ("http://0.0.0.0:9000/", "unspecified"),
        # legacy numeric forms that getaddrinfo reads as 127.0.0.1
        ("http://2130706433/", "loopback"),
        ("http://0x7f000001/", "loopback"),
        ("http://017700000001/", "loopback"),
        ("http://127.1/", "loopback"),
        ("http://0x7f.0.0.1/", "loopback"),
        ("http://0177.0.0.1/", "loopback"),
        ("http://2852039166/", "cloud metadata"),
    ],
)
def test_check_url_host_blocks_literals(url: str, reason: str) -> None:
    with pytest.raises(BlockedAddress) as info:
        check_url_host(url, AddressPolicy())
    assert info.value.reason == reason


@pytest.mark.parametrize(
    "url",
    [
        "http://8.8.8.8/",
        "https://[2606:4700:4700::1111]/",
        "https://example.com/hook",
        "http://localhost:8080/",  # a name: the resolver judges its answers
        "http://0x7f000001.example/",
        "http://1.2.3.4.5/",
        "http://08/",
        "http://4294967296/",
    ],
)
def test_check_url_host_lets_names_and_public_literals_pass(url: str) -> None:
    check_url_host(url, AddressPolicy())


def test_check_url_host_respects_allowed_networks() -> None:
    policy = AddressPolicy(["127.0.0.0/8", "::1/128"])
    check_url_host("http://127.0.0.1:1234/", policy)
    check_url_host("http://[::1]:1234/", policy)
    check_url_host("http://2130706433/", policy)


def test_check_url_host_rejects_malformed_url() -> None:
    with pytest.raises(ValueError):
        check_url_host("http://[::1/", AddressPolicy())
