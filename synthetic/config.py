"""The generator's rates: export noise per source (one file per noise profile) and the scenario rates
of the district (noise.yml `scenarios:`, the same for every profile)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).parent

# noise profile -> the file of its rates. `default`: noise fixed per record, month after month;
# `field`: written apart from it, from what real exports do (see field_profile.py).
NOISE_PROFILES = {"default": "noise.yml", "field": "noise_field.yml"}


def load_yaml(p: Path) -> dict:
    with open(p, encoding="utf-8") as f:
        return yaml.safe_load(f)


@dataclass
class GeneratorConfig:
    noise_mult: float
    noise: dict
    rates: dict
    profile: str = "default"
    settings: dict = field(default_factory=dict)  # profile settings that are not rates (never multiplied)

    @classmethod
    def load(cls, noise_mult: float, profile: str = "default") -> GeneratorConfig:
        if profile not in NOISE_PROFILES:
            raise ValueError(f"unknown noise profile {profile!r}: one of {', '.join(NOISE_PROFILES)}")
        scenarios = load_yaml(HERE / "noise.yml")["scenarios"]
        d = load_yaml(HERE / NOISE_PROFILES[profile])
        return cls(noise_mult, d["noise"], scenarios, profile, d.get("settings") or {})

    def rate(self, source: str, key: str) -> float:
        base = self.noise.get(source, {}).get(key, self.noise["default"].get(key, 0.0))
        return min(1.0, float(base) * self.noise_mult)

    def setting(self, key: str, default=None):
        return self.settings.get(key, default)
