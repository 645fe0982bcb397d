"""The result table (Markdown, so it pastes into docs/BENCHMARKS.md) and the JSON file."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.stats import Summary, fmt


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table: a median with its spread, and how it compares to a target."""

    scenario: str
    case: str
    value: Summary
    unit: str
    digits: int = 0
    compared: str = ""
    target: str = ""
    met: bool | None = None

    def cells(self) -> list[str]:
        spread = "" if math.isnan(self.value.median) else f"±{self.value.spread_pct / 2:.0f}%"
        verdict = {None: "", True: "met", False: "missed"}[self.met]
        value = f"{fmt(self.value.median, self.digits)} {self.unit}"
        return [self.scenario, self.case, value, spread, self.compared, self.target, verdict]

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "case": self.case,
            "unit": self.unit,
            **self.value.as_dict(),
            "compared": self.compared,
            "target": self.target,
            "met": self.met,
        }


_HEADER = ["scenario", "case", "median", "spread", "compared", "target", "verdict"]


def table(rows: list[Row]) -> str:
    lines = [_HEADER, ["---"] * len(_HEADER), *(row.cells() for row in rows)]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=_default) + "\n")


def _default(value: object) -> object:
    if isinstance(value, Summary):
        return value.as_dict()
    if isinstance(value, Row):
        return value.as_dict()
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)
