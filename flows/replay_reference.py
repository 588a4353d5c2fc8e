"""Compare the reference data the gates decide by with what the system chain recorded of it
(states.replay): process definitions, threshold amounts and sanctions lists (with their entries
and match keys). Each difference names the row, the field and the event."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from upphandla.flows.replay_check import differs
from upphandla.states.auditlog import Break
from upphandla.states.canonical import canonical_json
from upphandla.states.definition import DefinitionError
from upphandla.states.parse import parse_definition
from upphandla.states.replay import Replay
from upphandla.states.sanctions import match_key


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
                f"{name}: {differs('checksum', row.checksum, facts.values['checksum'], facts.seq)}"
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
                problem = (
                    f"{name}: {differs(field_name, value, facts.values.get(field_name), facts.seq)}"
                )
                breaks.append(
                    Break("threshold", problem, seq=facts.seq, field=field_name, record=row.id)
                )
    return breaks


def compare_sanctions(
    replay: Replay, lists: Iterable[Any], entries: Iterable[tuple[Any, ...]]
) -> list[Break]:
    """Each sanctions list is one the system chain loaded (date, checksum, source, number of
    entries and, for lists loaded since the digest was recorded, the entries themselves), and
    each entry's match key is its name's (the screening compares match keys)."""
    counted: dict[int, int] = {}
    digests: dict[int, Any] = {}
    breaks: list[Break] = []
    for list_id, entry_id, name, key, identifier, country, reference in entries:
        counted[list_id] = counted.get(list_id, 0) + 1
        digest = digests.setdefault(list_id, hashlib.sha256())
        digest.update(canonical_json([name, identifier, country, reference]).encode() + b"\n")
        if key != match_key(name):
            breaks.append(
                Break(
                    "sanctions",
                    f"posten {name!r} har jämförelsenyckeln {key!r}, inte namnets "
                    f"{match_key(name)!r}: ändrad i databasen",
                    field="match_key",
                    record=entry_id,
                )
            )
    for row in lists:
        facts = replay.sanctions.get(row.id)
        name = f"sanktionslistan {row.id} ({row.list_date.isoformat()})"
        if facts is None:
            breaks.append(
                Break(
                    "sanctions",
                    f"{name} finns inte i systemkedjan (inläst utanför motorn)",
                    record=row.id,
                )  # fmt: skip
            )
            continue
        live = {
            "list_date": row.list_date.isoformat(),
            "checksum": row.checksum,
            "source": row.source,
            "entries": row.entries,
        }
        found = counted.get(row.id, 0)
        if found != row.entries:
            live["entries"] = found
        if facts.values.get("entries_digest") is not None:
            made = digests.get(row.id, hashlib.sha256()).hexdigest()
            live["entries_digest"] = made
        for field_name, value in live.items():
            if value != facts.values.get(field_name):
                problem = (
                    f"{name}: {differs(field_name, value, facts.values.get(field_name), facts.seq)}"
                )
                breaks.append(
                    Break("sanctions", problem, seq=facts.seq, field=field_name, record=row.id)
                )
    return breaks
