"""Sanctions screening (§ 10.11; EU reg. 833/2014 art. 5k): the parties declared for an award,
and the supplier of a contract already signed, against the current sanctions list."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.definition import GateSpec
from upphandla.states.gates import Check, GateResult, blocked, passed
from upphandla.states.lookups import Party, Screened, Screening
from upphandla.states.validation import Problem


class SanctionsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the declaration: parties [{name, identifier, relation, share_percent, declaration}]
    share_limit_percent: int = Field(default=10, ge=0, le=100)
    supplier_relation: str = "leverantor"


def declared_parties(record_data: Mapping[str, Any]) -> tuple[Party, ...]:
    return tuple(Party(str(p["name"]), p.get("identifier")) for p in record_data.get("parties", []))


def declaration_screening(
    spec: GateSpec, case: CaseSnapshot, evidence: Evidence, today: date
) -> Screening | None:
    """The parties of the latest declaration, to screen against the current list."""
    record = evidence.latest(spec.params_as(SanctionsParams).kind)
    return Screening(declared_parties(record.data)) if record is not None else None


def gate_sanctions_clear(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when the winning supplier and every party above the share limit have declared, and
    none is on the current sanctions list [§ 10.11; EU reg. 833/2014 art. 5k]. The parties of the
    declaration are screened before the gate is asked (`declaration_screening`)."""
    params = spec.params_as(SanctionsParams)
    record = evidence.latest(params.kind)
    lookup = declaration_screening(spec, case, evidence, today)
    if record is None or lookup is None:
        return blocked(spec, "Ingen sanktionsförsäkran är registrerad.")
    screening: Screened = case.found(lookup)
    if not screening.list_date:
        return blocked(spec, "Ingen sanktionslista är inläst, så parterna kan inte kontrolleras.")
    hits = {h.party: h for h in screening.hits}
    problems = []
    parties = record.data.get("parties", [])
    if not any(p.get("relation") == params.supplier_relation for p in parties):
        problems.append("den vinnande leverantören saknas bland parterna")
    for party in parties:
        relevant = (
            party.get("relation") == params.supplier_relation
            or int(party.get("share_percent", 0)) > params.share_limit_percent
        )
        if not relevant:
            continue
        if party.get("declaration") is not True:
            problems.append(f"försäkran saknas för {party['name']}")
        if party["name"] in hits:
            hit = hits[party["name"]]
            problems.append(
                f"{party['name']} ({party.get('share_percent', 0)} %) finns på sanktionslistan "
                f"daterad {screening.list_date} som ”{hit.listed_name}”"
            )
    if problems:
        return blocked(spec, "Stopp: " + "; ".join(problems) + ".")
    return passed(spec)


class SuppliersParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kinds: list[str]  # records naming the contracted supplier
    field: str = "supplier"
    declaration_kind: str | None = None  # its parties are screened too


def suppliers_screening(
    spec: GateSpec, case: CaseSnapshot, evidence: Evidence, today: date
) -> Screening:
    """The contracted supplier named in the latest records of the kinds, and the parties of the
    latest declaration, to screen against the current list."""
    params = spec.params_as(SuppliersParams)
    parties: dict[str, str | None] = {}
    for kind in params.kinds:
        record = evidence.latest(kind)
        if record is not None and record.data.get(params.field):
            parties.setdefault(str(record.data[params.field]), None)
    declaration = evidence.latest(params.declaration_kind) if params.declaration_kind else None
    if declaration is not None:
        parties |= {p.name: p.identifier for p in declared_parties(declaration.data)}
    return Screening(tuple(Party(name, identifier) for name, identifier in parties.items()))


def gate_suppliers_not_sanctioned(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """For contracts already signed: blocks when the supplier, or a declared party, is on the
    current sanctions list [§ 10.11: existing contracts with them may not be performed]. With no
    list loaded there is nothing to find."""
    screening: Screened = case.found(suppliers_screening(spec, case, evidence, today))
    hits = screening.hits
    if not hits:
        return passed(spec)
    listed = "; ".join(
        f"{h.party} finns på sanktionslistan daterad {screening.list_date} som "
        f"”{h.listed_name}”" + (f" ({h.reference})" if h.reference else "")
        for h in hits
    )
    return blocked(spec, f"Träff: {listed}.")


def _suppliers_problems(
    parsed: SuppliersParams, path: str, kinds: Mapping[str, Any], facts: Mapping[str, type]
) -> list[Problem]:
    return [
        Problem(f"{path}.kinds[{i}]", f"okänt underlag ”{k}”")
        for i, k in enumerate(parsed.kinds)
        if k not in kinds
    ] + [
        Problem(f"{path}.kinds[{i}]", f"”{k}” har inget fält ”{parsed.field}”")
        for i, k in enumerate(parsed.kinds)
        if k in kinds and parsed.field not in {f.name for f in kinds[k].fields}
    ]


SANCTIONS_CHECKS = {
    "sanctions_clear": Check(
        gate_sanctions_clear, SanctionsParams, "kind", lookup=declaration_screening
    ),
    "suppliers_not_sanctioned": Check(
        gate_suppliers_not_sanctioned,
        SuppliersParams,
        kind_params=("declaration_kind",),
        extra=_suppliers_problems,
        lookup=suppliers_screening,
    ),
}
