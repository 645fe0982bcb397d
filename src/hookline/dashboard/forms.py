"""Reading submitted forms: URL-encoded, or multipart for the one file upload (flow import).

The standard library parses both (``urllib.parse``, ``email``), so the dashboard needs no
multipart dependency; bodies are already bounded by the API's ``BodySizeLimit``.
"""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from fastapi import Request

from hookline.domain import nul
from hookline.errors import ValidationFailed


@dataclass
class Form:
    """Submitted fields (every value of a repeated name, in order) and uploaded files."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))

    def has(self, name: str) -> bool:
        return name in self.fields

    def add(self, name: str, value: str) -> None:
        self.fields.setdefault(name, []).append(value)


async def read_form(request: Request) -> Form:
    """The request's form, parsed once per request."""
    cached: Form | None = getattr(request.state, "dashboard_form", None)
    if cached is not None:
        return cached
    form = Form()
    if request.method == "POST":
        content_type = request.headers.get("content-type", "")
        body = await request.body()
        if content_type.startswith("multipart/form-data"):
            _parse_multipart(form, content_type, body)
        else:
            for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
                form.add(name, value)
    if nul.has_nul(form.fields):
        # Form fields become names, ids and search terms (see ``hookline.domain.nul``).
        raise ValidationFailed(f"form fields: {nul.MESSAGE}")
    request.state.dashboard_form = form
    return form


def _parse_multipart(form: Form, content_type: str, body: bytes) -> None:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is not None:
            form.files[name] = data
        else:
            form.add(name, data.decode("utf-8", "replace"))


def rows(form: Form, key_field: str, value_field: str) -> list[tuple[str, str]]:
    """Key-value rows (``headers``, ``metadata``) with blank rows dropped."""
    keys, values = form.getlist(key_field), form.getlist(value_field)
    pairs = zip(keys, values + [""] * (len(keys) - len(values)), strict=False)
    return [(k.strip(), v) for k, v in pairs if k.strip() or v]
