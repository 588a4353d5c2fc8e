"""Checks about money and who may commit it: thresholds (effective-dated, with similar contracts
counted), a signatory's mandate, and the size of a contract amendment."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.definition import GateSpec
from upphandla.states.gates import Check, GateResult, blocked, passed
from upphandla.states.lookups import SimilarContract, SimilarContracts
from upphandla.states.money import kronor
from upphandla.states.validation import Problem


class Threshold(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    effective_from: date = Field(alias="from")
    amount_sek: int = Field(ge=0)


def threshold_on(thresholds: list[Threshold], day: date) -> Threshold | None:
    """The entry in force on `day`: the latest whose effective date has come."""
    in_force = [t for t in thresholds if t.effective_from <= day]
    return max(in_force, key=lambda t: t.effective_from) if in_force else None


class ThresholdParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    attribute: str = "estimated_value_sek"
    thresholds: list[Threshold] = Field(min_length=1)
    # For recurring purchases, similar contracts of the last twelve months count too
    # [LOU 5 kap. 11 §, applied to direct awards by 19 a kap. 1 §]: contracts of other cases on
    # the same route and subcategory, signed as recorded by `similar_kind` (value_sek,
    # signed_on) in the twelve months before the day of the check.
    count_similar_when: str | None = None  # name of a bool attribute, e.g. "recurring"
    similar_kind: str | None = None


def similar_contracts_lookup(
    spec: GateSpec, case: CaseSnapshot, evidence: Evidence, today: date
) -> SimilarContracts | None:
    params = spec.params_as(ThresholdParams)
    wanted = params.count_similar_when
    if not wanted or case.attributes.get(wanted) is not True or params.similar_kind is None:
        return None
    return SimilarContracts(
        subcategory=str(case.attributes["subcategory"]),
        route=str(case.attributes["route"]),
        signed_kind=params.similar_kind,
        since=today - timedelta(days=365),
        until=today,
        exclude_case_id=case.id,
    )


def gate_value_below_threshold(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when the value counted is below the threshold in force today (effective-dated)."""
    params = spec.params_as(ThresholdParams)
    threshold = threshold_on(params.thresholds, today)
    value = case.attributes.get(params.attribute)
    if threshold is None or not isinstance(value, int):
        return blocked(spec, "Inget tröskelvärde gäller för dagens datum.")
    lookup = similar_contracts_lookup(spec, case, evidence, today)
    similar: tuple[SimilarContract, ...] = case.found(lookup) if lookup else ()
    counted = value + sum(c.value_sek for c in similar)
    if counted < threshold.amount_sek:
        return passed(spec)
    details = (
        f"Tröskelvärdet är {kronor(threshold.amount_sek)} (gäller från "
        f"{threshold.effective_from.isoformat()}); värdet som räknas är {kronor(counted)}"
    )
    if similar:
        named = "; ".join(
            f"ärende {c.case_id} ”{c.title}” ({c.organisation}, {kronor(c.value_sek)}, "
            f"tecknat {c.signed_on})"
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
    if params.count_similar_when and params.similar_kind is None:
        out.append(
            Problem(f"{path}.similar_kind", "ange underlaget som registrerar ett tecknat avtal")
        )
    if params.similar_kind is not None:
        kind = kinds.get(params.similar_kind)
        if kind is None:
            out.append(Problem(f"{path}.similar_kind", f"okänt underlag ”{params.similar_kind}”"))
        elif not {"value_sek", "signed_on"} <= {f.name for f in kind.fields}:
            out.append(
                Problem(
                    f"{path}.similar_kind",
                    f"”{params.similar_kind}” saknar fälten value_sek och signed_on",
                )
            )
    return out


class MandateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the record made by the signatory; it carries mandate_id/_title/_max_sek
    value_field: str | None = None  # a field of that record; None: the case's estimated value


def gate_mandate_covers_value(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when the signatory's mandate in the delegation order covers the value [§ 5.4.5]."""
    params = spec.params_as(MandateParams)
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
    params = spec.params_as(AmendmentParams)
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


MONEY_CHECKS = {
    "value_below_threshold": Check(
        gate_value_below_threshold,
        ThresholdParams,
        extra=_threshold_problems,
        lookup=similar_contracts_lookup,
    ),
    "mandate_covers_value": Check(
        gate_mandate_covers_value, MandateParams, "kind", field_params=(("value_field", "kind"),)
    ),
    "amendment_within_limits": Check(
        gate_amendment_within_limits, AmendmentParams, "kind", kind_params=("contract_kind",)
    ),
}
