"""The rules of moving a case: which triggers may fire, what their gates say, what evidence means.

Everything here is pure: it takes a definition, a case snapshot, its evidence and today's date, and
returns a decision or raises a domain error. Persisting the decision is the caller's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from upphandla.states import clock
from upphandla.states.case import CaseSnapshot, Evidence, EvidenceRecord
from upphandla.states.checks import evaluate, lookups_for
from upphandla.states.definition import Definition, Trigger
from upphandla.states.errors import (
    Conflict,
    EvidenceRefused,
    Forbidden,
    Invalid,
    NotFound,
    TransitionRefused,
    UnknownEvidenceKind,
)
from upphandla.states.evidence import validate_evidence_data
from upphandla.states.gates import GateResult
from upphandla.states.lookups import Lookup
from upphandla.states.machine import Lifecycle
from upphandla.states.remedies import EvidenceNeed, kinds_in_phase, needs_of_blocked
from upphandla.states.roles import Actor


@dataclass(frozen=True, slots=True)
class Decision:
    trigger: str
    from_state: str
    to_state: str
    gate_results: tuple[GateResult, ...]


@dataclass(frozen=True, slots=True)
class TriggerPreview:
    trigger: Trigger
    role_allowed: bool
    gate_results: tuple[GateResult, ...]
    # gate id -> the evidence that would lift it, for each gate that blocks (states.remedies)
    needs: Mapping[str, tuple[EvidenceNeed, ...]] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(g.ok for g in self.gate_results)


def _require_role(actor: Actor, roles: list[str], what: str) -> None:
    if actor.role not in roles:
        raise Forbidden("role_not_allowed", role=actor.role, allowed=", ".join(roles), what=what)


def ensure_open(definition: Definition, case: CaseSnapshot) -> None:
    if definition.phase[case.state].final:
        raise Conflict("case_closed", state=case.state)


def offered(definition: Definition, case: CaseSnapshot, evidence: Evidence) -> list[Trigger]:
    """Triggers that leave the case's phase and apply to this case."""
    facts = case.facts(evidence)
    return [
        t
        for t in definition.triggers_from(case.state)
        if t.available_when is None or t.available_when.holds(facts)
    ]


def evaluate_gates(
    trigger: Trigger, case: CaseSnapshot, evidence: Evidence, today: date
) -> tuple[GateResult, ...]:
    facts = case.facts(evidence)
    return tuple(evaluate(g, case, evidence, today, facts) for g in trigger.gates)


def trigger_lookups(
    definition: Definition, case: CaseSnapshot, evidence: Evidence, *, trigger_id: str, today: date
) -> set[Lookup]:
    """What `decide` will need looked up outside the case for this trigger's gates."""
    trigger = definition.trigger.get(trigger_id)
    return lookups_for(trigger.gates, case, evidence, today) if trigger else set()


def preview_lookups(
    definition: Definition, case: CaseSnapshot, evidence: Evidence, *, today: date
) -> set[Lookup]:
    """What `preview` will need looked up outside the case for the gates it shows."""
    if definition.phase[case.state].final:
        return set()
    gates = [g for t in offered(definition, case, evidence) for g in t.gates]
    return lookups_for(gates, case, evidence, today)


def decide(
    definition: Definition,
    lifecycle: Lifecycle,
    case: CaseSnapshot,
    evidence: Evidence,
    *,
    trigger_id: str,
    actor: Actor,
    today: date,
    comment: str | None,
) -> Decision:
    """Decide a transition: refuse with every failing gate's reason, or return what changes."""
    trigger = definition.trigger.get(trigger_id)
    if trigger is None:
        raise NotFound(
            "unknown_trigger",
            trigger=trigger_id,
            definition=f"{definition.key} v{definition.version}",
        )
    _require_role(actor, trigger.roles, f"göra övergången ”{trigger.title}”")
    ensure_open(definition, case)
    if case.state not in trigger.source:
        raise Conflict("trigger_not_available", trigger=trigger_id, state=case.state)
    if trigger.available_when is not None and not trigger.available_when.holds(
        case.facts(evidence)
    ):
        raise Conflict(
            "trigger_not_offered",
            trigger=trigger_id,
            condition=trigger.available_when.describe(),
        )
    if trigger.requires_comment and not (comment and comment.strip()):
        raise Invalid("comment_required", [], trigger=trigger_id)
    results = evaluate_gates(trigger, case, evidence, today)
    reasons = [r for g in results for r in g.reasons]
    if reasons:
        raise TransitionRefused(trigger_id, reasons, _needs(definition, trigger, case, results))
    moved = lifecycle.apply(case.state, trigger_id)
    return Decision(trigger_id, case.state, moved.state, results)


def preview(
    definition: Definition, case: CaseSnapshot, evidence: Evidence, *, actor: Actor, today: date
) -> list[TriggerPreview]:
    """For every trigger the case offers now: may this role fire it, and what do its gates say."""
    if definition.phase[case.state].final:
        return []
    out = []
    for t in offered(definition, case, evidence):
        results = evaluate_gates(t, case, evidence, today)
        needs = _needs(definition, t, case, results)
        out.append(TriggerPreview(t, actor.role in t.roles, results, needs))
    return out


def _needs(
    definition: Definition, trigger: Trigger, case: CaseSnapshot, results: tuple[GateResult, ...]
) -> dict[str, tuple[EvidenceNeed, ...]]:
    blocked = [g.gate for g in results if not g.ok]
    return needs_of_blocked(definition, trigger.gates, blocked, case.state)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A piece of evidence that has passed validation, and the case's evidence with it counted
    as the latest of its kind: what the kind's own gates are evaluated on."""

    kind: str
    data: dict[str, Any]
    evidence: Evidence


def evidence_candidate(
    definition: Definition,
    case: CaseSnapshot,
    *,
    kind_id: str,
    actor: Actor,
    data: Any,
    evidence: Evidence,
    at: datetime,
    extra: Mapping[str, Any] | None = None,
) -> Candidate:
    """Validate a piece of evidence for this case and actor (kind, role, phase, fields).

    `extra` is data the use-case layer adds (e.g. the recording user's mandate)."""
    kind = definition.evidence_kind.get(kind_id)
    if kind is None:
        raise UnknownEvidenceKind(
            kind_id,
            f"{definition.key} v{definition.version}",
            definition.phase[case.state].title,
            kinds_in_phase(definition, case.state),
        )
    _require_role(actor, kind.roles, f"registrera underlaget ”{kind.title}”")
    ensure_open(definition, case)
    if kind.phases is not None and case.state not in kind.phases:
        raise Conflict("evidence_not_in_phase", kind=kind_id, state=case.state)
    clean = {**validate_evidence_data(kind, data), **(extra or {})}
    record = EvidenceRecord(kind_id, clean, at, actor.name, actor.role)
    return Candidate(kind_id, clean, evidence.with_record(record))


def candidate_lookups(
    definition: Definition, case: CaseSnapshot, candidate: Candidate, *, today: date
) -> set[Lookup]:
    """What the kind's own gates will need looked up outside the case."""
    gates = definition.evidence_kind[candidate.kind].gates
    return lookups_for(gates, case, candidate.evidence, today)


def refuse_blocked(
    definition: Definition, case: CaseSnapshot, candidate: Candidate, *, today: date
) -> tuple[GateResult, ...]:
    """Evaluate the kind's own gates on the candidate; refuse with every reason (and what would
    lift each) if any blocks, else return what they said (their notes, e.g. what a new list
    changed)."""
    gates = definition.evidence_kind[candidate.kind].gates
    if not gates:
        return ()
    facts = case.facts(candidate.evidence)
    results = tuple(evaluate(g, case, candidate.evidence, today, facts) for g in gates)
    reasons = [r for g in results for r in g.reasons]
    if reasons:
        blocked = [g.gate for g in results if not g.ok]
        needs = needs_of_blocked(definition, gates, blocked, case.state)
        raise EvidenceRefused(candidate.kind, reasons, needs)
    return results


def check_evidence(
    definition: Definition,
    case: CaseSnapshot,
    *,
    kind_id: str,
    actor: Actor,
    data: Any,
    evidence: Evidence | None = None,
    today: date | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate a piece of evidence and evaluate its kind's own gates with it counted as the
    latest of its kind (the snapshot carries what those gates need looked up); returns the
    normalised data, or raises with every reason."""
    candidate = evidence_candidate(
        definition,
        case,
        kind_id=kind_id,
        actor=actor,
        data=data,
        evidence=evidence or Evidence(),
        at=clock.now(),
        extra=extra,
    )
    refuse_blocked(definition, case, candidate, today=today or clock.today())
    return candidate.data
