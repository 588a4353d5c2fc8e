"""Facts from outside a case that its gates need, looked up only when a gate asks for them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.store.models import CaseRow, EvidenceRow

SIGNED_KIND = "contract_signed"  # the record a signatory makes when signing
DECLARATION_KIND = "sanctions_declaration"


class CaseContext(Mapping[str, Any]):
    """A mapping whose values are computed on first access and kept for the unit of work."""

    def __init__(self, providers: dict[str, Callable[[], Any]]):
        self._providers = providers
        self._values: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._values:
            self._values[key] = self._providers[key]()
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._providers)

    def __len__(self) -> int:
        return len(self._providers)


def context_for(
    session: Session,
    *,
    case_id: int,
    attributes: Mapping[str, Any],
    evidence: Evidence,
    today: date,
) -> CaseContext:
    return CaseContext(
        {
            "similar_contracts": lambda: similar_contracts(
                session, case_id=case_id, subcategory=str(attributes["subcategory"]), today=today
            ),
            "sanctions": lambda: sanctions_screening(session, evidence),
            "supplier_sanctions": lambda: supplier_screening(session, evidence),
        }
    )


def similar_contracts(
    session: Session, *, case_id: int, subcategory: str, today: date
) -> list[dict[str, Any]]:
    """Direct awards of the same subcategory signed in the twelve months before today, by any
    organisation: since 2020 the municipality is one contracting authority (§ 10.3)."""
    since = (today - timedelta(days=365)).isoformat()
    rows = session.execute(
        select(CaseRow.id, CaseRow.title, CaseRow.organisation, EvidenceRow.data)
        .join(EvidenceRow, EvidenceRow.case_id == CaseRow.id)
        .where(
            CaseRow.id != case_id,
            CaseRow.subcategory == subcategory,
            CaseRow.route == "direktupphandling",
            EvidenceRow.kind == SIGNED_KIND,
        )
        .order_by(CaseRow.id, EvidenceRow.id)
    )
    latest: dict[int, dict[str, Any]] = {}
    for cid, title, organisation, data in rows:
        latest[cid] = {
            "case_id": cid,
            "title": title,
            "organisation": organisation,
            "value_sek": int(data["value_sek"]),
            "signed_on": data["signed_on"],
        }
    return [c for c in latest.values() if since <= c["signed_on"] <= today.isoformat()]


def sanctions_screening(session: Session, evidence: Evidence) -> dict[str, Any]:
    """The parties of the latest declaration, screened against the current sanctions list."""
    record = evidence.latest(DECLARATION_KIND)
    parties = list(record.data.get("parties", [])) if record else []
    return _screening(session, [p["name"] for p in parties], [p.get("identifier") for p in parties])


def supplier_screening(session: Session, evidence: Evidence) -> dict[str, Any]:
    """Every supplier named in the case's latest records, and the parties of its latest
    declaration, screened against the current sanctions list."""
    names: dict[str, str | None] = {}
    for record in evidence.latest_of_each():
        supplier = record.data.get("supplier")
        if isinstance(supplier, str) and supplier:
            names.setdefault(supplier, None)
    declaration = evidence.latest(DECLARATION_KIND)
    for party in declaration.data.get("parties", []) if declaration else []:
        names[party["name"]] = party.get("identifier")
    return _screening(session, list(names), list(names.values()))


def _screening(session: Session, names: list[str], identifiers: list[str | None]) -> dict[str, Any]:
    """The parties (identifiers[i] belongs to names[i]) screened against the current list, with
    the list's date and checksum; no list loaded: no date and no hits."""
    from upphandla.flows.commands.sanctions import current_list, screen

    listed = current_list(session)
    if listed is None:
        return {"list_date": None, "hits": []}
    hits = screen(session, names, identifiers)
    return {
        "list_date": listed.list_date.isoformat(),
        "list_checksum": listed.checksum,
        "hits": [
            {"party": h.party, "listed_name": h.listed_name, "reference": h.reference} for h in hits
        ],
    }


def with_context(
    session: Session, case: CaseSnapshot, evidence: Evidence, today: date
) -> CaseSnapshot:
    """The snapshot with the facts from outside the case that its gates may ask for."""
    assert case.id is not None
    context = context_for(
        session, case_id=case.id, attributes=case.attributes, evidence=evidence, today=today
    )
    return replace(case, context=context)
