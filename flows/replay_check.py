"""Compare the live rows with what the chains say they must hold (states.replay): every case's
definition, phase, attributes, the evidence its gates read and its assigned upphandlare; every
evidence record; every user and token. Each difference names the row, the field and the event
that should have produced it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from upphandla.states.auditlog import Break, LogCheck
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


def differs(name: str, live: Any, chained: Any, seq: int | None) -> str:
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
            out.append(_case_break(row.id, name, differs(name, live, chained, seq), seq))

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
                        f"användaren {row.email}: {differs(name, value, facts.values.get(name), facts.seq)}",
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
                        f"token {row.id}: {differs(name, value, chained[name], facts.seq)}",
                        seq=facts.seq,
                        field=name,
                        record=row.id,
                    )
                )
    return breaks
