"""Checks about money and who may commit it: thresholds (effective-dated, with similar contracts
counted), a signatory's mandate, the size of a contract amendment, and sanctions screening."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field

from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.definition import GateSpec
from upphandla.states.gates import CHECKS, Check, GateResult, blocked, passed
from upphandla.states.validation import Problem


class Threshold(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    effective_from: date = Field(alias="from")
    amount_sek: int = Field(ge=0)


def threshold_on(thresholds: list[Threshold], day: date) -> Threshold | None:
    """The entry in force on `day`: the latest whose effective date has come."""
    in_force = [t for t in thresholds if t.effective_from <= day]
    return max(in_force, key=lambda t: t.effective_from) if in_force else None


def kronor(amount: int) -> str:
    return f"{amount:,}".replace(",", "\u00a0") + " kr"


class ThresholdParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    attribute: str = "estimated_value_sek"
    thresholds: list[Threshold] = Field(min_length=1)
    # For recurring purchases, similar contracts of the last twelve months count too
    # [LOU 5 kap. 11 §, applied to direct awards by 19 a kap. 1 §]; the use-case layer puts them
    # in the case's context as `similar_contracts`.
    count_similar_when: str | None = None  # name of a bool attribute, e.g. "recurring"


def gate_value_below_threshold(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when the value counted is below the threshold in force today (effective-dated)."""
    params = cast(ThresholdParams, spec.parsed_params)
    threshold = threshold_on(params.thresholds, today)
    value = case.attributes.get(params.attribute)
    if threshold is None or not isinstance(value, int):
        return blocked(spec, "Inget tröskelvärde gäller för dagens datum.")
    similar: list[dict[str, Any]] = []
    if params.count_similar_when and case.attributes.get(params.count_similar_when) is True:
        similar = list(case.context.get("similar_contracts", []))
    counted = value + sum(int(c["value_sek"]) for c in similar)
    if counted < threshold.amount_sek:
        return passed(spec)
    details = (
        f"Tröskelvärdet är {kronor(threshold.amount_sek)} (gäller från "
        f"{threshold.effective_from.isoformat()}); värdet som räknas är {kronor(counted)}"
    )
    if similar:
        named = "; ".join(
            f"ärende {c['case_id']} ”{c['title']}” ({c['organisation']}, {kronor(int(c['value_sek']))}, "
            f"tecknat {c['signed_on']})"
            for c in similar
        )
        details += f", varav ärendets eget värde {kronor(value)} och liknande avtal de senaste tolv månaderna: {named}"
    return blocked(spec, details + ".")


def _threshold_problems(
    params: ThresholdParams, path: str, kinds: Mapping[str, Any], facts: Mapping[str, type]
) -> list[Problem]:
    out = []
    if facts.get(params.attribute) is not int:
        out.append(Problem(f"{path}.attribute", f"”{params.attribute}” är inte en beloppsuppgift"))
    if params.count_similar_when and facts.get(params.count_similar_when) is not bool:
        out.append(
            Problem(
                f"{path}.count_similar_when",
                f"”{params.count_similar_when}” är inte en ja/nej-uppgift",
            )
        )
    return out


CHECKS["value_below_threshold"] = Check(
    gate_value_below_threshold, ThresholdParams, extra=_threshold_problems
)


class MandateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the record made by the signatory; it carries mandate_id/_title/_max_sek
    value_field: str | None = None  # a field of that record; None: the case's estimated value


def gate_mandate_covers_value(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when the signatory's mandate in the delegation order covers the value [§ 5.4.5]."""
    params = cast(MandateParams, spec.parsed_params)
    record = evidence.latest(params.kind)
    if record is None:
        return blocked(spec)
    value = (
        record.data.get(params.value_field)
        if params.value_field
        else case.attributes.get("estimated_value_sek")
    )
    mandate_max = record.data.get("mandate_max_sek") or 0
    if not record.data.get("mandate_id"):
        return blocked(spec, f"{record.recorded_by} har inget mandat i delegationsordningen.")
    if not isinstance(value, int) or mandate_max < value:
        return blocked(
            spec,
            f"{record.recorded_by} har mandatet ”{record.data.get('mandate_title')}” som gäller "
            f"upp till {kronor(int(mandate_max))}; värdet är {kronor(int(value or 0))}.",
        )
    return passed(spec)


CHECKS["mandate_covers_value"] = Check(
    gate_mandate_covers_value, MandateParams, "kind", field_params=(("value_field", "kind"),)
)


class AmendmentParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the amendment: value_sek, legal_ground
    contract_kind: str  # the registered contract: value_sek
    share_limit_percent: int = Field(default=10, ge=1, le=100)
    eu_thresholds: list[Threshold] = Field(min_length=1)
    no_other_ground: str = "ingen"


def gate_amendment_within_limits(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when a change is below both the EU threshold and the share of the contract value
    [LOU 17 kap. 9 §], or another legal ground is recorded [17 kap. 10–14 §§]."""
    params = cast(AmendmentParams, spec.parsed_params)
    amendment = evidence.latest(params.kind)
    if amendment is None:
        return blocked(spec)
    if amendment.data.get("legal_ground", params.no_other_ground) != params.no_other_ground:
        return passed(spec)
    contract = evidence.latest(params.contract_kind)
    contract_value = int(
        contract.data["value_sek"] if contract else case.attributes.get("estimated_value_sek", 0)
    )
    value = int(amendment.data["value_sek"])
    eu = threshold_on(params.eu_thresholds, today)
    limit_share = contract_value * params.share_limit_percent / 100
    problems = []
    if value >= limit_share:
        problems.append(
            f"ändringen ({kronor(value)}) är minst {params.share_limit_percent} % av avtalets "
            f"värde ({kronor(contract_value)})"
        )
    if eu is not None and value >= eu.amount_sek:
        problems.append(f"ändringen är minst EU:s tröskelvärde ({kronor(eu.amount_sek)})")
    if problems:
        return blocked(spec, "Stopp: " + " och ".join(problems) + ". Ange annan rättslig grund.")
    return passed(spec)


CHECKS["amendment_within_limits"] = Check(
    gate_amendment_within_limits, AmendmentParams, "kind", kind_params=("contract_kind",)
)


class SanctionsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the declaration: parties [{name, identifier, relation, share_percent, declaration}]
    share_limit_percent: int = Field(default=10, ge=0, le=100)
    supplier_relation: str = "leverantor"


def gate_sanctions_clear(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when the winning supplier and every party above the share limit have declared, and
    none is on the current sanctions list [§ 10.11; EU reg. 833/2014 art. 5k]. The use-case layer
    screens the named parties and puts the result in the context as `sanctions`."""
    params = cast(SanctionsParams, spec.parsed_params)
    record = evidence.latest(params.kind)
    if record is None:
        return blocked(spec, "Ingen sanktionsförsäkran är registrerad.")
    screening = case.context.get("sanctions") or {}
    if not screening.get("list_date"):
        return blocked(spec, "Ingen sanktionslista är inläst, så parterna kan inte kontrolleras.")
    hits = {h["party"]: h for h in screening.get("hits", [])}
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
                f"daterad {screening['list_date']} som ”{hit['listed_name']}”"
            )
    if problems:
        return blocked(spec, "Stopp: " + "; ".join(problems) + ".")
    return passed(spec)


CHECKS["sanctions_clear"] = Check(gate_sanctions_clear, SanctionsParams, "kind")


class SuppliersParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kinds: list[str]  # records naming the contracted supplier
    field: str = "supplier"
    declaration_kind: str | None = None  # its parties are screened too


def gate_suppliers_not_sanctioned(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """For contracts already signed: blocks when the supplier, or a declared party, is on the
    current sanctions list [§ 10.11: existing contracts with them may not be performed]. The
    use-case layer screens every named supplier and party and puts the result in the context
    as `supplier_sanctions`. With no list loaded there is nothing to find."""
    params = cast(SuppliersParams, spec.parsed_params)
    names = {
        str(record.data[params.field])
        for kind in params.kinds
        if (record := evidence.latest(kind)) is not None and record.data.get(params.field)
    }
    declaration = evidence.latest(params.declaration_kind) if params.declaration_kind else None
    if declaration is not None:
        names |= {str(p["name"]) for p in declaration.data.get("parties", [])}
    screening = case.context.get("supplier_sanctions") or {}
    hits = [h for h in screening.get("hits", []) if h["party"] in names]
    if not hits:
        return passed(spec)
    listed = "; ".join(
        f"{h['party']} finns på sanktionslistan daterad {screening['list_date']} som "
        f"”{h['listed_name']}”" + (f" ({h['reference']})" if h.get("reference") else "")
        for h in hits
    )
    return blocked(spec, f"Träff: {listed}.")


CHECKS["suppliers_not_sanctioned"] = Check(
    gate_suppliers_not_sanctioned,
    SuppliersParams,
    kind_params=("declaration_kind",),
    extra=lambda parsed, path, kinds, facts: (
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
    ),
)
