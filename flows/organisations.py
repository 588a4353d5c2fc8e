"""The list of organisations shipped in seeds/, read once."""

from __future__ import annotations

from functools import lru_cache

from upphandla.seeds.loader import SEEDS, read_yaml
from upphandla.states.organisations import Organisations, parse_organisations


@lru_cache(maxsize=1)
def organisations() -> Organisations:
    return parse_organisations(read_yaml(SEEDS / "organisations.yaml"))
