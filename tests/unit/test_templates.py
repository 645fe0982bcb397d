"""Unit and property tests for hookline.domain.templates."""

from __future__ import annotations

import json
import tracemalloc
from collections import ChainMap
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookline.domain.templates import (
    MAX_TEMPLATE_BYTES,
    placeholders,
    render_body,
    validate_template,
)
from hookline.errors import TemplateError, TemplateTooLarge

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
TEXT = "text/plain"
SLACK = '{"text":"Job $jobId has completed. Status: $jobStatus."}'


def test_seed_slack_example() -> None:
    body = render_body(SLACK, {"jobId": 42, "jobStatus": "Complete"}, JSON)
    assert body == '{"text":"Job 42 has completed. Status: Complete."}'


# syntax


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("$a", "1"),
        ("${a}", "1"),
        ("${a}b", "1b"),
        ("$ab", ""),  # the bare form takes the longest name
        ("$a.b", "1.b"),  # only the braced form takes dots
        ("${user.name}", "ann"),
        ("${items.1.id}", "y"),
        ("${items.9.id}", ""),
        ("${user.name.first}", ""),
        ("${items.x}", ""),
        ("$$a costs $$5", "$a costs $5"),
        ("$$$a", "$1"),
        ("no placeholders", "no placeholders"),
        ("", ""),
    ],
)
def test_render_text(template: str, expected: str) -> None:
    context = {"a": 1, "user": {"name": "ann"}, "items": [{"id": "x"}, {"id": "y"}]}
    assert render_body(template, context, TEXT) == expected


def test_list_index_on_a_mapping_key() -> None:
    assert render_body("${m.0}", {"m": {"0": "zero"}}, TEXT) == "zero"


def test_placeholders_in_order_each_once() -> None:
    template = "$b ${a.0.c} $$x ${b} $c"
    assert placeholders(template) == ["b", "a.0.c", "c"]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("cost: $ 5", "stray '$' at line 1, column 7"),
        ("ends with $", "stray '$' at line 1, column 11"),
        ("$1", "stray '$' at line 1, column 1"),
        ("line one\n  ${name", "unclosed '${' at line 2, column 3"),
        ("${a\n}", "unclosed '${' at line 1, column 1"),
        ("${a-b}", "invalid placeholder '${a-b}' at line 1, column 1"),
        ("${1a}", "invalid placeholder '${1a}'"),
        ("${a..b}", "invalid placeholder '${a..b}'"),
        ("${a.}", "invalid placeholder '${a.}'"),
        ("${}", "invalid placeholder '${}'"),
        ("${a.b c}", "invalid placeholder '${a.b c}'"),
    ],
)
def test_invalid_templates(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("$", r"\$").replace("{", r"\{")):
        validate_template(template, JSON)
    with pytest.raises(TemplateError):
        render_body(template, {}, JSON)
    with pytest.raises(TemplateError):
        placeholders(template)


def test_long_bad_placeholders_are_shortened_in_the_message() -> None:
    with pytest.raises(TemplateError, match=r"\.\.\.' at") as caught:
        validate_template("${" + "x-" * 500 + "}", TEXT)
    assert len(str(caught.value)) < 300


def test_lone_surrogates_in_templates_are_rejected() -> None:
    with pytest.raises(TemplateError, match="not valid UTF-8 at character 2"):
        validate_template("ab\ud800", JSON)


def test_lone_surrogates_in_values_never_break_utf8() -> None:
    for content_type in (JSON, FORM, TEXT):
        render_body("$v", {"v": "a\ud800"}, content_type).encode("utf-8")
    assert render_body("$v", {"v": "a\ud800"}, TEXT) == "a?"


def test_size_cap() -> None:
    validate_template("x" * MAX_TEMPLATE_BYTES, JSON)
    with pytest.raises(TemplateError, match="65537 bytes"):
        validate_template("x" * (MAX_TEMPLATE_BYTES + 1), JSON)
    with pytest.raises(TemplateError, match="bytes"):  # counted in UTF-8, not characters
        validate_template("é" * (MAX_TEMPLATE_BYTES // 2 + 1), JSON)


# sandbox


@pytest.mark.parametrize(
    "template",
    ["${__class__}", "${a.__dict__}", "${a.__class__.__mro__}", "${a.upper}", "${s.0}", "$__doc__"],
)
def test_no_attribute_access(template: str) -> None:
    context: dict[str, Any] = {"a": {"b": 1}, "s": "string"}
    assert render_body(template, context, TEXT) == ""


def test_format_specs_are_not_syntax() -> None:
    # "{a!r}" and "{a:>10}" are str.format syntax, plain text here.
    assert render_body("{a!r} {a:>10} $a", {"a": "x"}, TEXT) == "{a!r} {a:>10} x"


# escaping


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('say "hi"\n', 'say \\"hi\\"\\n'),
        ("back\\slash", "back\\\\slash"),
        ("\ud800", "\\ud800"),  # a lone surrogate stays valid JSON
        (3, "3"),
        (3.5, "3.5"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (float("nan"), "null"),
        ({"b": [1, "x"]}, '{"b":[1,"x"]}'),
        ([1, 2], "[1,2]"),
        ({"n": float("inf")}, "\"{'n': inf}\""),  # not JSON; its text, as a JSON string
    ],
)
def test_json_escaping(value: object, expected: str) -> None:
    assert render_body("$v", {"v": value}, JSON) == expected


@pytest.mark.parametrize(
    "content_type",
    [JSON, "application/json; charset=utf-8", "Application/JSON", "application/cloudevents+json"],
)
def test_json_content_types(content_type: str) -> None:
    assert render_body('{"v":"$v"}', {"v": '"'}, content_type) == '{"v":"\\""}'


def test_json_numbers_and_objects_without_quotes() -> None:
    template = '{"count": $n, "ok": $ok, "data": ${payload.data}, "none": $missing_or_null}'
    context = {"n": 2, "ok": False, "payload": {"data": {"id": 1}}, "missing_or_null": None}
    assert json.loads(render_body(template, context, JSON)) == {
        "count": 2,
        "ok": False,
        "data": {"id": 1},
        "none": None,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a b&c=d", "a+b%26c%3Dd"),
        ("é", "%C3%A9"),
        ("\ud800", "%3F"),  # cannot be UTF-8: replaced rather than failing
        (7, "7"),
        (True, "true"),
        (None, ""),
        ({"k": "v"}, "%7B%22k%22%3A%22v%22%7D"),
    ],
)
def test_form_escaping(value: object, expected: str) -> None:
    assert render_body("v=$v", {"v": value}, FORM) == f"v={expected}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [('a "b"\n', 'a "b"\n'), (3.5, "3.5"), (True, "true"), (None, ""), ({"k": [1]}, '{"k":[1]}')],
)
def test_text_is_not_escaped(value: object, expected: str) -> None:
    assert render_body("$v", {"v": value}, "text/plain") == expected


def test_unknown_objects_render_as_text() -> None:
    class Thing:
        def __str__(self) -> str:
            return 'th"ing'

    assert render_body("$v", {"v": Thing()}, TEXT) == 'th"ing'
    assert render_body('"$v"', {"v": Thing()}, JSON) == '"th\\"ing"'


def test_other_mappings_and_sequences_render_as_json() -> None:
    context = {"m": MappingProxyType({"a": (1, 2)}), "r": range(3)}
    assert render_body("$m $r", context, TEXT) == '{"a":[1,2]} [0,1,2]'
    assert json.loads(render_body("$m", {"m": ChainMap({"a": 1}, {"b": 2})}, JSON)) == {
        "a": 1,
        "b": 2,
    }


def test_missing_renders_empty_in_every_content_type() -> None:
    for content_type in (JSON, FORM, TEXT):
        assert render_body("[$nope${no.pe}]", {}, content_type) == "[]"


# the size limit


def test_a_body_over_the_limit_is_refused_before_it_is_built() -> None:
    payload = {"blob": "x" * 256 * 1024}
    context: ChainMap[str, Any] = ChainMap(payload, {"payload": payload})
    template = "$payload" * 4000  # would be a 1 GB body
    tracemalloc.start()
    try:
        with pytest.raises(TemplateTooLarge) as caught:
            render_body(template, context, JSON, max_bytes=1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024  # one rendering of the payload, not 4,000 of them
    one = len(json.dumps(payload, separators=(",", ":")))
    assert (caught.value.size, caught.value.limit) == (4000 * one, 1024 * 1024)
    assert caught.value.code == "template_too_large"
    assert f"{4000 * one} bytes, more than the 1048576 allowed" in str(caught.value)


@pytest.mark.parametrize(
    ("template", "context", "size"),
    [
        ("$a$a$a", {"a": "xy"}, 6),
        ("${a} and $$$b", {"a": 1, "b": None}, 7),  # "1 and $": null is "" outside JSON
        ("é$a", {"a": "€"}, 5),  # UTF-8 bytes: 2 + 3
        ("[$nope${no.pe}]", {}, 2),
    ],
)
def test_the_limit_counts_utf8_bytes_of_the_whole_body(
    template: str, context: dict[str, Any], size: int
) -> None:
    body = render_body(template, context, TEXT, max_bytes=size)
    assert len(body.encode("utf-8")) == size
    with pytest.raises(TemplateTooLarge, match=f"{size} bytes, more than the {size - 1} allowed"):
        render_body(template, context, TEXT, max_bytes=size - 1)


def test_the_limit_applies_to_the_escaped_value() -> None:
    # A JSON string of control characters grows six-fold when escaped (\u0001).
    context = {"v": "\x01" * 100}
    assert len(render_body('"$v"', context, JSON, max_bytes=602)) == 602
    with pytest.raises(TemplateTooLarge):
        render_body('"$v"', context, JSON, max_bytes=601)
    with pytest.raises(TemplateTooLarge):
        render_body("$v", {"v": " " * 100}, FORM, max_bytes=99)  # "+" per space: 100 bytes


# properties

# Payload strings may hold lone surrogates (the JSON escape \ud800 decodes to one).
any_text = st.text(st.characters() | st.sampled_from(["\ud800", "\udc00", "\udfff"]))
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | any_text
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)
names = st.sampled_from(["a", "b", "_x", "A1"])
placeholder = st.one_of(
    names.map(lambda name: "$" + name),
    st.lists(names | st.integers(0, 3).map(str), min_size=1, max_size=3).map(
        lambda path: "${" + ".".join(["a", *path]) + "}"
    ),
    st.just("$$"),
)
templates = st.lists(placeholder | st.text().map(lambda s: s.replace("$", "")), max_size=8).map(
    "".join
)
contexts = st.dictionaries(names | any_text, json_values, max_size=4)
content_types = st.sampled_from([JSON, FORM, TEXT, "application/vnd.x+json", ""])


@given(any_text)
def test_json_string_values_round_trip(value: str) -> None:
    body = render_body('{"v":"$v"}', {"v": value}, JSON)
    assert json.loads(body) == {"v": value}


finite_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner | any_text, max_size=3)
        | st.dictionaries(any_text, inner | any_text, max_size=3)
    ),
    max_leaves=10,
)


@given(finite_json)
def test_json_non_string_values_inserted_bare_round_trip(value: Any) -> None:
    body = render_body('{"v":$v}', {"v": value}, JSON)
    assert json.loads(body) == {"v": value}


@given(json_values)
def test_json_bare_insertion_is_always_valid_json_unless_a_string(value: Any) -> None:
    body = render_body('{"v":$v}', {"v": value}, JSON)
    if not isinstance(value, str):
        assert isinstance(json.loads(body), dict)


@given(st.text(), st.text())
def test_form_round_trips(first: str, second: str) -> None:
    body = render_body("a=$a&b=${b}", {"a": first, "b": second}, FORM)
    assert parse_qs(body, keep_blank_values=True, strict_parsing=True) == {
        "a": [first],
        "b": [second],
    }


@given(templates, contexts, content_types)
def test_rendering_never_raises_once_valid(
    template: str, context: dict[str, Any], content_type: str
) -> None:
    validate_template(template, content_type)
    render_body(template, context, content_type).encode("utf-8")


@given(st.text(), contexts, content_types)
def test_arbitrary_text_either_fails_validation_or_renders(
    template: str, context: dict[str, Any], content_type: str
) -> None:
    try:
        validate_template(template, content_type)
    except TemplateError:
        return
    render_body(template, context, content_type)
    assert all(name.split(".")[0] for name in placeholders(template))


@given(templates, contexts, content_types)
def test_a_limit_the_body_fits_changes_nothing(
    template: str, context: dict[str, Any], content_type: str
) -> None:
    body = render_body(template, context, content_type)
    size = len(body.encode("utf-8"))
    assert render_body(template, context, content_type, max_bytes=size) == body
    if size:
        with pytest.raises(TemplateTooLarge):
            render_body(template, context, content_type, max_bytes=size - 1)


@given(templates)
def test_text_without_placeholders_renders_unchanged(template: str) -> None:
    assert render_body(template.replace("$", ""), {}, TEXT) == template.replace("$", "")
