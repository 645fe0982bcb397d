"""How the customer portal looks for a vendor (pure): product name, logo, primary colour, light
or dark, font stack.

A workspace has a default theme and a portal link may carry its own; the link's fields win one
by one (``effective``). Every field is checked here, because the values reach the customer's
page: colours are hex codes, the font stack is family names only, the logo is an ``https://``
image or a small ``data:image/…`` URL (the portal's Content-Security-Policy allows images from
exactly those). Without a product name the portal calls itself "Webhooks": it never says
"Hookline" unless the vendor asks for the "Powered by Hookline" line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from hookline.domain.field_errors import problems
from hookline.errors import every_problem

__all__ = ["DEFAULT_NAME", "Theme", "ThemeFields", "effective", "parse_theme"]

DEFAULT_NAME = "Webhooks"
DEFAULT_PRIMARY = "#2563eb"
DEFAULT_FONTS = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'
MAX_DATA_URL = 65_536
_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_FONTS = re.compile(r"^[A-Za-z0-9 ,'\"\-]{1,200}$")
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=]+$")


class ThemeFields(BaseModel):
    """A theme as given: every field optional (unset ones come from the workspace's theme, then
    from the defaults)."""

    model_config = ConfigDict(extra="forbid")

    product_name: str | None = Field(default=None, min_length=1, max_length=100)
    logo_url: str | None = Field(default=None, max_length=MAX_DATA_URL)
    primary_color: str | None = None
    mode: Literal["light", "dark"] | None = None
    font_family: str | None = None
    show_powered_by: StrictBool | None = None

    @field_validator("primary_color")
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is not None and not _COLOUR.match(value):
            raise ValueError("a hex colour such as #2563eb")
        return value

    @field_validator("font_family")
    @classmethod
    def _fonts(cls, value: str | None) -> str | None:
        if value is not None and not _FONTS.match(value):
            raise ValueError("font family names separated by commas (letters, digits, quotes)")
        return value

    @field_validator("logo_url")
    @classmethod
    def _logo(cls, value: str | None) -> str | None:
        if value is None or _DATA_IMAGE.match(value):
            return value
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
            raise ValueError("an https:// URL of an image, or a data:image/…;base64 URL")
        return value

    def stored(self) -> dict[str, Any]:
        """The fields that were given, as kept in the database."""
        return self.model_dump(exclude_none=True)


class Theme(BaseModel):
    """The theme a portal page is drawn with: every field resolved."""

    model_config = ConfigDict(frozen=True)

    product_name: str = DEFAULT_NAME
    logo_url: str | None = None
    primary_color: str = DEFAULT_PRIMARY
    mode: Literal["light", "dark"] = "light"
    font_family: str = DEFAULT_FONTS
    show_powered_by: bool = False


def parse_theme(data: Mapping[str, Any] | None, field: str = "theme") -> ThemeFields:
    """A theme from an API body (None: an empty one); every bad field reported at once, named
    ``theme.<field>``."""
    try:
        return ThemeFields.model_validate(dict(data or {}))
    except ValidationError as exc:
        raise every_problem(problems(exc.errors(), prefix=field)) from None


def effective(*layers: Mapping[str, Any] | None) -> Theme:
    """The theme drawn: the defaults, overlaid by each layer in turn (the workspace's, then the
    link's); fields a layer does not set are left as they were."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged |= {k: v for k, v in (layer or {}).items() if v is not None}
    return Theme.model_validate(merged)
