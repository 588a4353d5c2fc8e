"""The rules of moving a case: which triggers may fire, what their gates say, what evidence means.

Everything here is pure: it takes a definition, a case snapshot, its evidence and today's date, and
returns a decision or raises a domain error. Persisting the decision is the caller's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from upphandla.states import clock
from upphandla.states.case import CaseSnapshot, Evidence, EvidenceRecord
from upphandla.states.definition import Definition, Trigger
from upphandla.states.errors import (
    Conflict,
    EvidenceRefused,
    Forbidden,
    Invalid,
    NotFound,
    TransitionRefused,
)
from upphandla.states.evidence import validate_evidence_data
from upphandla.states.gates import GateResult, evaluate
from upphandla.states.machine import Lifecycle
from upphandla.states.roles import ROLE_NAMES, Actor


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
        raise TransitionRefused(trigger_id, reasons)
    moved = lifecycle.apply(case.state, trigger_id)
    return Decision(trigger_id, case.state, moved.state, results)


def preview(
    definition: Definition, case: CaseSnapshot, evidence: Evidence, *, actor: Actor, today: date
) -> list[TriggerPreview]:
    """For every trigger the case offers now: may this role fire it, and what do its gates say."""
    if definition.phase[case.state].final:
        return []
    return [
        TriggerPreview(t, actor.role in t.roles, evaluate_gates(t, case, evidence, today))
        for t in offered(definition, case, evidence)
    ]


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
    """Validate a piece of evidence for this case and actor; returns its normalised data.

    `extra` is data the use-case layer adds (e.g. the recording user's mandate). The kind's own
    gates are then evaluated with this record counted as the latest of its kind; if any blocks,
    the evidence is refused with every reason."""
    kind = definition.evidence_kind.get(kind_id)
    if kind is None:
        raise NotFound(
            "unknown_evidence_kind",
            kind=kind_id,
            definition=f"{definition.key} v{definition.version}",
        )
    _require_role(actor, kind.roles, f"registrera underlaget ”{kind.title}”")
    ensure_open(definition, case)
    if kind.phases is not None and case.state not in kind.phases:
        raise Conflict("evidence_not_in_phase", kind=kind_id, state=case.state)
    clean = {**validate_evidence_data(kind, data), **(extra or {})}
    if kind.gates:
        candidate = (evidence or Evidence()).with_record(
            EvidenceRecord(kind_id, clean, clock.now(), actor.name, actor.role)
        )
        facts = case.facts(candidate)
        day = today or clock.today()
        results = [evaluate(g, case, candidate, day, facts) for g in kind.gates]
        reasons = [r for g in results for r in g.reasons]
        if reasons:
            raise EvidenceRefused(kind_id, reasons)
    return clean


def role_title(role: str) -> str:
    return ROLE_NAMES.get(role, role)
