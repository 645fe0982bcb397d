"""Event bodies: byte-identical to ``json.dumps`` (receivers recompute HMACs over that string)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hookline.domain.payloads import encode_payload

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=400)
@given(_JSON)
def test_the_body_is_what_json_dumps_writes(payload: Any) -> None:
    assert encode_payload(payload) == json.dumps(payload)


def test_known_bodies() -> None:
    cases: list[Any] = [
        {"a": 1, "b": [1.5, None, True, 'é\u2028"\\\n'], "": {}},
        "top-level text",
        1e16,
        -0.0,
        [],
        {"nested": [[[{"x": 10**30}]]]},
    ]
    for payload in cases:
        assert encode_payload(payload) == json.dumps(payload)
    assert encode_payload({"k": "v", "n": 1}) == '{"k": "v", "n": 1}'
