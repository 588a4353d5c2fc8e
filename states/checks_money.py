"""Checks about money and who may commit it, each on the case's own recorded values by step
(states.values): the direct-award threshold (effective-dated, with similar contracts of
recurring purchases counted), a signatory's mandate, the limits of contract amendments, and the
reason a corrected value needs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.definition import GateSpec
from upphandla.states.gates import Check, GateResult, blocked, not_applicable, passed
from upphandla.states.lookups import Lookup, LookupSet, SimilarContract, SimilarContracts
from upphandla.states.money import kronor
from upphandla.states.thresholds import InForce, ThresholdSeries, in_force
from upphandla.states.validation import Problem
from upphandla.states.values import (
    CaseValue,
    ValueFact,
    changes_of,
    recorded_values,
    value_before,
    value_of_step,
    value_problems,
    with_changes,
)


def _notes(found: InForce | None) -> tuple[str, ...]:
    """What a check says when it decides on an amount whose period has ended."""
    note = found.note() if found is not None else None
    return (note,) if note else ()


def _threshold(case: CaseSnapshot, series: str, today: date) -> InForce | None:
    return in_force(case.found(ThresholdSeries(series)), today)


def _no_threshold(series: str, today: date) -> str:
    return f"Inget belopp i tröskelvärdesserien ”{series}” gäller {today.isoformat()}."


def _negative(values: tuple[CaseValue, ...]) -> str | None:
    wrong = [v.describe() for v in values if v.amount < 0]
    return f"Ett värde kan inte vara negativt: {', '.join(wrong)}." if wrong else None


# -- the direct-award threshold -------------------------------------------------------------------
class ThresholdParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    series: str  # the threshold series (states.thresholds), e.g. "direct_award"
    values: list[ValueFact] = Field(min_length=1)  # the case's values, latest step first
    # Where the check applies (e.g. a contract registered in the award phases, not one imported
    # into förvaltning); None: wherever its gate is.
    phases: list[str] | None = None
    # For recurring purchases the value of similar contracts counts too [LOU 5 kap. 11 §,
    # applied to direct awards by 19 a kap. 1 §: the similar contracts of the twelve months
    # before, or those to be awarded in the twelve months after]: other cases on the same route
    # and subcategory signed (`similar_kind`: signed_on) in the twelve months before the day of
    # the check, and those started and not signed yet (in one of `in_progress_phases`), none
    # cancelled (in one of `cancelled_phases`), each with its value of the step by `values`.
    count_similar_when: str | None = None  # name of a bool attribute, e.g. "recurring"
    similar_kind: str | None = None
    in_progress_phases: list[str] = []
    cancelled_phases: list[str] = []


def _similar(params: ThresholdParams, case: CaseSnapshot, today: date) -> SimilarContracts | None:
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
        values=tuple(params.values),
        in_progress_phases=tuple(params.in_progress_phases),
        cancelled_phases=tuple(params.cancelled_phases),
    )


def threshold_lookup(
    spec: GateSpec, case: CaseSnapshot, evidence: Evidence, today: date
) -> Lookup | None:
    """The threshold series, and for a recurring purchase the similar contracts."""
    params = spec.params_as(ThresholdParams)
    if params.phases is not None and case.state not in params.phases:
        return None
    series = ThresholdSeries(params.series)
    similar = _similar(params, case, today)
    return series if similar is None else LookupSet((series, similar))


def _named(c: SimilarContract) -> str:
    value = f"{c.value_title} {kronor(c.value_sek)}" if c.value_title else kronor(c.value_sek)
    when = f"tecknat {c.signed_on}" if c.signed_on else "pågår, inte tecknat"
    title = f" ”{c.title}”" if c.title else ""
    return f"ärende {c.case_id}{title} ({c.organisation}, {value}, {when})"


def gate_value_below_threshold(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when every value the case has recorded is below the threshold in force today, and
    for a recurring purchase its value of the step with those of similar contracts too."""
    params = spec.params_as(ThresholdParams)
    if params.phases is not None and case.state not in params.phases:
        return not_applicable(spec)
    threshold = _threshold(case, params.series, today)
    if threshold is None:
        return blocked(spec, _no_threshold(params.series, today))
    notes = _notes(threshold)
    recorded = recorded_values(params.values, case.facts(evidence))
    if not recorded:
        return blocked(spec, "Ärendet har inget registrerat värde.", notes=notes)
    negative = _negative(recorded)
    if negative:
        return blocked(spec, negative, notes=notes)
    limit = threshold.amount_sek
    over = [v for v in recorded if v.amount >= limit]
    lookup = _similar(params, case, today)
    similar: tuple[SimilarContract, ...] = case.found(lookup) if lookup else ()
    own = recorded[0]
    counted = own.amount + sum(c.value_sek for c in similar)
    if not over and counted < limit:
        return passed(spec, notes=notes)
    details = [
        f"Tröskelvärdet är {threshold.describe()}.",
        f"Ärendets registrerade värden: {', '.join(v.describe() for v in recorded)}.",
    ]
    if over:
        details.append(f"{' och '.join(v.title for v in over)} når tröskelvärdet.")
    if similar and counted >= limit:
        details.append(
            f"För ett återkommande köp är värdet som räknas {kronor(counted)}: ärendets "
            f"{own.describe()} och liknande avtal i hela kommunen, tecknade de senaste tolv "
            f"månaderna eller pågående: {'; '.join(_named(c) for c in similar)}."
        )
    return blocked(spec, *details, notes=notes)


def _threshold_problems(
    params: ThresholdParams, path: str, kinds: Mapping[str, Any], facts: Mapping[str, type]
) -> list[Problem]:
    out = value_problems(params.values, f"{path}.values", facts)
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
        elif not any(f.name == "signed_on" and f.type == "date" for f in kind.fields):
            out.append(
                Problem(
                    f"{path}.similar_kind", f"”{params.similar_kind}” saknar datumfältet signed_on"
                )
            )
    return out


# -- a signatory's mandate --------------------------------------------------------------------
class MandateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the signatory's record; the use case stores mandate_id/_title/_max_sek with it
    values: list[ValueFact] = Field(min_length=1)  # the case's values, latest step first
    # An amendment is signed for the contract as changed: its value before the first
    # `amendment_kind` record plus every amendment's `amendment_field`.
    amendment_kind: str | None = None
    amendment_field: str = "value_sek"


def _value_for_mandate(
    params: MandateParams, case: CaseSnapshot, evidence: Evidence
) -> CaseValue | None:
    if params.amendment_kind is None:
        return value_of_step(params.values, case.facts(evidence))
    return with_changes(
        params.values,
        evidence.records,
        case.attributes,
        params.amendment_kind,
        params.amendment_field,
    )


def gate_mandate_covers_value(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when the signatory's mandate in the delegation order covers the case's value of the
    step [§ 5.4.5]: the value the case recorded, never a value the signatory gives."""
    params = spec.params_as(MandateParams)
    record = evidence.latest(params.kind)
    if record is None:
        return blocked(spec)
    if not record.data.get("mandate_id"):
        return blocked(spec, f"{record.recorded_by} har inget mandat i delegationsordningen.")
    value = _value_for_mandate(params, case, evidence)
    if value is None:
        return blocked(spec, "Ärendet har inget registrerat värde att jämföra mandatet med.")
    mandate_max = int(record.data.get("mandate_max_sek") or 0)
    if value.amount < 0 or mandate_max < value.amount:
        return blocked(
            spec,
            f"{record.recorded_by} har mandatet ”{record.data.get('mandate_title')}” som gäller "
            f"upp till {kronor(mandate_max)}; värdet som räknas är {value.describe()}.",
        )
    return passed(spec)


def _mandate_problems(
    params: MandateParams, path: str, kinds: Mapping[str, Any], facts: Mapping[str, type]
) -> list[Problem]:
    out = value_problems(params.values, f"{path}.values", facts)
    kind = kinds.get(params.kind)
    if kind is not None and not kind.records_mandate:
        out.append(Problem(f"{path}.kind", f"”{params.kind}” sparar inte registrerarens mandat"))
    if params.amendment_kind is not None:
        fact = f"{params.amendment_kind}.{params.amendment_field}"
        if facts.get(fact) is not int:
            out.append(Problem(f"{path}.amendment_field", f"”{fact}” är inte en beloppsuppgift"))
    return out


# -- contract amendments ----------------------------------------------------------------------
class AmendmentParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the amendment: value_sek (net change), legal_ground, legal_ground_reason
    values: list[ValueFact] = Field(min_length=1)  # the contract's values, latest step first
    series: str  # the EU threshold [LOU 17 kap. 9 § första stycket 1, 5 kap. 1 §]
    share_limit_percent: int = Field(default=10, ge=1, le=100)
    no_other_ground: str = "ingen"
    reason_field: str = "legal_ground_reason"
    # The highest increase one change may make under a ground, in per cent of the contract's
    # original value, applied to each change by itself [LOU 17 kap. 11 §, 12 §].
    cap_percent: dict[str, int] = {}


def amendment_lookup(
    spec: GateSpec, case: CaseSnapshot, evidence: Evidence, today: date
) -> Lookup | None:
    return ThresholdSeries(spec.params_as(AmendmentParams).series)


def _ground(choice: str) -> str:
    """ "17_kap_12" as a reader writes it: "LOU 17 kap. 12 §"."""
    found = re.fullmatch(r"(\d+)_kap_(\d+)", choice)
    return f"LOU {found[1]} kap. {found[2]} §" if found else f"”{choice}”"


def gate_amendment_within_limits(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when the net total of the changes made without another ground stays below both the
    EU threshold and the share of the contract's original value [LOU 17 kap. 9 §], or when the
    change names another ground with its justification [17 kap. 10–14 §§] and stays within that
    ground's cap per change [17 kap. 11 §, 12 §]."""
    params = spec.params_as(AmendmentParams)
    amendment = evidence.latest(params.kind)
    if amendment is None:
        return blocked(spec)
    base = value_before(params.values, evidence.records, case.attributes, params.kind)
    if base is None:
        return blocked(spec, "Avtalet har inget registrerat värde att jämföra ändringen med.")
    original = f"avtalets ursprungliga värde ({base.describe()})"
    value = int(amendment.data["value_sek"])
    ground = str(amendment.data.get("legal_ground", params.no_other_ground))
    if ground != params.no_other_ground:
        if not amendment.data.get(params.reason_field):
            return blocked(
                spec,
                f"Ändringen stöds på {_ground(ground)} men saknar motivering; ange varför "
                "grunden är uppfylld.",
            )
        cap = params.cap_percent.get(ground)
        if cap is not None and value * 100 > base.amount * cap:
            return blocked(
                spec,
                f"Ändringen ({kronor(value)}) är mer än {cap} % av {original}; enligt "
                f"{_ground(ground)} gäller gränsen för varje ändring för sig.",
            )
        return passed(spec)
    eu = _threshold(case, params.series, today)
    if eu is None:
        return blocked(spec, _no_threshold(params.series, today))
    changes = [
        r
        for r in evidence.records
        if r.kind == params.kind
        and r.data.get("legal_ground", params.no_other_ground) == params.no_other_ground
    ]
    values = changes_of(changes, params.kind, "value_sek")
    total = sum(values)
    problems = []
    if abs(total) * 100 >= base.amount * params.share_limit_percent:
        problems.append(f"minst {params.share_limit_percent} % av {original}")
    if abs(total) >= eu.amount_sek:
        problems.append(f"minst EU:s tröskelvärde {eu.describe()}")
    if problems:
        counted = (
            f"ändringen ({kronor(value)})"
            if len(values) == 1
            else f"ändringarna utan annan grund, netto {kronor(total)} "
            f"({len(values)} ändringar: {', '.join(kronor(v) for v in values)})"
        )
        return blocked(
            spec,
            f"Stopp: {counted} är " + " och ".join(problems) + ". Ange annan rättslig grund.",
            notes=_notes(eu),
        )
    return passed(spec, notes=_notes(eu))


def _amendment_problems(
    params: AmendmentParams, path: str, kinds: Mapping[str, Any], facts: Mapping[str, type]
) -> list[Problem]:
    out = value_problems(params.values, f"{path}.values", facts)
    kind = kinds.get(params.kind)
    if kind is None:
        return out
    fields = {f.name: f for f in kind.fields}
    for name in ("value_sek", "legal_ground", params.reason_field):
        if name not in fields:
            out.append(Problem(f"{path}.kind", f"”{params.kind}” har inget fält ”{name}”"))
    grounds = (fields["legal_ground"].choices or []) if "legal_ground" in fields else []
    out += [
        Problem(f"{path}.cap_percent.{ground}", f"”{ground}” är inte en rättslig grund")
        for ground in params.cap_percent
        if ground not in grounds
    ]
    return out


# -- corrected values -----------------------------------------------------------------------
class CorrectionParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # a kind whose value a later record of it may change
    field: str = "value_sek"
    reason_field: str = "correction_reason"


def gate_correction_explained(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes unless the latest record of the kind changes the value its previous record gave
    without a reason; the reason stays with the record (and in the audit trail)."""
    params = spec.params_as(CorrectionParams)
    records = [r for r in evidence.records if r.kind == params.kind]
    if len(records) < 2:
        return passed(spec)
    previous, latest = records[-2], records[-1]
    before, after = previous.data.get(params.field), latest.data.get(params.field)
    if before == after or latest.data.get(params.reason_field):
        return passed(spec)

    def shown(value: Any) -> str:
        return kronor(value) if isinstance(value, int) else str(value)

    return blocked(
        spec,
        f"Registrerat värde {shown(before)} ({previous.recorded_by}), nytt värde {shown(after)}; "
        "ange skälet till ändringen.",
    )


MONEY_CHECKS = {
    "value_below_threshold": Check(
        gate_value_below_threshold,
        ThresholdParams,
        extra=_threshold_problems,
        lookup=threshold_lookup,
    ),
    # The amendments are read for the value only: recording one more would not lift the gate
    # (states.remedies), so `amendment_kind` is checked by _mandate_problems, not as a kind_param.
    "mandate_covers_value": Check(
        gate_mandate_covers_value, MandateParams, "kind", extra=_mandate_problems
    ),
    "amendment_within_limits": Check(
        gate_amendment_within_limits,
        AmendmentParams,
        "kind",
        extra=_amendment_problems,
        lookup=amendment_lookup,
    ),
    "correction_explained": Check(
        gate_correction_explained,
        CorrectionParams,
        "kind",
        field_params=(("field", "kind"), ("reason_field", "kind")),
    ),
}
