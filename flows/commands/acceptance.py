"""Acceptance testing: importing the requirement list (CSV or JSON) as evidence of the case."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from upphandla.flows.access import check_may
from upphandla.flows.commands.cases import RecordedEvidence, RecordEvidence, record_evidence
from upphandla.flows.csv_rows import CsvError, csv_rows
from upphandla.flows.registry import Registry
from upphandla.states.checks_acceptance import (
    ACCEPTANCE_CHECK,
    AcceptanceParams,
    RequirementChanges,
    requirement_changes,
    requirements_in_force,
)
from upphandla.states.definition import gates_using
from upphandla.states.errors import Conflict, EvidenceRefused, Invalid
from upphandla.states.roles import Actor
from upphandla.states.validation import Problem
from upphandla.store.uow import UnitOfWork

LEVELS = {"ska": "ska", "skakrav": "ska", "bör": "bor", "bor": "bor", "börkrav": "bor"}
COLUMNS = ("id", "text", "level")


def _invalid(kind: str, *problems: Problem) -> Invalid:
    return Invalid("evidence_invalid", list(problems), kind=kind)


def parse_requirements_csv(text: str, *, kind: str) -> list[dict[str, str]]:
    """Rows `id, text, level` (ska/bör); `;` or `,` between fields; a header line first."""
    try:
        header, rows = csv_rows(text)
        names = [h.strip().lower() for h in header.fields]
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise _invalid(kind, Problem("rad 1", f"kolumn saknas: {', '.join(missing)}"))
        index = {c: names.index(c) for c in COLUMNS}
        out: list[dict[str, str]] = []
        problems: list[Problem] = []
        for row in rows:
            values = {c: row.fields[i].strip() for c, i in index.items()}
            level = LEVELS.get(values["level"].lower())
            if not values["id"] or not values["text"] or level is None:
                problems.append(
                    Problem(f"rad {row.line}", "id, text och level (ska eller bör) krävs")
                )
                continue
            out.append({"id": values["id"], "text": values["text"], "level": level})
    except CsvError as exc:
        raise _invalid(kind, Problem(f"rad {exc.line}", exc.message)) from None
    if problems:
        raise _invalid(kind, *problems)
    return out


@dataclass(frozen=True)
class ImportedRequirements:
    recorded: RecordedEvidence
    changes: RequirementChanges | None  # against the list in force; None for the first list


@dataclass(frozen=True, kw_only=True)
class ImportRequirements:
    """Record the requirement list to test against; a CSV text is parsed first. Says what the
    list changes against the one in force; once testing has started the definition's gates
    refuse a list that would remove a requirement or lower a skakrav, naming what it would
    change."""

    actor: Actor
    case_id: int
    requirements: list[dict[str, Any]] | str
    request_id: str | None = None

    def handle(self, uow: UnitOfWork, registry: Registry) -> ImportedRequirements:
        check_may(uow, registry, self.actor, self.case_id, "record")
        params = _acceptance_params(uow, registry, self.case_id)
        kind = params.kind
        rows = (
            parse_requirements_csv(self.requirements, kind=kind)
            if isinstance(self.requirements, str)
            else self.requirements
        )
        ids = [r.get("id") for r in rows if isinstance(r, dict)]
        dupes = sorted({str(i) for i in ids if ids.count(i) > 1 and i is not None})
        if dupes:
            raise _invalid(kind, Problem("requirements", f"dubbla kravnummer: {', '.join(dupes)}"))
        command = RecordEvidence(
            actor=self.actor,
            case_id=self.case_id,
            kind=kind,
            data={"requirements": rows},
            request_id=self.request_id,
        )
        _, records = uow.cases.get_for_change(self.case_id)
        before = [r for r in records if r.kind == kind]
        in_force = requirements_in_force(records, params)

        def changes(new: Any) -> RequirementChanges | None:
            return requirement_changes(in_force, new, params.mandatory_level) if before else None

        try:
            recorded = record_evidence(uow, command, registry)
        except EvidenceRefused as exc:
            found = changes(rows)
            raise exc.with_details(changes=found.as_dict() if found else None) from None
        return ImportedRequirements(recorded, changes(recorded.evidence.data["requirements"]))


def _acceptance_params(uow: UnitOfWork, registry: Registry, case_id: int) -> AcceptanceParams:
    """The parameters of the case definition's acceptance gate: the evidence kind it keeps its
    requirement list in, its test rounds and the skakrav level."""
    case = uow.cases.get(case_id)
    definition, _ = registry.get(uow, case.definition_key, case.definition_version)
    gates = gates_using(definition, ACCEPTANCE_CHECK)
    if not gates:
        raise Conflict("no_acceptance_test", key=definition.key, version=definition.version)
    return gates[0].params_as(AcceptanceParams)
