"""Checks of the acceptance test [§ 5.4.5, § 9.2.5, § 10.6.2]: the requirement list in force,
what a re-imported list changes, test rounds that name only known requirements, the latest
round with every skakrav passed, and the objektledare's sign-off after the last failed round.

The requirement list in force: before the first test round the latest imported list is the
list (a wrong import may be corrected); once testing has started every list counts, and a
skakrav stays one, so a later list can add requirements, raise a börkrav or correct a text,
never take a requirement away.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from upphandla.states.case import CaseSnapshot, Evidence, EvidenceRecord
from upphandla.states.clock import local_date
from upphandla.states.definition import GateSpec
from upphandla.states.gates import Check, GateResult, blocked, passed

ACCEPTANCE_CHECK = "acceptance_passed"


class AcceptanceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the requirement list: requirements [{id, text, level: ska|bor}]
    round_kind: str  # a test round: results [{id, result: godkand|underkand|ej_testad}]
    mandatory_level: str = "ska"
    passed_result: str = "godkand"
    untested_result: str = "ej_testad"


@dataclass(frozen=True, slots=True)
class Requirement:
    id: str
    text: str
    level: str


def _listed(record: EvidenceRecord) -> list[Requirement]:
    return [
        Requirement(str(r["id"]), str(r.get("text", "")), str(r.get("level", "")))
        for r in record.data.get("requirements", [])
    ]


def requirements_in_force(
    records: Iterable[EvidenceRecord], params: AcceptanceParams
) -> dict[str, Requirement]:
    """The requirements to test, by id, in the order first listed. Before the first round a
    new list replaces the old; after it a new list only adds, raises and rewords."""
    in_force: dict[str, Requirement] = {}
    testing = False
    for record in records:
        if record.kind == params.round_kind:
            testing = True
        elif record.kind == params.kind:
            listed = _listed(record)
            if not testing:
                in_force = {r.id: r for r in listed}
                continue
            for req in listed:
                old = in_force.get(req.id)
                if old is not None and old.level == params.mandatory_level:
                    req = Requirement(req.id, req.text, old.level)  # a skakrav stays one
                in_force[req.id] = req
    return in_force


@dataclass(frozen=True, slots=True)
class RequirementChanges:
    """What a new requirement list changes against the list in force."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    raised: tuple[str, ...] = ()  # börkrav made skakrav
    lowered: tuple[str, ...] = ()  # skakrav made börkrav
    reworded: tuple[str, ...] = ()  # the text changed

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.raised or self.lowered or self.reworded)

    @property
    def waives(self) -> tuple[str, ...]:
        """The requirements the new list would take away or make optional."""
        return self.removed + self.lowered

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "raised": list(self.raised),
            "lowered": list(self.lowered),
            "reworded": list(self.reworded),
        }

    def describe(self) -> str:
        """In Swedish, e.g. "tillagda krav: K4; skakrav som blir börkrav: K2"."""
        parts = [
            (self.added, "tillagda krav"),
            (self.removed, "borttagna krav"),
            (self.raised, "börkrav som blir skakrav"),
            (self.lowered, "skakrav som blir börkrav"),
            (self.reworded, "ändrad kravtext"),
        ]
        text = "; ".join(f"{label}: {', '.join(ids)}" for ids, label in parts if ids)
        return text or "inga ändringar"


def requirement_changes(
    in_force: Mapping[str, Requirement],
    new: Iterable[Mapping[str, Any]],
    mandatory_level: str,
) -> RequirementChanges:
    listed = {str(r["id"]): r for r in new}
    added: list[str] = []
    raised: list[str] = []
    lowered: list[str] = []
    reworded: list[str] = []
    for rid, req in listed.items():
        old = in_force.get(rid)
        if old is None:
            added.append(rid)
            continue
        level = str(req.get("level", ""))
        if old.level != level:
            (lowered if old.level == mandatory_level else raised).append(rid)
        if old.text != str(req.get("text", "")):
            reworded.append(rid)
    removed = [rid for rid in in_force if rid not in listed]
    return RequirementChanges(
        tuple(added), tuple(removed), tuple(raised), tuple(lowered), tuple(reworded)
    )


def list_changes(evidence: Evidence, params: AcceptanceParams) -> RequirementChanges | None:
    """What the latest requirement list changed against the list in force before it; None when
    it is the first list."""
    records = evidence.records
    last = next(
        (i for i in range(len(records) - 1, -1, -1) if records[i].kind == params.kind), None
    )
    if last is None or not any(r.kind == params.kind for r in records[:last]):
        return None
    before = requirements_in_force(records[:last], params)
    return requirement_changes(
        before, records[last].data.get("requirements", []), params.mandatory_level
    )


def _rounds(evidence: Evidence, params: AcceptanceParams) -> list[tuple[int, EvidenceRecord]]:
    """Each test round with its position among the case's records."""
    return [(i, r) for i, r in enumerate(evidence.records) if r.kind == params.round_kind]


def _results(record: EvidenceRecord) -> dict[str, str]:
    return {str(r["id"]): str(r["result"]) for r in record.data.get("results", [])}


def skakrav_not_passed(
    results: Mapping[str, str], in_force: Mapping[str, Requirement], params: AcceptanceParams
) -> list[str]:
    return [
        rid
        for rid, req in in_force.items()
        if req.level == params.mandatory_level and results.get(rid) != params.passed_result
    ]


def gate_acceptance_passed(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when, in the latest test round, every skakrav has passed and every other requirement
    has been tested [§ 5.4.5, § 9.2.5, § 10.6.2]. There is no waiver: the only ways on are a new
    round or ending the contract."""
    params = spec.params_as(AcceptanceParams)
    if evidence.latest(params.kind) is None:
        return blocked(spec, "Kravlistan för acceptanstestet är inte inläst.")
    latest = evidence.latest(params.round_kind)
    if latest is None:
        return blocked(spec, "Ingen testomgång är registrerad.")
    results = _results(latest)
    in_force = requirements_in_force(evidence.records, params)
    failing = skakrav_not_passed(results, in_force, params)
    untested = [
        rid
        for rid, req in in_force.items()
        if req.level != params.mandatory_level
        and results.get(rid) in (None, params.untested_result)
    ]
    rounds = len(_rounds(evidence, params))
    problems = []
    if failing:
        problems.append(
            f"Skakrav som inte är godkända i senaste testomgången (nr {rounds}): "
            f"{', '.join(failing)}. Gör en ny testomgång när leverantören har åtgärdat dem."
        )
    if untested:
        problems.append(
            f"Krav som inte är testade i senaste testomgången (nr {rounds}): {', '.join(untested)}."
        )
    if problems:
        return blocked(spec, *problems)
    return passed(spec)


class RoundParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the test round
    list_kind: str  # the requirement list
    mandatory_level: str = "ska"


def gate_round_names_known_requirements(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when the latest test round names each requirement at most once and only
    requirements of the list in force [§ 5.4.5]. Without a list it passes: the gate that asks
    for the list first says so."""
    params = spec.params_as(RoundParams)
    latest = evidence.latest(params.kind)
    if latest is None or evidence.latest(params.list_kind) is None:
        return passed(spec)
    in_force = requirements_in_force(
        evidence.records, AcceptanceParams(kind=params.list_kind, round_kind=params.kind)
    )
    ids = [str(r["id"]) for r in latest.data.get("results", [])]
    unknown = list(dict.fromkeys(i for i in ids if i not in in_force))
    twice = list(dict.fromkeys(i for i in ids if ids.count(i) > 1))
    problems = []
    if unknown:
        problems.append(f"Kravnummer som inte finns i kravlistan: {', '.join(unknown)}.")
    if twice:
        problems.append(f"Kravnummer som förekommer flera gånger: {', '.join(twice)}.")
    if problems:
        return blocked(spec, *problems)
    return passed(spec)


class ListParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the requirement list
    round_kind: str  # a test round: once one is recorded, testing has started
    mandatory_level: str = "ska"


def gate_requirement_list_kept(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """For a new requirement list (the latest of its kind): once testing has started it may add
    requirements, raise a börkrav to skakrav and correct texts, but not remove a requirement nor
    lower a skakrav [§ 5.4.5, § 9.2.5, § 10.6.2]. It passes with a note of what it changed."""
    params = spec.params_as(ListParams)
    acceptance = AcceptanceParams(
        kind=params.kind, round_kind=params.round_kind, mandatory_level=params.mandatory_level
    )
    latest = evidence.latest(params.kind)
    ids = [str(r["id"]) for r in latest.data.get("requirements", [])] if latest else []
    twice = list(dict.fromkeys(i for i in ids if ids.count(i) > 1))
    if twice:
        return blocked(spec, f"Kravnummer som förekommer flera gånger: {', '.join(twice)}.")
    changes = list_changes(evidence, acceptance)
    if changes is None:
        return passed(spec)
    note = f"Ändringar mot gällande kravlista: {changes.describe()}."
    last = max(i for i, r in enumerate(evidence.records) if r.kind == params.kind)
    rounds = sum(1 for r in evidence.records[:last] if r.kind == params.round_kind)
    if rounds and changes.waives:
        waived = []
        if changes.removed:
            waived.append(f"ta bort {', '.join(changes.removed)}")
        if changes.lowered:
            waived.append(f"göra skakraven {', '.join(changes.lowered)} till börkrav")
        return blocked(
            spec,
            f"Testningen har börjat ({rounds} testomgång{'ar' if rounds > 1 else ''} "
            f"registrerad{'e' if rounds > 1 else ''}) och den nya listan skulle "
            f"{' och '.join(waived)}.",
            note,
        )
    return passed(spec, notes=(note,))


class SignoffParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the sign-off
    list_kind: str  # the requirement list
    round_kind: str  # a test round
    mandatory_level: str = "ska"
    passed_result: str = "godkand"


def gate_signoff_after_failed_round(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when a sign-off is recorded after the latest test round in which a skakrav did not
    pass: a sign-off given before a round found the delivery lacking no longer counts
    [§ 9.2.5]."""
    params = spec.params_as(SignoffParams)
    acceptance = AcceptanceParams(
        kind=params.list_kind,
        round_kind=params.round_kind,
        mandatory_level=params.mandatory_level,
        passed_result=params.passed_result,
    )
    signoffs = [i for i, r in enumerate(evidence.records) if r.kind == params.kind]
    if not signoffs:
        return blocked(spec)
    in_force = requirements_in_force(evidence.records, acceptance)
    failed = [
        (number, i, failing)
        for number, (i, r) in enumerate(_rounds(evidence, acceptance), start=1)
        if (failing := skakrav_not_passed(_results(r), in_force, acceptance))
    ]
    if not failed or signoffs[-1] > failed[-1][1]:
        return passed(spec)
    number, _, failing = failed[-1]
    signed = local_date(evidence.records[signoffs[-1]].recorded_at).isoformat()
    return blocked(
        spec,
        f"Godkännandet registrerades {signed}, före testomgång nr {number} där skakrav inte "
        f"godkändes ({', '.join(failing)}); det gäller inte längre och behöver göras om efter "
        "den testomgången.",
    )


ACCEPTANCE_CHECKS = {
    ACCEPTANCE_CHECK: Check(
        gate_acceptance_passed, AcceptanceParams, "kind", kind_params=("round_kind",)
    ),
    "round_names_known_requirements": Check(
        gate_round_names_known_requirements, RoundParams, "kind", kind_params=("list_kind",)
    ),
    "requirement_list_kept": Check(
        gate_requirement_list_kept, ListParams, "kind", kind_params=("round_kind",)
    ),
    "signoff_after_failed_round": Check(
        gate_signoff_after_failed_round,
        SignoffParams,
        "kind",
        kind_params=("list_kind", "round_kind"),
    ),
}
