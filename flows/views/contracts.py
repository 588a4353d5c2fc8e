"""The contract register as controllers and the category team see it: every contract the person
may read (the definition's contract kind, latest record per case) and what falls due on it
next — when the next procurement must start and when each extension option must be decided
(states.deadlines), soonest first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from upphandla.flows.access import scope_for
from upphandla.flows.casefile import deadlines_of, evidence_of
from upphandla.flows.registry import Registry
from upphandla.states.clock import today
from upphandla.states.deadlines import EXTENSION_DECISION, NEW_PROCUREMENT_START, Deadline
from upphandla.states.roles import Actor
from upphandla.store.cases import CaseFilter
from upphandla.store.records import StoredCase
from upphandla.store.uow import UnitOfWork

MAX_CASES = 1000
KINDS = (NEW_PROCUREMENT_START, EXTENSION_DECISION)


@dataclass(frozen=True)
class Contract:
    case: StoredCase
    data: dict[str, Any]  # the registered contract
    upcoming: list[Deadline]  # new procurement start and extension decisions

    @property
    def next_due(self) -> Deadline | None:
        return self.upcoming[0] if self.upcoming else None


def contract_register(uow: UnitOfWork, *, registry: Registry, actor: Actor) -> list[Contract]:
    scope = scope_for(uow, registry, actor)
    found = uow.cases.page(CaseFilter(), scope, limit=MAX_CASES, offset=0)
    out = []
    for case in found.items:
        definition, _ = registry.get(uow, case.definition_key, case.definition_version)
        if definition.contracts is None:
            continue
        rows = uow.evidence.of_case(case.id)
        contracts = [r for r in rows if r.kind == definition.contracts.kind]
        if not contracts:
            continue
        deadlines = deadlines_of(definition, case, evidence_of(rows))
        upcoming = sorted((d for d in deadlines if d.kind in KINDS), key=lambda d: d.due_on)
        out.append(Contract(case, contracts[-1].data, upcoming))
    far = today().replace(year=9999)
    return sorted(out, key=lambda c: (c.next_due.due_on if c.next_due else far, c.case.id))
