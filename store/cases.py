"""Cases: one read of the row, a conditional update, plain inserts, and the queries over many
cases (lists, the sweep's due cases, similar contracts). SQLAlchemy Core on the request path:
cheaper than the ORM, in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Table,
    bindparam,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection

from upphandla.states.access import CaseScope
from upphandla.states.case import EvidenceRecord
from upphandla.states.errors import Conflict, NotFound, PreconditionFailed
from upphandla.states.lookups import SimilarContract, SimilarContracts
from upphandla.states.preconditions import IfMatch
from upphandla.states.values import value_of_step
from upphandla.store.models import AuditEventRow, CaseRow, EvidenceRow
from upphandla.store.records import Page, StoredCase
from upphandla.store.scope import visible_cases

CASES = cast(Table, CaseRow.__table__)
EVIDENCE = cast(Table, EvidenceRow.__table__)
AUDIT = cast(Table, AuditEventRow.__table__)

_COLUMNS = [CASES.c[f.name] for f in fields(StoredCase)]
# What a case's life changes; the rest is written once, when it is started.
_CHANGING = [
    "state",
    "phase_entered_at",
    "next_due_at",
    "next_sweep_at",
    "updated_at",
    "audit_seq",
    "audit_head",
    "row_version",
    "assigned_to",
]

# Statements are built once with bound parameters: building them per call costs more than
# running them on SQLite.
_SELECT = select(*_COLUMNS).where(CASES.c.id == bindparam("case_id"))
_SELECT_FOR_UPDATE = _SELECT.with_for_update()
_SELECT_WITH_EVIDENCE = select(*_COLUMNS, CASES.c.evidence_log).where(
    CASES.c.id == bindparam("case_id")
)
_SELECT_WITH_EVIDENCE_FOR_UPDATE = _SELECT_WITH_EVIDENCE.with_for_update()
_UPDATE = (
    update(CASES)
    .where(CASES.c.id == bindparam("_id"), CASES.c.row_version == bindparam("_read_version"))
    .values({name: bindparam(name) for name in _CHANGING})
)
_UPDATE_WITH_EVIDENCE = _UPDATE.values(evidence_log=bindparam("evidence_log"))


@dataclass(frozen=True)
class CaseFilter:
    """What a list of cases is narrowed to; None: not narrowed."""

    state: str | None = None
    subcategory: str | None = None
    organisation: str | None = None
    overdue_at: datetime | None = None  # with `overdue`: the moment that counts as now
    overdue: bool | None = None

    def where(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.state is not None:
            out.append(CASES.c.state == self.state)
        if self.subcategory is not None:
            out.append(CASES.c.subcategory == self.subcategory)
        if self.organisation is not None:
            out.append(CASES.c.organisation == self.organisation)
        if self.overdue is not None and self.overdue_at is not None:
            late = CASES.c.next_due_at < self.overdue_at
            out.append(late if self.overdue else ~late | CASES.c.next_due_at.is_(None))
        return out


class CaseRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.versions: dict[int, int] = {}  # row_version of each case written in this unit
        self._expected: dict[int, IfMatch] = {}  # If-Match, checked when the case is locked

    def expect(self, case_id: int, if_match: IfMatch) -> None:
        """Refuse the change (PreconditionFailed) unless the case, when it is read for the
        change, is at a version `if_match` allows: checked on the locked row, after the case
        was found."""
        self._expected[case_id] = if_match

    def confirm_expected(self, case_id: int) -> None:
        """Check the expectation on `case_id` now, if no read for a change has checked it."""
        if case_id in self._expected:
            self.get(case_id, for_update=True)

    def _check(self, case: StoredCase) -> None:
        if_match = self._expected.pop(case.id, None)
        if if_match is not None and not if_match.holds(case.row_version):
            raise PreconditionFailed()

    def _run(self, statement: Any, params: Any = None) -> CursorResult[Any]:
        return self._conn.execute(statement, params)

    def get(self, case_id: int, *, for_update: bool = False) -> StoredCase:
        """The case; for a change, locked until the unit of work ends (PostgreSQL: FOR UPDATE;
        SQLite: the writer's BEGIN IMMEDIATE already holds the database)."""
        lock = for_update and self._conn.dialect.name == "postgresql"
        row = self._run(_SELECT_FOR_UPDATE if lock else _SELECT, {"case_id": case_id})
        found = row.one_or_none()
        if found is None:
            raise NotFound("case_not_found", case_id=case_id)
        case = StoredCase(**found._asdict())
        if for_update:
            self._check(case)
        return case

    def get_visible(self, case_id: int, scope: CaseScope) -> StoredCase:
        """The case if it is in `scope`; NotFound otherwise, exactly as for a missing case."""
        query = select(*_COLUMNS).where(CASES.c.id == case_id, visible_cases(scope))
        found = self._run(query).one_or_none()
        if found is None:
            raise NotFound("case_not_found", case_id=case_id)
        return StoredCase(**found._asdict())

    def is_visible(self, case_id: int, scope: CaseScope) -> bool:
        query = select(CASES.c.id).where(CASES.c.id == case_id, visible_cases(scope))
        return self._run(query).first() is not None

    def get_for_change(self, case_id: int) -> tuple[StoredCase, tuple[EvidenceRecord, ...]]:
        """The case, locked for the change (as `get(for_update=True)`), with the evidence its
        gates read, oldest first: one row read."""
        lock = self._conn.dialect.name == "postgresql"
        query = _SELECT_WITH_EVIDENCE_FOR_UPDATE if lock else _SELECT_WITH_EVIDENCE
        found = self._run(query, {"case_id": case_id}).one_or_none()
        if found is None:
            raise NotFound("case_not_found", case_id=case_id)
        values: dict[str, Any] = found._asdict()
        records = tuple(
            EvidenceRecord(kind, data, datetime.fromisoformat(at), by, role)
            for kind, data, at, by, role in values.pop("evidence_log")
        )
        case = StoredCase(**values)
        self._check(case)
        return case, records

    def add(self, **values: Any) -> StoredCase:
        """A new case from its column values (everything but the id and version). It is
        written at version 0 and becomes version 1 when the use case saves it with the head of
        its first audit event."""
        values = {**values, "row_version": 0}
        result = self._run(insert(CASES).values(**values))
        assert result.inserted_primary_key is not None
        case = StoredCase(id=int(result.inserted_primary_key[0]), **values)
        self.versions[case.id] = case.row_version
        return case

    def save(self, case: StoredCase, *, evidence: Iterable[EvidenceRecord] | None = None) -> None:
        """Write the case back, one version on, if nobody changed it since it was read; with
        `evidence`, the evidence its gates read as well (after a record was added)."""
        read_version = self.versions.get(case.id, case.row_version)
        case.row_version = read_version + 1
        params = {name: getattr(case, name) for name in _CHANGING}
        params |= {"_id": case.id, "_read_version": read_version}
        statement = _UPDATE
        if evidence is not None:
            statement = _UPDATE_WITH_EVIDENCE
            params["evidence_log"] = [
                [r.kind, dict(r.data), r.recorded_at.isoformat(), r.recorded_by, r.role]
                for r in evidence
            ]
        if self._run(statement, params).rowcount != 1:
            raise Conflict("concurrent_change")
        self.versions[case.id] = case.row_version

    def page(
        self, filters: CaseFilter, scope: CaseScope, *, limit: int, offset: int
    ) -> Page[StoredCase]:
        where = [*filters.where(), visible_cases(scope)]
        total = self._run(select(func.count()).select_from(CASES).where(*where)).scalar_one()
        rows = self._run(
            select(*_COLUMNS).where(*where).order_by(CASES.c.id).limit(limit).offset(offset)
        )
        return Page([StoredCase(**r._asdict()) for r in rows], int(total), limit, offset)

    def of_user(self, user_id: int, scope: CaseScope) -> list[StoredCase]:
        """The cases a person started or acted on (an audit event of theirs) and may read, by
        id."""
        acted_on = select(AUDIT.c.case_id).where(AUDIT.c.actor_id == user_id)
        rows = self._run(
            select(*_COLUMNS)
            .where(
                or_(CASES.c.created_by == user_id, CASES.c.id.in_(acted_on)),
                visible_cases(scope),
            )
            .order_by(CASES.c.id)
        )
        return [StoredCase(**r._asdict()) for r in rows]

    def titled(self, title: str, *, in_state: str | None, not_in_state: str | None) -> bool:
        """Whether a case with this title exists (in, or not in, a phase)."""
        query = select(CASES.c.id).where(CASES.c.title == title)
        if in_state is not None:
            query = query.where(CASES.c.state == in_state)
        if not_in_state is not None:
            query = query.where(CASES.c.state != not_in_state)
        return self._run(query.limit(1)).first() is not None

    def similar_contracts(self, lookup: SimilarContracts) -> tuple[SimilarContract, ...]:
        """Other cases on the lookup's route and subcategory that count towards a recurring
        purchase, by case: those whose latest signing record falls in its period, and those not
        signed whose case is in one of its in-progress phases; none that was cancelled. Each with
        its value of the step, from its attributes and the evidence its gates read."""
        signed = select(EVIDENCE.c.case_id).where(EVIDENCE.c.kind == lookup.signed_kind)
        counted: ColumnElement[bool] = CASES.c.id.in_(signed)
        if lookup.in_progress_phases:
            counted = or_(counted, CASES.c.state.in_(lookup.in_progress_phases))
        query = (
            select(
                CASES.c.id,
                CASES.c.title,
                CASES.c.organisation,
                CASES.c.attributes,
                CASES.c.evidence_log,
            )
            .where(
                CASES.c.subcategory == lookup.subcategory,
                CASES.c.route == lookup.route,
                counted,
            )
            .order_by(CASES.c.id)
        )
        if lookup.exclude_case_id is not None:
            query = query.where(CASES.c.id != lookup.exclude_case_id)
        if lookup.cancelled_phases:
            query = query.where(CASES.c.state.not_in(lookup.cancelled_phases))
        since, until = lookup.since.isoformat(), lookup.until.isoformat()
        out = []
        for row in self._run(query):
            facts: dict[str, Any] = {}
            for kind, data, *_ in row.evidence_log:
                facts.update((f"{kind}.{name}", value) for name, value in data.items())
            signed_on = facts.get(f"{lookup.signed_kind}.signed_on")
            if signed_on is not None and not since <= str(signed_on) <= until:
                continue
            value = value_of_step(lookup.values, {**facts, **row.attributes})
            out.append(
                SimilarContract(
                    row.id,
                    row.title,
                    row.organisation,
                    value.amount if value else 0,
                    str(signed_on) if signed_on is not None else None,
                    value.title if value else "",
                )
            )
        return tuple(out)

    # -- the sweep ----------------------------------------------------------------------------
    def due(self, at: datetime, *, after: tuple[datetime, int] | None, limit: int) -> list[Any]:
        """(id, next_sweep_at) of cases due at `at`, by (next_sweep_at, id), after `after`:
        an index range scan, so the cost follows what is due."""
        query = (
            select(CASES.c.id, CASES.c.next_sweep_at)
            .where(CASES.c.next_sweep_at <= at)
            .order_by(CASES.c.next_sweep_at, CASES.c.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(tuple_(CASES.c.next_sweep_at, CASES.c.id) > tuple_(*after))
        return list(self._run(query))

    def make_due(self, *, key: str, version: int, states: Iterable[str], at: datetime) -> int:
        """Make the cases of a definition version in these phases due at `at` (unless due
        sooner); returns how many."""
        result = self._run(
            update(CASES)
            .where(
                CASES.c.definition_key == key,
                CASES.c.definition_version == version,
                CASES.c.state.in_(list(states)),
                or_(CASES.c.next_sweep_at.is_(None), CASES.c.next_sweep_at > at),
            )
            .values(next_sweep_at=at)
        )
        return int(result.rowcount or 0)

    def defer(self, case_id: int, until: datetime) -> None:
        self._run(update(CASES).where(CASES.c.id == case_id).values(next_sweep_at=until))
