"""Who may see and do what: the access policy of a process definition, and what it means for one
person and one case.

The policy says, for each role and each action on a case (read it, record evidence on it, move it
on), which relations to the case allow it:

- `own_case`: the person started the case;
- `own_organisation`: the case belongs to the person's organisation;
- `participant`: the person's role has something to do in the case's phase (evidence to record or
  a step to take), the person is the case's assigned upphandlare, or has acted on the case;
- `every_case`: any case.

Sealed evidence (bids, OSL 19 kap. 3 § andra stycket) is hidden, with every trace of it, until
the evidence that unseals it is recorded (the award decision); before that only the case's
assigned upphandlare sees it.

A person who may not read a case is told it does not exist; one who may read it but not act on
it is told the role lacks the right.
"""

from __future__ import annotations

from dataclasses import dataclass

from upphandla.states.access_policy import Action
from upphandla.states.definition import Definition
from upphandla.states.roles import Actor


def participant_phases(definition: Definition, role: str) -> frozenset[str]:
    """The open phases where the role has something to do: evidence it may record, a step it may
    take (worked out once per definition)."""
    return definition.role_phases.get(role, frozenset())


@dataclass(frozen=True)
class CaseScope:
    """The cases one person may read, as data the store turns into a query predicate; and the
    sealed evidence kinds with the kinds that unseal them."""

    user_id: int | None
    every_case: bool = False
    own_cases: bool = False
    organisation: str | None = None  # the cases of this organisation
    participant: bool = False
    participant_phases: frozenset[str] = frozenset()
    sealed: tuple[tuple[str, str], ...] = ()  # (kind, until kind)

    @property
    def nothing(self) -> bool:
        return not (self.every_case or self.own_cases or self.organisation or self.participant)


def scope_of(definition: Definition, actor: Actor, action: Action = "read") -> CaseScope:
    """The cases on which `actor` may do `action` under the definition's policy (every case
    without one)."""
    policy = definition.access
    sealed: tuple[tuple[str, str], ...] = ()
    if policy is None:
        return CaseScope(actor.user_id, every_case=True)
    sealed = tuple((s.kind, s.until) for s in policy.sealed)
    granted = policy.roles.get(actor.role)
    allowed = set(granted.relations(action)) if granted is not None else set()
    return CaseScope(
        actor.user_id,
        every_case="every_case" in allowed,
        own_cases="own_case" in allowed and actor.user_id is not None,
        organisation=actor.organisation if "own_organisation" in allowed else None,
        participant="participant" in allowed and actor.user_id is not None,
        participant_phases=participant_phases(definition, actor.role),
        sealed=sealed,
    )
