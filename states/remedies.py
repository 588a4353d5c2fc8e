"""What to do about a refusal: for a blocked gate, the evidence that would lift it, who may
record it and the fields it needs; and what may be recorded at all in a phase.

Derived from the definition: the check's parameters that name evidence kinds
(`Check.evidence_param`, `kind_params`), less those a check only reads for context (recording
one would not lift the gate), and only kinds that can be recorded in the case's phase. A gate
that only time can lift (the standstill while it runs) has none: its reason says what to wait
for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from upphandla.states.checks import CHECKS
from upphandla.states.definition import Definition, EvidenceKind, FieldSpec, GateSpec
from upphandla.states.roles import ROLE_NAMES

# Parameters naming a kind that the check reads but that does not lift it when recorded.
CONTEXT_PARAMS: dict[str, frozenset[str]] = {
    # Only time ends the standstill: filing a review extends it, and the court's decision
    # starts its last ten days.
    "standstill_ended": frozenset({"review_kind", "decision_kind"}),
    "signoff_after_failed_round": frozenset({"list_kind", "round_kind"}),  # a new sign-off does
}
_YES_NO = {True: "ja", False: "nej"}


@dataclass(frozen=True, slots=True)
class FieldNeed:
    name: str
    title: str
    type: str
    required: bool
    choices: tuple[str, ...] | None = None
    items: tuple[FieldNeed, ...] | None = None  # for a list: the fields of each item

    @classmethod
    def of(cls, spec: FieldSpec) -> FieldNeed:
        return cls(
            spec.name,
            spec.title,
            spec.type,
            spec.required,
            tuple(spec.choices) if spec.choices is not None else None,
            tuple(cls.of(i) for i in spec.items) if spec.items is not None else None,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "type": self.type,
            "required": self.required,
            "choices": list(self.choices) if self.choices is not None else None,
            "items": [i.as_dict() for i in self.items] if self.items is not None else None,
        }


@dataclass(frozen=True, slots=True)
class EvidenceNeed:
    """A kind of evidence to record: who may record it, its fields, and the values the gate
    requires of some of them."""

    kind: str
    title: str
    roles: tuple[str, ...]
    fields: tuple[FieldNeed, ...]
    values: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, kind: EvidenceKind, values: Mapping[str, Any] | None = None) -> EvidenceNeed:
        return cls(
            kind.id,
            kind.title,
            tuple(kind.roles),
            tuple(FieldNeed.of(f) for f in kind.fields),
            dict(values or {}),
        )

    @property
    def hint(self) -> str:
        """In Swedish: what to record and who may, e.g. "Registrera ”Systemsäkerhetsanalys (SSA)
        godkänd” (ssa_approved). Får registreras av Informationssäkerhet."."""
        who = ", ".join(ROLE_NAMES.get(r, r) for r in self.roles)
        titles = {f.name: f.title for f in self.fields}
        with_values = ", ".join(
            f"”{titles.get(name, name)}” = {_YES_NO[v] if isinstance(v, bool) else v}"
            for name, v in self.values.items()
        )
        text = f"Registrera ”{self.title}” ({self.kind})"
        if with_values:
            text += f" med {with_values}"
        return f"{text}. Får registreras av {who}."

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "roles": list(self.roles),
            "fields": [f.as_dict() for f in self.fields],
            "values": dict(self.values),
            "hint": self.hint,
        }


def recordable_in(definition: Definition, state: str) -> list[EvidenceKind]:
    """The kinds that may be recorded while a case is in `state` (none in a final phase)."""
    if definition.phase[state].final:
        return []
    return [k for k in definition.evidence_kinds if k.phases is None or state in k.phases]


def kinds_in_phase(definition: Definition, state: str) -> tuple[EvidenceNeed, ...]:
    return tuple(EvidenceNeed.of(k) for k in recordable_in(definition, state))


def evidence_for(definition: Definition, spec: GateSpec, state: str) -> tuple[EvidenceNeed, ...]:
    """The evidence that would lift this gate, recordable in `state`, in the order the check
    names it (its own kind first)."""
    check = CHECKS.get(spec.check)
    if check is None:
        return ()
    context = CONTEXT_PARAMS.get(spec.check, frozenset())
    names = [check.evidence_param] if check.evidence_param else []
    names += [n for n in check.kind_params if n not in context]
    recordable = {k.id for k in recordable_in(definition, state)}
    out: list[EvidenceNeed] = []
    for name in names:
        kind = spec.params.get(name)
        if not isinstance(kind, str) or kind not in recordable or any(n.kind == kind for n in out):
            continue
        where = spec.params.get("where") if name == check.evidence_param else None
        out.append(EvidenceNeed.of(definition.evidence_kind[kind], where))
    return tuple(out)


def needs_of_blocked(
    definition: Definition, gates: Iterable[GateSpec], blocked: Iterable[str], state: str
) -> dict[str, tuple[EvidenceNeed, ...]]:
    """Gate id -> what would lift it, for the gates among `gates` whose ids are in `blocked`."""
    wanted = set(blocked)
    return {g.id: evidence_for(definition, g, state) for g in gates if g.id in wanted}
