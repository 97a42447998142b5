"""The generator's rates (noise.yml): export noise per source and the scenario rates of the district."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).parent


def load_yaml(p: Path) -> dict:
    with open(p, encoding="utf-8") as f:
        return yaml.safe_load(f)


@dataclass
class GeneratorConfig:
    noise_mult: float
    noise: dict
    rates: dict

    @classmethod
    def load(cls, noise_mult: float) -> GeneratorConfig:
        d = load_yaml(HERE / "noise.yml")
        return cls(noise_mult, d["noise"], d["scenarios"])

    def rate(self, source: str, key: str) -> float:
        base = self.noise.get(source, {}).get(key, self.noise["default"].get(key, 0.0))
        return min(1.0, float(base) * self.noise_mult)
