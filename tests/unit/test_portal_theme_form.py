"""The portal theme form's two colour inputs without a script: a changed text field wins, else a
moved picker, else the colour stays as saved; the picker always gets ``#rrggbb``."""

from __future__ import annotations

import pytest

from hookline.dashboard.portal_theme_form import (
    chosen_colour,
    picker_value,
    theme_body,
    values_from_theme,
)


def _submitted(typed: str, was: str, picked: str) -> dict[str, str]:
    return {"primary_color": typed, "primary_color_was": was, "primary_color_picker": picked}


@pytest.mark.parametrize(
    ("typed", "was", "picked", "chosen"),
    [
        ("#00ff00", "#ff0000", "#0000ff", "#00ff00"),  # typed wins over a moved picker
        ("", "#ff0000", "#ff0000", ""),  # cleared: back to the default
        ("#ff0000", "#ff0000", "#0000FF", "#0000ff"),  # the picker was moved
        ("#F00", "#F00", "#ff0000", "#F00"),  # neither changed: kept as saved
        ("", "", "#2563eb", ""),  # never set, still unset
        ("", "", "#123456", "#123456"),
    ],
)
def test_the_colour_chosen(typed: str, was: str, picked: str, chosen: str) -> None:
    assert chosen_colour(_submitted(typed, was, picked)) == chosen


@pytest.mark.parametrize(
    ("colour", "shown"),
    [("#ABC", "#aabbcc"), ("#2563EB", "#2563eb"), ("blue", "#2563eb"), ("", "#2563eb")],
)
def test_the_picker_gets_six_lower_case_digits(colour: str, shown: str) -> None:
    assert picker_value(colour) == shown


def test_a_stored_theme_shown_then_saved_unchanged_is_the_same_theme() -> None:
    stored = {"product_name": "Acme", "primary_color": "#abc", "mode": "dark"}
    values = values_from_theme(stored)
    assert values["primary_color_picker"] == "#aabbcc"
    assert theme_body(values) == stored
    assert theme_body(values_from_theme({})) == {"mode": "light"}
