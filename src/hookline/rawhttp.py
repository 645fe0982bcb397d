"""Splitting a captured HTTP/1.1 request into method, target, headers and body.

For requests saved byte for byte (the inspector's captures, ``nc -l``, a proxy log) that are to
be checked later with `hookline.verify`; the body is cut to ``Content-Length`` or de-chunked.
Standard library only, like `hookline.verify`, which re-exports `RawRequest` and
`parse_raw_http_request`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from hookline.verify_errors import MalformedRequest, parse_int


class RawRequest(NamedTuple):
    """A captured HTTP/1.1 request, split into its parts (body de-chunked if need be)."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


def parse_raw_http_request(raw: bytes) -> RawRequest:
    """Split a raw HTTP/1.1 request (as captured by ``nc -l`` or a proxy) into its parts.

    Repeated headers are joined with ``", "``. The body is cut to ``Content-Length`` or
    de-chunked; a head ending in bare ``\n\n`` (a capture saved by an editor) is accepted.
    Anything unparsable raises `MalformedRequest`.
    """
    head, body = _split_head(raw)
    request_line, *header_lines = re.split(r"\r?\n", head.decode("latin-1"))
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[0].isalpha():
        raise MalformedRequest(f"not an HTTP/1.x request line: {request_line[:80]!r}")
    headers = _parse_header_lines(header_lines)
    return RawRequest(parts[0].upper(), parts[1], headers, _raw_body(body, headers))


def _split_head(raw: bytes) -> tuple[bytes, bytes]:
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, body = raw.partition(separator)
        if found:
            return head, body
    raise MalformedRequest("no blank line ends the request's headers")


def _parse_header_lines(lines: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    names: dict[str, str] = {}  # lower-cased → first spelling seen
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise MalformedRequest(f"not a header line: {line[:80]!r}")
        spelling = names.setdefault(name.lower(), name)
        value = value.strip()
        headers[spelling] = f"{headers[spelling]}, {value}" if spelling in headers else value
    return headers


def _raw_body(body: bytes, headers: dict[str, str]) -> bytes:
    lowered = {name.lower(): value for name, value in headers.items()}
    if "chunked" in lowered.get("transfer-encoding", "").lower():
        return _dechunk(body)
    if "content-length" not in lowered:
        return body
    length = parse_int(lowered["content-length"], "Content-Length")
    if len(body) < length:
        raise MalformedRequest(f"the body is truncated: {len(body)} of {length} bytes")
    return body[:length]


def _dechunk(data: bytes) -> bytes:
    out, position = bytearray(), 0
    while True:
        line_end = data.find(b"\r\n", position)
        size_text = data[position:line_end].split(b";")[0].strip()
        if line_end < 0 or not re.fullmatch(rb"[0-9A-Fa-f]{1,8}", size_text):
            raise MalformedRequest("a chunk size line of the chunked body is malformed")
        size, start = int(size_text, 16), line_end + 2
        if size == 0:
            return bytes(out)
        if data[start + size : start + size + 2] != b"\r\n":
            raise MalformedRequest("the chunked body is truncated")
        out += data[start : start + size]
        position = start + size + 2
