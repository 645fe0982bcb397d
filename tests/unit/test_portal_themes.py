"""The portal's themes: every field's check (the values reach the customer's page), every bad
field reported at once under its name, and the layering of defaults, the workspace's theme and
a link's own."""

from __future__ import annotations

from typing import Any

import pytest

from hookline.domain.portal_themes import (
    DEFAULT_FONTS,
    DEFAULT_NAME,
    DEFAULT_PRIMARY,
    MAX_DATA_URL,
    Theme,
    effective,
    parse_theme,
)
from hookline.errors import ValidationFailed

PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8Dw"


def refused(data: dict[str, Any], field: str = "theme") -> list[str | None]:
    with pytest.raises(ValidationFailed) as caught:
        parse_theme(data, field)
    return [p.field for p in caught.value.problems]


@pytest.mark.parametrize(
    "good",
    [
        {"product_name": "Acme Hooks"},
        {"product_name": "x" * 100},
        {"logo_url": "https://cdn.example.com/logo.svg"},
        {"logo_url": "https://cdn.example.com:8443/a/b.png?v=2"},
        {"logo_url": PNG},
        {"logo_url": "data:image/svg+xml;base64,PHN2Zy8+"},
        {"primary_color": "#2563eb"},
        {"primary_color": "#ABC"},
        {"mode": "light"},
        {"mode": "dark"},
        {"font_family": "Inter, sans-serif"},
        {"font_family": "\"Segoe UI\", 'Open Sans', system-ui"},
        {"show_powered_by": True},
        {},
    ],
)
def test_good_fields_are_kept_as_given(good: dict[str, Any]) -> None:
    assert parse_theme(good).stored() == good


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"product_name": ""}, "theme.product_name"),
        ({"product_name": "x" * 101}, "theme.product_name"),
        ({"logo_url": "http://cdn.example.com/logo.png"}, "theme.logo_url"),
        ({"logo_url": "javascript:alert(1)"}, "theme.logo_url"),
        ({"logo_url": "https://user:pw@cdn.example.com/logo.png"}, "theme.logo_url"),
        ({"logo_url": "https:///logo.png"}, "theme.logo_url"),
        ({"logo_url": "data:text/html;base64,PGI+"}, "theme.logo_url"),
        ({"logo_url": "data:image/png,<svg onload=x>"}, "theme.logo_url"),
        ({"logo_url": "data:image/png;base64," + "A" * MAX_DATA_URL}, "theme.logo_url"),
        ({"primary_color": "red"}, "theme.primary_color"),
        ({"primary_color": "#abcd"}, "theme.primary_color"),
        ({"primary_color": "#ggg"}, "theme.primary_color"),
        ({"primary_color": "#fff; background: url(x)"}, "theme.primary_color"),
        ({"mode": "sepia"}, "theme.mode"),
        ({"font_family": "Inter; color: red"}, "theme.font_family"),
        ({"font_family": "Inter}body{display:none"}, "theme.font_family"),
        ({"font_family": "url(https://evil.example/x)"}, "theme.font_family"),
        ({"font_family": "a" * 201}, "theme.font_family"),
        ({"font_family": ""}, "theme.font_family"),
        ({"show_powered_by": "perhaps"}, "theme.show_powered_by"),
        ({"show_powered_by": "true"}, "theme.show_powered_by"),
        ({"show_powered_by": 1}, "theme.show_powered_by"),
        ({"background": "#000"}, "theme.background"),
    ],
)
def test_each_bad_field_is_refused_under_its_name(bad: dict[str, Any], field: str) -> None:
    assert refused(bad) == [field]


def test_every_bad_field_is_reported_at_once() -> None:
    bad = {"primary_color": "blue", "mode": "sepia", "logo_url": "http://x.example/l.png"}
    assert sorted(map(str, refused(bad))) == [
        "theme.logo_url", "theme.mode", "theme.primary_color",
    ]  # fmt: skip


def test_a_theme_of_its_own_names_its_fields_bare() -> None:
    assert refused({"primary_color": "blue"}, field="") == ["primary_color"]


def test_no_theme_is_an_empty_one() -> None:
    assert parse_theme(None).stored() == {}


def test_stored_keeps_only_the_fields_given() -> None:
    assert parse_theme({"mode": "dark", "logo_url": None}).stored() == {"mode": "dark"}


def test_the_defaults_never_say_hookline() -> None:
    assert effective() == Theme()
    drawn = effective(None, {})
    assert (drawn.product_name, drawn.primary_color, drawn.mode) == (
        DEFAULT_NAME, DEFAULT_PRIMARY, "light",
    )  # fmt: skip
    assert (drawn.font_family, drawn.logo_url, drawn.show_powered_by) == (
        DEFAULT_FONTS, None, False,
    )  # fmt: skip
    assert "Hookline" not in drawn.product_name


def test_a_link_s_fields_win_one_by_one_over_the_workspace_s() -> None:
    workspace = {"product_name": "Acme", "primary_color": "#ff0000", "show_powered_by": True}
    link = {"primary_color": "#00ff00", "mode": "dark", "product_name": None}
    drawn = effective(workspace, link)
    assert (drawn.product_name, drawn.primary_color, drawn.mode, drawn.show_powered_by) == (
        "Acme", "#00ff00", "dark", True,
    )  # fmt: skip
    assert effective(workspace, None).primary_color == "#ff0000"
    assert effective(None, link).product_name == DEFAULT_NAME
