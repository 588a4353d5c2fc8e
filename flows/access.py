"""The access policy applied: the scope of what a person may read or do, and the check that they
may act on one case. A case the person may not read is reported exactly as a case that does not
exist. One rule, one implementation: every check is the store's query predicate for the scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from upphandla.flows.organisations import organisations
from upphandla.flows.registry import Registry
from upphandla.states.access import CaseScope, scope_of
from upphandla.states.access_policy import Action, unsealed
from upphandla.states.definition import Definition
from upphandla.states.errors import Forbidden, Invalid
from upphandla.states.roles import SYSTEM_ROLE, Actor
from upphandla.store.records import StoredCase, StoredEvidence
from upphandla.store.uow import UnitOfWork


def scope_for(
    uow: UnitOfWork, registry: Registry, actor: Actor, action: Action = "read"
) -> CaseScope:
    """The cases on which `actor` may do `action`. The system (timers, sweeps) may do all."""
    if actor.role == SYSTEM_ROLE:
        return CaseScope(None, every_case=True)
    definition = registry.policy_definition(uow)
    if definition is None:
        return CaseScope(actor.user_id)  # nothing loaded: nothing to see
    return scope_of(definition, actor, action)


def readable_case(uow: UnitOfWork, registry: Registry, actor: Actor, case_id: int) -> StoredCase:
    """The case, if `actor` may read it; otherwise NotFound, as for a case that does not exist."""
    return uow.cases.get_visible(case_id, scope_for(uow, registry, actor))


def check_may(
    uow: UnitOfWork, registry: Registry, actor: Actor, case_id: int, action: Action
) -> None:
    """Refuse `action` on the case unless the policy allows it: NotFound when the actor may not
    even read the case, Forbidden when they may read it but not do this."""
    if actor.role == SYSTEM_ROLE:
        return
    if uow.cases.is_visible(case_id, scope_for(uow, registry, actor, action)):
        return
    readable_case(uow, registry, actor, case_id)
    raise Forbidden("forbidden_relation", role=actor.role, case_id=case_id)


def owning_organisation(definition: Definition, actor: Actor, attributes: Any) -> Any:
    """The attributes of a new case with the organisation it belongs to: the starter's own,
    unless the starter's role may start cases for others; then the one named, which must be
    known. Naming another organisation without that right is refused."""
    policy = definition.access
    if policy is None or actor.role == SYSTEM_ROLE or not isinstance(attributes, dict):
        return attributes
    given = attributes.get("organisation")
    if given is not None and (not isinstance(given, str) or not given.strip()):
        return attributes  # not an organisation at all: the attributes' validation says so
    if actor.role in policy.start_for_others:
        given = given if given is not None else actor.organisation
        if not isinstance(given, str) or organisations().get(given) is None:
            raise Invalid(
                "invalid_attributes", [organisations().unknown("attributes.organisation")]
            )
    elif given is None or given == actor.organisation:
        given = actor.organisation
    else:
        raise Forbidden(
            "forbidden_organisation", role=actor.role, own=actor.organisation, given=given
        )
    return {**attributes, "organisation": given}


@dataclass(frozen=True)
class SealedView:
    """The sealed evidence a person may see on one case; `early` when it is seen before it is
    unsealed (by the case's assigned upphandlare), which must be logged."""

    rows: list[StoredEvidence]
    early: bool

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted({r.kind for r in self.rows}))


def sealed_view(
    uow: UnitOfWork, definition: Definition, actor: Actor, case: StoredCase, recorded: set[str]
) -> SealedView:
    """What of the case's sealed evidence `actor` (who may read the case) may see, given the
    kinds of evidence recorded on it. Which kinds are sealed, and by what they are unsealed, is
    the case's own definition's (as when they are recorded, flows.commands.cases)."""
    policy = definition.access
    if policy is None or not policy.sealed:
        return SealedView([], False)
    assigned = actor.user_id is not None and case.assigned_to == actor.user_id
    shown: list[StoredEvidence] = []
    early = False
    rows = uow.evidence.of_case(case.id, sealed=True)
    for row in rows:
        if unsealed(policy, row.kind, recorded):
            shown.append(row)
        elif assigned:
            shown.append(row)
            early = True
    return SealedView(shown, early)
