"""The delegation order shipped in seeds/, read once."""

from __future__ import annotations

from functools import lru_cache

from upphandla.seeds.loader import SEEDS, read_yaml
from upphandla.states.delegation import DelegationOrder, Mandate, parse_delegation
from upphandla.states.roles import Actor


@lru_cache(maxsize=1)
def delegation_order() -> DelegationOrder:
    return parse_delegation(read_yaml(SEEDS / "delegation.yaml"))


def mandate_of(actor: Actor) -> Mandate | None:
    return delegation_order().get(actor.mandate)
