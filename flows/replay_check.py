"""Compare the live rows with what the chains say they must hold (states.replay): every case's
definition, phase, attributes, the evidence its gates read and its assigned upphandlare; every
evidence record; every user and token. Each difference names the row, the field and the event
that should have produced it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from upphandla.states.auditlog import Break, LogCheck
from upphandla.states.definition import DefinitionError
from upphandla.states.parse import parse_definition
from upphandla.states.replay import (
    STARTED_FIELDS,
    USER_FIELDS,
    CaseFacts,
    EvidenceFacts,
    Replay,
    digest,
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _case_break(case_id: int, name: str, problem: str, seq: int | None) -> Break:
    return Break("case", problem, case_id=case_id, seq=seq, field=name)


def _differs(name: str, live: Any, chained: Any, seq: int | None) -> str:
    where = f" (händelse {seq})" if seq is not None else ""
    return f"{name} i databasen är {live!r} men kedjan ger {chained!r}{where}"


def compare_cases(replay: Replay, check: LogCheck, rows: Iterable[Any]) -> list[Break]:
    emails = replay.user_id_by_email()
    breaks: list[Break] = []
    for row in rows:
        if check.is_broken("case", row.id):
            continue  # the chain's own break is the report
        facts = replay.cases.get(row.id)
        if facts is None:
            breaks.append(
                _case_break(row.id, "id", "ärendet har ingen första händelse i kedjan", None)
            )
            continue
        breaks += _compare_case(row, facts, emails)
    return breaks


def _compare_case(row: Any, facts: CaseFacts, emails: dict[str, int]) -> list[Break]:
    out: list[Break] = []
    start = facts.started_seq

    def differ(name: str, live: Any, chained: Any, seq: int | None) -> None:
        if live != chained:
            out.append(_case_break(row.id, name, _differs(name, live, chained, seq), seq))

    differ("state", row.state, facts.state, facts.state_seq)
    differ("definition", (row.definition_key, row.definition_version), facts.definition, start)
    for name in STARTED_FIELDS:
        differ(name, getattr(row, name), facts.attributes.get(name), start)
    differ("attributes", row.attributes, facts.attributes, start)
    differ("created_by", row.created_by, facts.created_by, start)
    differ("created_at", row.created_at, facts.created_at, start)
    live_log = [digest(list(e)) for e in row.evidence_log or []]
    chained_log = facts.gate_evidence
    for i in range(max(len(live_log), len(chained_log))):
        live = live_log[i] if i < len(live_log) else None
        seq, chained = chained_log[i] if i < len(chained_log) else (None, None)
        if live != chained:
            what = (
                f"underlag {i + 1} som grindarna läser stämmer inte med kedjan"
                if live is not None and chained is not None
                else f"grindarna läser {len(live_log)} underlag men kedjan har {len(chained_log)}"
            )
            out.append(_case_break(row.id, "evidence_log", what, seq))
            break
    assigned = emails.get(facts.assigned_email) if facts.assigned_email else None
    differ("assigned_to", row.assigned_to, assigned, facts.assigned_seq)
    return out


def compare_evidence(replay: Replay, check: LogCheck, rows: Iterable[Any]) -> list[Break]:
    breaks: list[Break] = []
    seen: set[tuple[int, bool, int]] = set()
    for row in rows:
        chain = "sealed" if row.sealed else "case"
        key = (row.case_id, bool(row.sealed), row.audit_seq)
        seen.add(key)
        if check.is_broken(chain, row.case_id):
            continue
        facts = replay.cases.get(row.case_id)
        expected = facts.evidence.get(key[1:]) if facts else None
        if expected is None:
            breaks.append(
                Break(
                    "evidence",
                    f"underlaget har ingen händelse i kedjan (händelse {row.audit_seq} saknas "
                    "eller är inte ett underlag): skrivet utanför motorn",
                    case_id=row.case_id,
                    seq=row.audit_seq,
                    record=row.id,
                )
            )
            continue
        live = (
            row.kind,
            digest(row.data),
            row.phase,
            row.recorded_by,
            row.recorded_by_name,
            row.role,
            row.recorded_at,
        )
        if live == expected[1:]:
            continue
        for name, value, chained in zip(EvidenceFacts._fields[1:], live, expected[1:], strict=True):
            if value != chained:
                shown = "innehållet" if name == "data" else f"{value!r}"
                breaks.append(
                    Break(
                        "evidence",
                        f"underlagets {name} ({shown}) stämmer inte med händelse {expected.seq}",
                        case_id=row.case_id,
                        seq=expected.seq,
                        field=name,
                        record=row.id,
                    )
                )
                break
    for case_id, facts in replay.cases.items():
        for (sealed, seq), _ in facts.evidence.items():
            chain = "sealed" if sealed else "case"
            if (case_id, sealed, seq) not in seen and not check.is_broken(chain, case_id):
                breaks.append(
                    Break(
                        "evidence",
                        f"underlaget som händelse {seq} registrerade saknas i databasen",
                        case_id=case_id,
                        seq=seq,
                    )
                )
    return breaks


def compare_users(replay: Replay, rows: Iterable[Any]) -> list[Break]:
    breaks: list[Break] = []
    seen: set[int] = set()
    for row in rows:
        seen.add(row.id)
        facts = replay.users.get(row.id)
        if facts is None:
            breaks.append(
                Break(
                    "user",
                    f"användaren {row.email} finns inte i systemkedjan (tillagd utanför motorn)",
                    record=row.id,
                )
            )
            continue
        live = {name: getattr(row, name) for name in USER_FIELDS} | {"active": bool(row.active)}
        for name, value in live.items():
            if value != facts.values.get(name):
                breaks.append(
                    Break(
                        "user",
                        f"användaren {row.email}: {_differs(name, value, facts.values.get(name), facts.seq)}",
                        seq=facts.seq,
                        field=name,
                        record=row.id,
                    )
                )
    for user_id, facts in replay.users.items():
        if user_id not in seen:
            breaks.append(
                Break("user", "användaren saknas i databasen", seq=facts.seq, record=user_id)
            )
    return breaks


def compare_tokens(replay: Replay, rows: Iterable[Any]) -> list[Break]:
    breaks: list[Break] = []
    for row in rows:
        facts = replay.tokens.get(row.id)
        if facts is None:
            breaks.append(
                Break(
                    "token",
                    "token finns inte i systemkedjan (tillagd utanför motorn)",
                    record=row.id,
                )
            )
            continue
        live = {
            "user_id": row.user_id,
            "name": row.name,
            "expires_at": _iso(row.expires_at),
            "revoked": row.revoked_at is not None,
        }
        chained = {
            "user_id": facts.user_id,
            "name": facts.name,
            "expires_at": facts.expires_at,
            "revoked": facts.revoked,
        }
        for name, value in live.items():
            if value != chained[name]:
                breaks.append(
                    Break(
                        "token",
                        f"token {row.id}: {_differs(name, value, chained[name], facts.seq)}",
                        seq=facts.seq,
                        field=name,
                        record=row.id,
                    )
                )
    return breaks


def compare_definitions(replay: Replay, rows: Iterable[Any]) -> list[Break]:
    """Each stored definition is one the system chain loaded, with the checksum it recorded,
    and its body still has that checksum (the rules the gates apply are the ones loaded)."""
    breaks: list[Break] = []
    for row in rows:
        name = f"processdefinitionen {row.key} version {row.version}"
        facts = replay.definitions.get((row.key, row.version))
        if facts is None:
            breaks.append(
                Break(
                    "definition",
                    f"{name} finns inte i systemkedjan (inläst utanför motorn)",
                    record=row.id,
                )  # fmt: skip
            )
            continue
        if row.checksum != facts.values["checksum"]:
            problem = (
                f"{name}: {_differs('checksum', row.checksum, facts.values['checksum'], facts.seq)}"
            )
            breaks.append(
                Break("definition", problem, seq=facts.seq, field="checksum", record=row.id)
            )
            continue
        try:
            actual = parse_definition(row.body).checksum()
        except DefinitionError:
            actual = None
        if actual != row.checksum:
            breaks.append(
                Break(
                    "definition",
                    f"{name}: innehållet stämmer inte med kontrollsumman som lästes in "
                    f"(händelse {facts.seq}): ändrat i databasen",
                    seq=facts.seq,
                    field="body",
                    record=row.id,
                )
            )
    return breaks


def compare_thresholds(replay: Replay, rows: Iterable[Any]) -> list[Break]:
    """Each threshold amount is one the system chain entered, with its period, amount and
    source."""
    breaks: list[Break] = []
    for row in rows:
        start = row.effective_from.isoformat()
        name = f"tröskelvärdet {row.series} från {start}"
        facts = replay.thresholds.get((row.series, start))
        if facts is None:
            breaks.append(
                Break(
                    "threshold",
                    f"{name} finns inte i systemkedjan (inlagt utanför motorn)",
                    record=row.id,
                )  # fmt: skip
            )
            continue
        live = {
            "until": row.until.isoformat() if row.until else None,
            "amount_sek": row.amount_sek,
            "source": row.source,
        }
        for field_name, value in live.items():
            if value != facts.values.get(field_name):
                problem = f"{name}: {_differs(field_name, value, facts.values.get(field_name), facts.seq)}"
                breaks.append(
                    Break("threshold", problem, seq=facts.seq, field=field_name, record=row.id)
                )
    return breaks
