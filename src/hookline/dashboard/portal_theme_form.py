"""The customer portal's theme form: its values from the workspace's stored theme or a
submission, and the theme they describe (pure).

The rules are the services' (``hookline.services.portal.put_theme`` checks every field and
names each problem by its field); the form only turns what a browser sends into the stored
shape: a blank text field is a field the workspace does not set (the default shows), an
unchecked box is absent.

The primary colour has two inputs, a colour picker and a hex text field, and no script keeps
them in step: the text field wins when it was changed (cleared: back to the default), else the
picker when it was moved, else the colour stays as it was saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hookline.dashboard.forms import Form
from hookline.domain.portal_themes import DEFAULT_PRIMARY

__all__ = ["MODES", "chosen_colour", "theme_body", "values_from_form", "values_from_theme"]

_TEXT = ("product_name", "logo_url", "font_family")
MODES = ("light", "dark")


def values_from_theme(stored: Mapping[str, Any]) -> dict[str, Any]:
    """What the form shows for the workspace's stored theme fields (``{}``: every default)."""
    colour = str(stored.get("primary_color") or "")
    values: dict[str, Any] = {name: str(stored.get(name) or "") for name in _TEXT}
    return values | {
        "primary_color": colour,
        "primary_color_was": colour,
        "primary_color_picker": picker_value(colour or DEFAULT_PRIMARY),
        "mode": str(stored.get("mode") or MODES[0]),
        "show_powered_by": bool(stored.get("show_powered_by")),
    }


def values_from_form(form: Form) -> dict[str, Any]:
    """What the form shows again after a submission (as typed)."""
    names = (*_TEXT, "primary_color", "primary_color_was", "primary_color_picker", "mode")
    values: dict[str, Any] = {name: form.get(name) for name in names}
    return values | {"show_powered_by": form.has("show_powered_by")}


def theme_body(values: Mapping[str, Any]) -> dict[str, Any]:
    """The theme the form values describe, as ``put_theme`` takes it: only the fields set."""
    body: dict[str, Any] = {name: values[name].strip() for name in _TEXT if values[name].strip()}
    colour = chosen_colour(values)
    if colour:
        body["primary_color"] = colour
    body["mode"] = values["mode"]
    if values["show_powered_by"]:
        body["show_powered_by"] = True
    return body


def chosen_colour(values: Mapping[str, Any]) -> str:
    """The primary colour submitted (blank: the default), by the rule in the module's text."""
    typed, was = values["primary_color"].strip(), values["primary_color_was"].strip()
    if typed != was:
        return str(typed)
    picked = values["primary_color_picker"].strip().lower()
    return str(picked) if picked != picker_value(was or DEFAULT_PRIMARY) else str(was)


def picker_value(colour: str) -> str:
    """A hex colour as a colour picker takes it: ``#rrggbb`` in lower case (``#abc`` is
    ``#aabbcc``); anything else shows the default."""
    digits = colour.strip().lower().removeprefix("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    if len(digits) != 6 or any(c not in "0123456789abcdef" for c in digits):
        return DEFAULT_PRIMARY
    return f"#{digits}"
