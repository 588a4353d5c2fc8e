"""Reading the shipped seed files: process definitions and demo data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SEEDS = Path(__file__).resolve().parent
DEFINITIONS = SEEDS / "definitions"
THRESHOLDS = SEEDS / "thresholds.yaml"  # threshold amounts with their periods (states.thresholds)
LIFECYCLE = SEEDS / "lifecycle.yaml"  # one valid way through it-upphandling (states.lifecycle_path)


class SeedFileError(Exception):
    """A seed file that cannot be read as YAML; the message is in Swedish and names the place."""


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedFileError(f"{path}: filen kan inte läsas ({exc.strerror})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" rad {mark.line + 1}, kolumn {mark.column + 1}" if mark else ""
        raise SeedFileError(f"{path}:{where} är inte giltig YAML") from None


def definition_files() -> list[Path]:
    return sorted(DEFINITIONS.glob("*.yaml"))
