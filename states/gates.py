"""Gates: named pure checks that say why a case may not leave a phase, and cite the rule.

Each check has the shape `gate_x(case, evidence, today, spec) -> GateResult`. The process definition
binds a check to a transition with its parameters, its Swedish message and its source. A check
that needs a fact from outside the case declares it (`Check.lookup`); the case snapshot then
carries what was found (states.lookups). The registry of every check is states.checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.definition import EvidenceKind, GateSpec
from upphandla.states.lookups import Lookup
from upphandla.states.validation import Problem, problems_from


@dataclass(frozen=True, slots=True)
class Reason:
    gate: str
    message: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return {"gate": self.gate, "message": self.message, "source": self.source}


@dataclass(frozen=True, slots=True)
class GateResult:
    gate: str
    title: str
    applies: bool
    ok: bool
    reasons: tuple[Reason, ...]
    source: str
    # What the check says even when it passes, e.g. that it decided on a threshold amount whose
    # period has ended (states.thresholds).
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out = {
            "gate": self.gate,
            "title": self.title,
            "applies": self.applies,
            "ok": self.ok,
            "reasons": [r.as_dict() for r in self.reasons],
            "source": self.source,
        }
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def passed(spec: GateSpec, *, notes: tuple[str, ...] = ()) -> GateResult:
    return GateResult(spec.id, spec.title, True, True, (), spec.source, notes)


def blocked(spec: GateSpec, *details: str, notes: tuple[str, ...] = ()) -> GateResult:
    message = " ".join((spec.message, *details, *notes))
    return GateResult(
        spec.id,
        spec.title,
        True,
        False,
        (Reason(spec.id, message, spec.source),),
        spec.source,
        notes,
    )


def not_applicable(spec: GateSpec) -> GateResult:
    return GateResult(spec.id, spec.title, False, True, (), spec.source)


CheckFn = Callable[[CaseSnapshot, Evidence, date, GateSpec], GateResult]
# (gate, case, evidence, today) -> what the check needs looked up outside the case, if anything
LookupFn = Callable[[GateSpec, CaseSnapshot, Evidence, date], Lookup | None]
FIELD_TYPES: dict[str, type] = {
    "text": str,
    "choice": str,
    "date": str,
    "bool": bool,
    "int": int,
    "list": list,
}


@dataclass(frozen=True)
class Check:
    """A named check and the schema of the parameters a definition may give it."""

    fn: CheckFn
    params: type[BaseModel]
    evidence_param: str | None = None  # name of a parameter that must be a known evidence kind
    kind_params: tuple[str, ...] = ()  # other parameters naming evidence kinds (may be None)
    field_params: tuple[tuple[str, str], ...] = ()  # (parameter naming a field, its kind's param)
    # Further checks of the parsed parameters: (params, path, kinds, facts) -> problems.
    extra: (
        Callable[[Any, str, Mapping[str, EvidenceKind], Mapping[str, type]], list[Problem]] | None
    ) = None
    lookup: LookupFn | None = None

    def param_problems(
        self,
        params: Mapping[str, Any],
        path: str,
        kinds: Mapping[str, EvidenceKind],
        facts: Mapping[str, type] | None = None,
    ) -> list[Problem]:
        try:
            parsed = self.params.model_validate(params)
        except ValidationError as exc:
            return problems_from(exc, [path])
        out = [
            Problem(f"{path}.{name}", f"okänt underlag ”{getattr(parsed, name)}”")
            for name in self.kind_params
            if getattr(parsed, name) is not None and getattr(parsed, name) not in kinds
        ]
        for field_param, kind_param in self.field_params:
            field, kind = getattr(parsed, field_param), getattr(parsed, kind_param)
            if (
                field is not None
                and kind in kinds
                and field not in {f.name for f in kinds[kind].fields}
            ):
                out.append(Problem(f"{path}.{field_param}", f"”{kind}” har inget fält ”{field}”"))
        if self.extra is not None:
            out += self.extra(parsed, path, kinds, facts or {})
        return out + self._evidence_problems(parsed, path, kinds)

    def _evidence_problems(
        self, parsed: Any, path: str, kinds: Mapping[str, EvidenceKind]
    ) -> list[Problem]:
        if self.evidence_param:
            kind = getattr(parsed, self.evidence_param)
            if kind not in kinds:
                return [Problem(f"{path}.{self.evidence_param}", f"okänt underlag ”{kind}”")]
            fields = {f.name: f.type for f in kinds[kind].fields}
            out = []
            for name, want in getattr(parsed, "where", {}).items():
                if name not in fields:
                    out.append(Problem(f"{path}.where.{name}", f"”{kind}” har inget fält ”{name}”"))
                elif type(want) is not FIELD_TYPES[fields[name]]:
                    out.append(Problem(f"{path}.where.{name}", "värdet har fel typ för fältet"))
            return out
        return []
