"""Acceptance testing: importing the requirement list (CSV or JSON) as evidence of the case."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from upphandla.flows.commands.cases import RecordedEvidence, RecordEvidence, record_evidence
from upphandla.flows.csv_rows import CsvError, csv_rows
from upphandla.flows.registry import Registry
from upphandla.states.checks_lists import ACCEPTANCE_CHECK, AcceptanceParams
from upphandla.states.definition import gates_using
from upphandla.states.errors import Conflict, Invalid
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


@dataclass(frozen=True, kw_only=True)
class ImportRequirements:
    """Record the requirement list to test against; a CSV text is parsed first."""

    actor: Actor
    case_id: int
    requirements: list[dict[str, Any]] | str
    request_id: str | None = None

    def handle(self, uow: UnitOfWork, registry: Registry) -> RecordedEvidence:
        kind = _requirements_kind(uow, registry, self.case_id)
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
        return record_evidence(uow, command, registry)


def _requirements_kind(uow: UnitOfWork, registry: Registry, case_id: int) -> str:
    """The evidence kind the case's definition keeps its acceptance requirement list in: the
    one its acceptance gate reads."""
    case = uow.cases.get(case_id)
    definition, _ = registry.get(uow, case.definition_key, case.definition_version)
    gates = gates_using(definition, ACCEPTANCE_CHECK)
    if not gates:
        raise Conflict("no_acceptance_test", key=definition.key, version=definition.version)
    return gates[0].params_as(AcceptanceParams).kind
