"""The synthetic demo population every mock registry shares."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Population:
    persons: dict[str, dict[str, Any]]
    civil_acts: list[dict[str, Any]]
    vehicles: list[dict[str, Any]]
    policies: list[dict[str, Any]] = field(default_factory=list)  # motor insurance, per plate

    @classmethod
    def load(cls) -> Population:
        """Load the population shipped in ``mocks/data/population.json``."""
        text = resources.files("regbus.mocks").joinpath("data/population.json").read_text("utf-8")
        data = json.loads(text)
        return cls(
            persons={p["iin"]: p for p in data["persons"]},
            civil_acts=list(data["civil_acts"]),
            vehicles=list(data["vehicles"]),
            policies=list(data.get("policies", ())),
        )
