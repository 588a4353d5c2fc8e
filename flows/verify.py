"""Verify the audit log, in one ordered pass over every event of every chain:

1. each chain, link by link, and each event's hash (states.auditlog);
2. the global log: every place taken once, its size as its head says, the Merkle root at each
   signed checkpoint's size equal to the checkpoint's, and every entry up to the newest
   checkpoint equal to the copy kept beside the checkpoints, so that a change is traced to
   its event;
3. the live rows against the replay of the chains (states.replay, flows.replay_check): cases,
   evidence, users, tokens, process definitions, threshold amounts and sanctions lists.

When all holds, and the caller asks, a new checkpoint is signed and written.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upphandla.flows.checkpoints import Stored, Witness
from upphandla.flows.replay_check import (
    compare_cases,
    compare_evidence,
    compare_tokens,
    compare_users,
)
from upphandla.flows.replay_reference import (
    compare_definitions,
    compare_sanctions,
    compare_thresholds,
)
from upphandla.states.auditlog import Break, LogCheck, LoggedEvent
from upphandla.states.checkpoint import Checkpoint
from upphandla.states.merkle import EMPTY_ROOT
from upphandla.states.replay import Replay
from upphandla.store.uow import UnitOfWork

MAX_LOG_BREAKS = 50  # differences from the copy reported one by one; the rest are counted


@dataclass
class Verification:
    cases: int
    events: int
    log_size: int
    root: bytes
    breaks: list[Break]
    checkpoints: list[Checkpoint] = field(default_factory=list)  # those the log agrees with
    written: Path | None = None  # the checkpoint written by this verification

    @property
    def ok(self) -> bool:
        return not self.breaks


def assignments(definitions: list[Any]) -> dict[tuple[str, int], tuple[str, str] | None]:
    """For each definition, the evidence kind that assigns a case's upphandlare and its field."""
    found: dict[tuple[str, int], tuple[str, str] | None] = {}
    for row in definitions:
        access = row.body.get("access") if isinstance(row.body, dict) else None
        assignment = access.get("assignment") if isinstance(access, dict) else None
        if isinstance(assignment, dict):
            found[(row.key, row.version)] = (
                str(assignment.get("kind")),
                str(assignment.get("field")),
            )
        else:
            found[(row.key, row.version)] = None
    return found


def _named(line: str) -> tuple[str, int | None, int | None]:
    """(chain, case, seq) of a line of the copy of the entries, as far as it can be read."""
    parts = line.split(" ")
    chain = parts[0] if parts and parts[0] in ("case", "sealed", "system") else "log"
    case_id = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    seq = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
    return chain, case_id, seq


class _CopyComparison:
    """Walks the copy of the entries beside the checkpoints along with the log."""

    def __init__(self, lines: Iterator[str], covered: int) -> None:
        self._lines = lines
        self.covered = covered
        self.position = 0
        self.breaks: list[Break] = []
        self.unreported = 0

    def _report(self, brk: Break) -> None:
        if len(self.breaks) < MAX_LOG_BREAKS:
            self.breaks.append(brk)
        else:
            self.unreported += 1

    def _missing(self, up_to: int) -> None:
        while self.position < min(up_to, self.covered):
            line = next(self._lines, None)
            if line is None:
                self._report(
                    Break("checkpoint", "kopian av loggens poster är kortare än kontrollpunkten")
                )
                self.position = self.covered
                return
            chain, case_id, seq = _named(line)
            self._report(
                Break(
                    chain,
                    f"händelsen finns i kontrollpunkten (plats {self.position}) men saknas i "
                    "databasen (borttagen)",
                    case_id=case_id,
                    seq=seq,
                    index=self.position,
                )
            )
            self.position += 1

    def see(self, ev: LoggedEvent, text: str) -> None:
        if ev.log_index is None or ev.log_index >= self.covered or ev.log_index < self.position:
            return
        self._missing(ev.log_index)
        line = next(self._lines, None)
        self.position += 1
        if line != text:
            chain, case_id, seq = _named(line or "")
            self._report(
                Break(
                    ev.chain,
                    f"händelsen på plats {ev.log_index} är inte den som kontrollpunkten omfattar "
                    f"(där: {line or 'ingen'}; nu: {text}): ändrad eller ersatt med ny hash",
                    case_id=ev.case_id,
                    seq=ev.seq,
                    event_id=ev.event_id,
                    index=ev.log_index,
                )
            )

    def finish(self) -> list[Break]:
        self._missing(self.covered)
        if self.unreported:
            self.breaks.append(
                Break("log", f"ytterligare {self.unreported} skillnader mot kontrollpunkten")
            )
        return self.breaks


def against_checkpoints(
    check: LogCheck, stored: Sequence[Stored]
) -> tuple[list[Checkpoint], list[Break]]:
    """The checkpoints the log agrees with, and a fault for each it does not: a log cut below
    a checkpoint's size, or another root at that size."""
    held: list[Checkpoint] = []
    breaks: list[Break] = []
    for s in stored:
        size = s.checkpoint.size
        if size > check.tree.size:
            breaks.append(
                Break(
                    "log",
                    f"loggen har kortats: kontrollpunkten {s.path.name} omfattar {size} "
                    f"händelser men loggen har {check.tree.size}",
                    index=check.tree.size,
                )
            )
        elif check.roots.get(size, EMPTY_ROOT if size == 0 else None) != s.checkpoint.root_hash:
            breaks.append(
                Break(
                    "log",
                    f"loggens rot vid storleken {size} stämmer inte med kontrollpunkten "
                    f"{s.path.name} (händelser ändrade, borttagna eller tillagda)",
                    index=size,
                )
            )
        else:
            held.append(s.checkpoint)
    return held, breaks


def verify_log(
    uow: UnitOfWork,
    witness: Witness | None,
    *,
    write: bool = False,
    given: Sequence[Stored] = (),
) -> Verification:
    """Verify everything (see the module), against the checkpoints in the witness's directory
    and those `given`; with `write`, sign a new checkpoint if all holds. The unit of work must
    not have read anything yet (its reads are made one snapshot)."""
    uow.live.snapshot()
    kept, breaks = witness.checkpoints() if witness is not None else ([], [])
    latest = kept[-1].checkpoint if kept else None
    stored = sorted([*kept, *given], key=lambda s: s.checkpoint.size)
    covered = latest.size if latest else 0
    definition_rows = uow.live.definitions()
    definitions = assignments(definition_rows)
    replay = Replay(lambda key, version: definitions.get((key, version)))
    check = LogCheck(
        roots_at=frozenset(s.checkpoint.size for s in stored),
        observe=replay,
        collect_from=covered if write else None,
    )
    copy = _CopyComparison(witness.entries() if witness else iter(()), covered)
    for ev in uow.live.events():
        text = check.add(ev)
        copy.see(ev, text)
    breaks += copy.finish()
    check.compare_heads(uow.live.heads())
    check.compare_size(uow.live.log_size())
    breaks += check.breaks
    held, faults = against_checkpoints(check, stored)
    breaks += faults
    breaks += replay.breaks
    breaks += compare_cases(replay, check, uow.live.cases())
    breaks += compare_evidence(replay, check, uow.live.evidence())
    if not check.is_broken("system", None):
        breaks += compare_users(replay, uow.live.users())
        breaks += compare_tokens(replay, uow.live.tokens())
        breaks += compare_definitions(replay, definition_rows)
        breaks += compare_thresholds(replay, uow.live.thresholds())
        live = uow.live
        breaks += compare_sanctions(replay, live.sanctions_lists(), live.sanctions_entries())
    result = Verification(
        cases=len(replay.cases),
        events=check.events,
        log_size=check.tree.size,
        root=check.tree.root(),
        breaks=breaks,
        checkpoints=held,
    )
    if write and witness is not None and result.ok and check.tree.size > covered:
        cp = Checkpoint(witness.origin, check.tree.size, result.root)
        result.written = witness.write(cp, check.entries, kept=covered)
        result.checkpoints.append(cp)
    return result


_WHERE = {
    "case": "ÄRENDE {case_id}",
    "sealed": "ÄRENDE {case_id}, förseglad kedja",
    "system": "SYSTEMKEDJAN",
    "evidence": "ÄRENDE {case_id}, underlag {record}",
    "user": "ANVÄNDARE {record}",
    "token": "TOKEN {record}",
    "definition": "PROCESSDEFINITION (rad {record})",
    "threshold": "TRÖSKELVÄRDE (rad {record})",
    "sanctions": "SANKTIONSLISTA (rad {record})",
    "log": "LOGGEN",
    "checkpoint": "KONTROLLPUNKT",
}


def describe(brk: Break) -> str:
    """One line, in Swedish, that names where the break is and what it is."""
    parts = [_WHERE.get(brk.chain, brk.chain.upper()).format(**brk.as_dict())]
    if brk.seq is not None:
        parts.append(f"händelse {brk.seq}")
    if brk.field is not None:
        parts.append(f"fält {brk.field}")
    if brk.index is not None:
        parts.append(f"plats {brk.index} i loggen")
    return f"{', '.join(parts)}: {brk.problem}"
