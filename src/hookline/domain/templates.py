"""Body templates: reshape an event payload into the body a receiver expects.

Syntax is :class:`string.Template`'s: ``$name``, ``${name}``, and ``$$`` for a literal ``$``;
the braced form also takes dotted paths with list indexes, ``${data.items.0.id}``. The bare
form stops at the first character that cannot continue a name, so ``Status: $status.`` keeps
its full stop (``$a.b`` is ``$a`` followed by ``.b``).

A name or path is looked up in the context: mapping keys and list indexes, nothing else.
There is no attribute access, no call and no format spec, so ``${__class__}`` or
``${a.__dict__}`` are simply keys that are missing. A missing value renders as ``""``.

Values are escaped for the content type of the body:

* JSON (``application/json``, ``*+json``): the author writes the quotes, as in
  ``{"text":"Job $jobId has completed."}``. A string goes in JSON-escaped without quotes;
  numbers, booleans and null as JSON literals; objects and arrays as compact JSON.
* ``application/x-www-form-urlencoded``: the text of the value, percent-encoded (``+`` for
  spaces), so ``a=$a&b=$b`` yields a well-formed form.
* anything else: the text of the value as is.

The text of a non-string value is its JSON spelling (``true``, ``3.5``, ``{"a":1}``); null
gives ``""`` outside JSON.
"""

from __future__ import annotations

import json
import math
import string
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote_plus

from hookline.errors import TemplateError, TemplateTooLarge

MAX_TEMPLATE_BYTES: Final = 64 * 1024

_JSON_SCALARS: Final = (bool, int, float, type(None))
_SHOWN: Final = 40  # characters of a bad placeholder quoted in an error message


class _BodyTemplate(string.Template):
    # Only the braced form takes dots; segments after the first may be list indexes.
    braceidpattern = r"(?a:[_a-z][_a-z0-9]*(?:\.(?:[_a-z][_a-z0-9]*|[0-9]+))*)"


_PATTERN: Final = _BodyTemplate.pattern


_MISSING: Final = object()  # the value at a path that leads nowhere


def validate_template(template: str, content_type: str) -> None:
    """Raise :class:`TemplateError` unless ``template`` is a usable body template.

    Checks the size (at most 64 KiB of UTF-8) and the syntax: a stray ``$``, an unclosed
    ``${`` or a bad name is reported with its line and column. The syntax is the same for
    every ``content_type``; escaping differs, but no value can make rendering fail.
    """
    try:
        size = len(template.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise TemplateError(f"template is not valid UTF-8 at character {exc.start}") from None
    if size > MAX_TEMPLATE_BYTES:
        raise TemplateError(f"template is {size} bytes, more than the {MAX_TEMPLATE_BYTES} allowed")
    for match in _PATTERN.finditer(template):
        if match.group("invalid") is not None:
            raise TemplateError(_describe_invalid(template, match.start()))


def _describe_invalid(template: str, at: int) -> str:
    line = template.count("\n", 0, at) + 1
    column = at - template.rfind("\n", 0, at)  # 1-based: rfind gives -1 on the first line
    where = f"line {line}, column {column}"
    rest = template[at + 1 :]
    if not rest.startswith("{"):
        return f"stray '$' at {where}: write '$$' for a literal '$'"
    end = rest.find("}")
    if end == -1 or "\n" in rest[:end] or "$" in rest[:end]:
        return f"unclosed '${{' at {where}"
    shown = rest[: end + 1] if end < _SHOWN else rest[:_SHOWN] + "..."
    return (
        f"invalid placeholder '${shown}' at {where}: a name is letters, digits and '_', "
        "not starting with a digit; a path joins names or list indexes with '.'"
    )


def placeholders(template: str) -> list[str]:
    """The names and paths ``template`` uses, each once, in order of first use."""
    validate_template(template, "text/plain")
    return _BodyTemplate(template).get_identifiers()


def render_body(
    template: str, context: Mapping[str, Any], content_type: str, *, max_bytes: int | None = None
) -> str:
    """Render ``template`` with values from ``context``, escaped for ``content_type``.

    Raises :class:`TemplateError` only for a template :func:`validate_template` rejects, and
    :class:`TemplateTooLarge` when the result would be more than ``max_bytes`` of UTF-8 (None:
    no limit). That is known before the body is built: each distinct placeholder is rendered
    once and its size counted once per use, so ``$payload`` written 4,000 times costs one
    rendering of the payload, not 4,000 copies of it. The result always encodes as UTF-8.
    """
    validate_template(template, content_type)
    encode = _encoder(content_type)
    pieces = _pieces(template)
    size = sum(_utf8_size(text) for text, is_path in pieces if not is_path)
    _check_size(size, max_bytes)
    rendered: dict[str, str] = {}
    for path, uses in Counter(text for text, is_path in pieces if is_path).items():
        value = _resolve(context, path)
        text = "" if value is _MISSING else encode(value)
        size += _utf8_size(text) * uses
        _check_size(size, max_bytes)
        rendered[path] = text
    return "".join(rendered[text] if is_path else text for text, is_path in pieces)


def _pieces(template: str) -> list[tuple[str, bool]]:
    """``template`` as literal text ``(text, False)`` and placeholders ``(path, True)``, in
    order; ``$$`` is the literal ``$``. The template is valid."""
    pieces: list[tuple[str, bool]] = []
    end = 0
    for match in _PATTERN.finditer(template):
        pieces.append((template[end : match.start()], False))
        path = match.group("named") or match.group("braced")
        pieces.append((path, True) if path is not None else ("$", False))
        end = match.end()
    pieces.append((template[end:], False))
    return pieces


def _check_size(size: int, max_bytes: int | None) -> None:
    if max_bytes is not None and size > max_bytes:
        raise TemplateTooLarge(size, max_bytes)


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _resolve(context: Mapping[str, Any], path: str) -> Any:
    node: Any = context
    for segment in path.split("."):
        if isinstance(node, Mapping):
            node = node.get(segment, _MISSING)
        elif _is_list(node) and segment.isdigit() and int(segment) < len(node):
            node = node[int(segment)]
        else:
            return _MISSING
    return node


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray)


def _encoder(content_type: str) -> Callable[[Any], str]:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        return _json_value
    if media_type == "application/x-www-form-urlencoded":
        return _form_value
    return _text_value


def _json_value(value: Any) -> str:
    if isinstance(value, _JSON_SCALARS) or isinstance(value, Mapping) or _is_list(value):
        return _compact_json(value)
    return json.dumps(str(value))[1:-1]  # the author wrote the quotes


def _form_value(value: Any) -> str:
    return quote_plus(_text_value(value))


def _text_value(value: Any) -> str:
    if isinstance(value, str):
        return _utf8_safe(value)
    if value is None:
        return ""
    if isinstance(value, _JSON_SCALARS) or isinstance(value, Mapping) or _is_list(value):
        return _compact_json(value)
    return _utf8_safe(str(value))


def _utf8_safe(text: str) -> str:
    # A lone surrogate (JSON allows "\ud800") cannot go out as UTF-8: "?" beats failing.
    return text.encode("utf-8", "replace").decode("utf-8")


def _compact_json(value: Any) -> str:
    """JSON for any value, never raising: NaN and infinities become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False, default=_plain)
    except (TypeError, ValueError, RecursionError):
        # Non-finite floats nested inside, circular structures, keys JSON cannot take.
        return json.dumps(str(value))


def _plain(value: Any) -> Any:
    """What ``json.dumps`` should write for a value it does not know."""
    if isinstance(value, Mapping):
        return dict(value)
    return list(value) if _is_list(value) else str(value)
