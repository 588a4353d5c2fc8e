"""Acceptance testing: importing the requirement list (CSV or JSON) as evidence of the case."""

from __future__ import annotations

import csv
import io
from typing import Any

from upphandla.flows.commands.cases import RecordedEvidence, record_evidence
from upphandla.flows.registry import Registry
from upphandla.states.errors import Invalid
from upphandla.states.roles import Actor
from upphandla.states.validation import Problem
from upphandla.store.uow import UnitOfWork

REQUIREMENTS_KIND = "acceptance_requirements"
LEVELS = {"ska": "ska", "skakrav": "ska", "bör": "bor", "bor": "bor", "börkrav": "bor"}


def parse_requirements_csv(text: str) -> list[dict[str, str]]:
    """Rows `id, text, level` (ska/bör); `;` or `,` between fields; a header line first."""
    text = text.lstrip("\ufeff")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in ("id", "text", "level") if c not in header]
    if missing:
        raise Invalid(
            "evidence_invalid",
            [Problem("rad 1", f"kolumn saknas: {', '.join(missing)}")],
            kind=REQUIREMENTS_KIND,
        )
    out: list[dict[str, str]] = []
    problems: list[Problem] = []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        level = LEVELS.get(row.get("level", "").lower())
        if not row.get("id") or not row.get("text") or level is None:
            problems.append(Problem(f"rad {line}", "id, text och level (ska eller bör) krävs"))
            continue
        out.append({"id": row["id"], "text": row["text"], "level": level})
    if problems:
        raise Invalid("evidence_invalid", problems, kind=REQUIREMENTS_KIND)
    return out


def import_requirements(
    uow: UnitOfWork,
    *,
    registry: Registry,
    actor: Actor,
    case_id: int,
    requirements: list[dict[str, Any]] | str,
    request_id: str | None = None,
) -> RecordedEvidence:
    """Record the requirement list to test against; a CSV text is parsed first."""
    rows = parse_requirements_csv(requirements) if isinstance(requirements, str) else requirements
    ids = [r.get("id") for r in rows if isinstance(r, dict)]
    dupes = sorted({i for i in ids if ids.count(i) > 1 and i is not None})
    if dupes:
        raise Invalid(
            "evidence_invalid",
            [Problem("requirements", f"dubbla kravnummer: {', '.join(map(str, dupes))}")],
            kind=REQUIREMENTS_KIND,
        )
    return record_evidence(
        uow,
        registry=registry,
        actor=actor,
        case_id=case_id,
        kind=REQUIREMENTS_KIND,
        data={"requirements": rows},
        request_id=request_id,
    )
