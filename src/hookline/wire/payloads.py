"""Free-form JSON from clients (event payloads, examples, schemas, entity properties).

Python's parser accepts values that Hookline could store but never read back, answer or send:
``NaN`` and ``1e999`` (written out as ``NaN``/``Infinity``, which is not JSON), strings with lone
surrogates (``"\\ud800"``, not encodable as UTF-8), integers beyond 64 bits (orjson refuses to
write them and reads them as floats), and nesting deeper than the JSON serializers go (about 255
levels, less the envelope around a payload). They are refused on the way in, with a 422 naming
the field, instead of becoming a 500 on every later read.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Final

from pydantic import AfterValidator

MAX_DEPTH: Final = 128
_INT_RANGE: Final = range(-(2**63), 2**64)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogate escapes)") from None


def storable(value: Any) -> Any:
    """``value`` unchanged if it can be stored and sent as JSON; ``ValueError`` otherwise."""
    stack = [(value, 1)]
    while stack:  # iterative: the point is to survive values too deep for recursion
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"JSON is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, float) and not math.isfinite(node):
            raise ValueError("numbers must be finite (no NaN or Infinity)")
        if isinstance(node, int) and node not in _INT_RANGE:
            raise ValueError("integers must fit in 64 bits")
        if isinstance(node, str):
            _check_text(node)
        elif isinstance(node, dict):
            for key, item in node.items():
                _check_text(key)
                stack.append((item, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
    return value


JsonValue = Annotated[Any, AfterValidator(storable)]
JsonObject = Annotated[dict[str, Any], AfterValidator(storable)]
