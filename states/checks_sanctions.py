"""Sanctions screening (§ 10.11; EU reg. 833/2014 art. 5k): the parties declared for an award,
and the supplier of a contract already signed, against the current sanctions list.

Art. 5k(1) forbids both awarding and continuing to perform a public contract with a listed
party, so the parties are screened when the contract is awarded, again when it is signed, and
on every new list while the case waits for signing or performs the contract (re-checks).

How a party matched decides what happens (states.sanctions): a match on the identifier or on the
whole name (the same match key) is a listed party and stops the case for good; a possible match
(a similar name) stops it until a reviewer has cleared that party against that listed name with
a reason (`sanctions_match_clearable` guards that record).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from upphandla.states.case import CaseSnapshot, Evidence, EvidenceRecord
from upphandla.states.clock import local_date
from upphandla.states.definition import GateSpec
from upphandla.states.gates import Check, GateResult, blocked, passed
from upphandla.states.lookups import Party, Screened, Screening, ScreeningHit
from upphandla.states.sanctions import IDENTIFIER, POSSIBLE, match_key, name_score
from upphandla.states.validation import Problem


class SanctionsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the declaration: parties [{name, identifier, relation, share_percent, declaration}]
    share_limit_percent: int = Field(default=10, ge=0, le=100)
    supplier_relation: str = "leverantor"
    # How alike (0-100, states.sanctions.name_score) a name must be for a possible match.
    min_score: int = Field(ge=50, le=100)
    # Facts ("kind.field") that name the winning supplier: each one recorded must be the party
    # the declaration names as supplier.
    winner_facts: list[str] = []
    clearance_kind: str | None = None  # records clearing a possible match: party, listed_name


def declared_parties(record_data: Mapping[str, Any]) -> tuple[Party, ...]:
    return tuple(Party(str(p["name"]), p.get("identifier")) for p in record_data.get("parties", []))


def declaration_screening(
    spec: GateSpec, case: CaseSnapshot, evidence: Evidence, today: date
) -> Screening | None:
    """The parties of the latest declaration, to screen against the current list."""
    params = spec.params_as(SanctionsParams)
    record = evidence.latest(params.kind)
    if record is None:
        return None
    return Screening(declared_parties(record.data), params.min_score)


def gate_sanctions_clear(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when the winning supplier and every party above the share limit have declared, the
    winner recorded in the case (`winner_facts`) is the declared supplier, and none of those
    parties is on the current sanctions list: not by identifier or name, and not by a similar
    name unless a reviewer has cleared it [§ 10.11; EU reg. 833/2014 art. 5k]. The parties of
    the declaration are screened before the gate is asked (`declaration_screening`)."""
    params = spec.params_as(SanctionsParams)
    record = evidence.latest(params.kind)
    lookup = declaration_screening(spec, case, evidence, today)
    if record is None or lookup is None:
        return blocked(spec, "Ingen sanktionsförsäkran är registrerad.")
    screening: Screened = case.found(lookup)
    if not screening.list_date:
        return blocked(spec, "Ingen sanktionslista är inläst, så parterna kan inte kontrolleras.")
    problems: list[str] = []
    parties = record.data.get("parties", [])
    suppliers = [str(p["name"]) for p in parties if p.get("relation") == params.supplier_relation]
    if not suppliers:
        problems.append("den vinnande leverantören saknas bland parterna")
    else:
        problems += _winner_problems(params, case.facts(evidence), suppliers)
    cleared = clearances(evidence, params.clearance_kind)
    notes: list[str] = []
    for party in parties:
        relevant = (
            party.get("relation") == params.supplier_relation
            or int(party.get("share_percent", 0)) > params.share_limit_percent
        )
        if not relevant:
            continue
        name = str(party["name"])
        if party.get("declaration") is not True:
            problems.append(f"försäkran saknas för {name}")
        who = f"{name} ({party.get('share_percent', 0)} %)"
        for hit in (h for h in screening.hits if h.party == name):
            clearance = cleared.get(_pair(hit)) if hit.match == POSSIBLE else None
            if clearance is not None:
                notes.append(cleared_note(hit, clearance))
            else:
                problems.append(hit_problem(who, hit, screening.list_date, params))
    if problems:
        return blocked(spec, "Stopp: " + "; ".join(problems) + ".", notes=tuple(notes))
    return passed(spec, notes=tuple(notes))


def _winner_problems(
    params: SanctionsParams, facts: Mapping[str, Any], suppliers: Sequence[str]
) -> list[str]:
    """Each recorded winner that is not the declared supplier (the same match key)."""
    keys = {match_key(s) for s in suppliers}
    declared = " / ".join(f"”{s}”" for s in suppliers)
    out = []
    for fact in params.winner_facts:
        winner = facts.get(fact)
        if not isinstance(winner, str) or not winner.strip() or match_key(winner) in keys:
            continue
        alike = max(name_score(match_key(winner), k) for k in keys) >= params.min_score
        out.append(
            f"{fact} anger ”{winner}”, men sanktionsförsäkran anger leverantören {declared}"
            + (" (namnen liknar varandra men är inte samma namn)" if alike else "")
            + "; försäkran ska gälla den leverantör som har vunnit"
        )
    return out


def hit_problem(
    who: str, hit: ScreeningHit, list_date: str | None, params: SanctionsParams | SuppliersParams
) -> str:
    """Why a hit stops the case: a listed party, or a possible match nobody has cleared."""
    listed = f"sanktionslistan daterad {list_date}"
    ref = f" ({hit.reference})" if hit.reference else ""
    if hit.match == POSSIBLE:
        clearance = f" (underlaget {params.clearance_kind})" if params.clearance_kind else ""
        return (
            f"{who} liknar ”{hit.listed_name}”{ref} på {listed} (likhet {hit.score} av 100, "
            f"gränsen är {params.min_score}); en möjlig träff ska granskas och klareras med "
            f"skäl{clearance} innan avtal får tilldelas, tecknas eller fullgöras"
        )
    how = " med samma organisationsnummer" if hit.match == IDENTIFIER else ""
    return (
        f"{who} finns på {listed} som ”{hit.listed_name}”{ref}{how}; en sådan träff kan inte "
        "klareras"
    )


def _pair(hit: ScreeningHit) -> tuple[str, str]:
    return match_key(hit.party), match_key(hit.listed_name)


def clearances(evidence: Evidence, kind: str | None) -> dict[tuple[str, str], EvidenceRecord]:
    """Every clearance recorded of `kind`, by (party, listed name) as match keys."""
    if kind is None:
        return {}
    return {
        (match_key(str(r.data["party"])), match_key(str(r.data["listed_name"]))): r
        for r in evidence.records
        if r.kind == kind
    }


def cleared_note(hit: ScreeningHit, record: EvidenceRecord) -> str:
    """What the gate says of a possible match that a reviewer has cleared."""
    day = local_date(record.recorded_at).isoformat()  # the day in Stockholm, as the law counts
    return (
        f"Möjlig sanktionsträff klarerad: {hit.party} liknar ”{hit.listed_name}” (likhet "
        f"{hit.score} av 100); klarerad av {record.recorded_by} ({record.role}) {day} med "
        f"skälet: {record.data.get('reason', '')}"
    )


class SuppliersParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kinds: list[str]  # records naming the contracted supplier
    field: str = "supplier"
    declaration_kind: str | None = None  # its parties are screened too
    min_score: int = Field(ge=50, le=100)
    clearance_kind: str | None = None


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
    return Screening(
        tuple(Party(name, identifier) for name, identifier in parties.items()), params.min_score
    )


def gate_suppliers_not_sanctioned(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """For contracts already signed: blocks when the supplier, or a declared party, is on the
    current sanctions list, or has a similar name there that no reviewer has cleared [§ 10.11:
    existing contracts with them may not be performed]. With no list loaded there is nothing to
    find."""
    params = spec.params_as(SuppliersParams)
    screening: Screened = case.found(suppliers_screening(spec, case, evidence, today))
    cleared = clearances(evidence, params.clearance_kind)
    problems, notes = [], []
    for hit in screening.hits:
        clearance = cleared.get(_pair(hit)) if hit.match == POSSIBLE else None
        if clearance is not None:
            notes.append(cleared_note(hit, clearance))
        else:
            problems.append(hit_problem(hit.party, hit, screening.list_date, params))
    if problems:
        return blocked(spec, "Träff: " + "; ".join(problems) + ".", notes=tuple(notes))
    return passed(spec, notes=tuple(notes))


class ClearanceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the clearance: party, listed_name, reason
    declaration_kind: str | None = None  # where the party's identifier is declared
    min_score: int = Field(ge=50, le=100)


def clearance_screening(
    spec: GateSpec, case: CaseSnapshot, evidence: Evidence, today: date
) -> Screening | None:
    """The party that the latest clearance names (with its identifier, when the declaration
    gives one), to screen against the current list."""
    params = spec.params_as(ClearanceParams)
    record = evidence.latest(params.kind)
    if record is None:
        return None
    party = str(record.data["party"])
    declaration = evidence.latest(params.declaration_kind) if params.declaration_kind else None
    declared = declared_parties(declaration.data) if declaration is not None else ()
    identifier = next(
        (p.identifier for p in declared if match_key(p.name) == match_key(party)), None
    )
    return Screening((Party(party, identifier),), params.min_score)


def gate_sanctions_match_clearable(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when the clearance names a possible match that screening finds now: the party
    against a listed name like it. A match on the identifier or on the whole name cannot be
    cleared: such a party is listed [§ 10.11; EU reg. 833/2014 art. 5k]."""
    params = spec.params_as(ClearanceParams)
    lookup = clearance_screening(spec, case, evidence, today)
    record = evidence.latest(params.kind)
    if lookup is None or record is None:
        return blocked(spec, "Ingen klarering är registrerad.")
    screening: Screened = case.found(lookup)
    party, listed = str(record.data["party"]), str(record.data["listed_name"])
    if not screening.list_date:
        return blocked(
            spec, "Ingen sanktionslista är inläst, så det finns ingen träff att klarera."
        )
    hits = [h for h in screening.hits if match_key(h.listed_name) == match_key(listed)]
    certain = [h for h in hits if h.match != POSSIBLE]
    if certain:
        hit = certain[0]
        how = "samma organisationsnummer" if hit.match == IDENTIFIER else "samma namn"
        return blocked(
            spec,
            f"{party} finns på sanktionslistan daterad {screening.list_date} som "
            f"”{hit.listed_name}” ({how}). En träff på namn eller organisationsnummer kan inte "
            "klareras: avtal med parten får inte tilldelas eller fullgöras.",
        )
    if not hits:
        return blocked(
            spec,
            f"{party} har ingen möjlig träff mot ”{listed}” på sanktionslistan daterad "
            f"{screening.list_date}; bara en möjlig träff som kontrollen har hittat kan klareras.",
        )
    return passed(spec)


def _fact_problems(
    parsed: SanctionsParams, path: str, kinds: Mapping[str, Any], facts: Mapping[str, type]
) -> list[Problem]:
    out = []
    for i, fact in enumerate(parsed.winner_facts):
        where = f"{path}.winner_facts[{i}]"
        kind, _, field = fact.partition(".")
        if not field:
            out.append(Problem(where, f"”{fact}” ska skrivas underlag.fält"))
        elif kind not in kinds:
            out.append(Problem(where, f"okänt underlag ”{kind}”"))
        elif field not in {f.name for f in kinds[kind].fields if f.type == "text"}:
            out.append(Problem(where, f"”{kind}” har inget textfält ”{field}”"))
    return out


def _clearance_problems(kinds: Mapping[str, Any], kind: str | None, path: str) -> list[Problem]:
    if kind is None or kind not in kinds:
        return []  # an unknown kind is reported by kind_params
    names = {f.name for f in kinds[kind].fields}
    return [
        Problem(path, f"”{kind}” har inget fält ”{name}”")
        for name in ("party", "listed_name")
        if name not in names
    ]


def _sanctions_problems(
    parsed: SanctionsParams, path: str, kinds: Mapping[str, Any], facts: Mapping[str, type]
) -> list[Problem]:
    return _fact_problems(parsed, path, kinds, facts) + _clearance_problems(
        kinds, parsed.clearance_kind, f"{path}.clearance_kind"
    )


def _suppliers_problems(
    parsed: SuppliersParams, path: str, kinds: Mapping[str, Any], facts: Mapping[str, type]
) -> list[Problem]:
    return (
        [
            Problem(f"{path}.kinds[{i}]", f"okänt underlag ”{k}”")
            for i, k in enumerate(parsed.kinds)
            if k not in kinds
        ]
        + [
            Problem(f"{path}.kinds[{i}]", f"”{k}” har inget fält ”{parsed.field}”")
            for i, k in enumerate(parsed.kinds)
            if k in kinds and parsed.field not in {f.name for f in kinds[k].fields}
        ]
        + _clearance_problems(kinds, parsed.clearance_kind, f"{path}.clearance_kind")
    )


def _clearable_problems(
    parsed: ClearanceParams, path: str, kinds: Mapping[str, Any], facts: Mapping[str, type]
) -> list[Problem]:
    return _clearance_problems(kinds, parsed.kind, f"{path}.kind")


SANCTIONS_CHECKS = {
    "sanctions_clear": Check(
        gate_sanctions_clear,
        SanctionsParams,
        "kind",
        kind_params=("clearance_kind",),
        extra=_sanctions_problems,
        lookup=declaration_screening,
    ),
    "suppliers_not_sanctioned": Check(
        gate_suppliers_not_sanctioned,
        SuppliersParams,
        kind_params=("declaration_kind", "clearance_kind"),
        extra=_suppliers_problems,
        lookup=suppliers_screening,
    ),
    "sanctions_match_clearable": Check(
        gate_sanctions_match_clearable,
        ClearanceParams,
        "kind",
        kind_params=("declaration_kind",),
        extra=_clearable_problems,
        lookup=clearance_screening,
    ),
}
