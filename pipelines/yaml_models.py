"""Configuration files (YAML) read into pydantic models, with errors that name the file and the key.

Every configuration file a district edits (connectors/sources.yml, catalog/, sharing/roles.yml,
targeting/scenarios.yml, matching/matching.yml) is described by a `StrictModel`: unknown keys are
refused (a misspelt key would otherwise be silently ignored), and `load_yaml_model` turns pydantic's
validation errors into one message per problem, `file: key.path: what is wrong`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """A configuration section: unknown keys refused, values not changed after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def error_lines(e: ValidationError, where: str, describe_loc=None) -> list[str]:
    """One line per problem: `where: key.path: message` (`describe_loc(loc)` may name the key better)."""
    lines = []
    for err in e.errors():
        loc = (describe_loc or _dotted)(err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (misspelt? see the file's header for the keys it takes)"
        elif err["type"] == "missing":
            msg = "required key missing"
        lines.append(f"{where}: {loc}: {msg}")
    return lines


def _dotted(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def read_yaml(path: Path, error: type[Exception]) -> Any:
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except yaml.YAMLError as e:
        raise error(f"{path}: not valid YAML: {e}") from None


def validate(model: type[M], raw: Any, where: str, error: type[Exception]) -> M:
    try:
        return model.model_validate(raw if raw is not None else {})
    except ValidationError as e:
        raise error("\n".join(error_lines(e, where))) from None


def load_yaml_model(path: Path, model: type[M], error: type[Exception]) -> M:
    """Read `path` into `model`; `error` (with every problem, each naming the file and key) if it does not fit."""
    return validate(model, read_yaml(path, error), str(path), error)
