"""Export the audit log for verification without the database, and verify such an export.

An export is a folder with
- `events.jsonl`: every event of every chain in log order, one JSON object per line (keys
  sorted, no spaces): index, chain, case_id, seq, at, action, prev_hash, hash and body, the
  text its hash covers. A sealed event (a bid, OSL 19 kap. 3 §) of a case whose bids are not
  yet unsealed has `body` null: its hash and link are there, its content is not;
- `<size>.checkpoint`: the signed checkpoints (flows.checkpoints), the newest covering every
  exported event (the export verifies and signs one first);
- `key.vkey`: the verifier key of the checkpoints' signatures.

`verify_export` checks each line's form, each event's hash and link, the log's places and the
Merkle root at every checkpoint, and the checkpoints' signatures: one changed byte anywhere
fails it. Compare the key with one kept apart from the export (`vkey`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from upphandla.flows.checkpoints import SUFFIX, VKEY, Stored, Witness
from upphandla.flows.verify import Verification, against_checkpoints, verify_log
from upphandla.states.auditlog import Break, LogCheck, LoggedEvent
from upphandla.states.checkpoint import NoteError, NoteVerifier, open_checkpoint
from upphandla.states.replay import Replay
from upphandla.store.uow import UnitOfWork

EVENTS = "events.jsonl"
FIELDS = ("index", "chain", "case_id", "seq", "at", "action", "prev_hash", "hash", "body")


class ExportError(Exception):
    """The export cannot be made or read (message in Swedish)."""


@dataclass(frozen=True)
class Exported:
    verification: Verification
    events: int
    withheld: int


def _line(ev: dict[str, Any]) -> bytes:
    return orjson.dumps(ev, option=orjson.OPT_SORT_KEYS) + b"\n"


def _unsealing(definitions: list[Any]) -> set[str]:
    kinds: set[str] = set()
    for row in definitions:
        access = row.body.get("access") if isinstance(row.body, dict) else None
        for sealed in (access or {}).get("sealed") or []:
            if isinstance(sealed, dict) and sealed.get("until"):
                kinds.add(str(sealed["until"]))
    return kinds


def export_log(uow: UnitOfWork, witness: Witness, directory: Path) -> Exported:
    """Verify (and sign a checkpoint), then write the export, all as of one snapshot."""
    verification = verify_log(uow, witness, write=True)
    if not verification.ok:
        raise ExportError(
            f"loggen verifieras inte ({len(verification.breaks)} fel); kör "
            "`upphandla audit verify` för att se dem"
        )
    if directory.exists() and any(directory.iterdir()):
        raise ExportError(f"mappen {directory} är inte tom")
    directory.mkdir(parents=True, exist_ok=True)
    unsealing = _unsealing(uow.live.definitions())
    unsealed = {r.case_id for r in uow.live.evidence() if not r.sealed and r.kind in unsealing}
    count = withheld = 0
    with open(directory / EVENTS, "wb") as out:
        for row in uow.live.events():
            hide = row.chain == "sealed" and row.case_id not in unsealed
            withheld += hide
            count += 1
            out.write(
                _line(
                    {
                        "index": row.log_index,
                        "chain": row.chain,
                        "case_id": row.case_id,
                        "seq": row.seq,
                        "at": row.at,
                        "action": row.action,
                        "prev_hash": row.prev_hash,
                        "hash": row.hash,
                        "body": None if hide else row.body,
                    }
                )
            )
    for path in sorted(witness.directory.glob(f"*{SUFFIX}")):
        shutil.copyfile(path, directory / path.name)
    assert witness.signer is not None
    (directory / VKEY).write_text(witness.signer.verifier_key() + "\n", encoding="utf-8")
    return Exported(verification, count, withheld)


def _events(path: Path) -> Iterator[LoggedEvent | Break]:
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                ev = orjson.loads(raw)
            except orjson.JSONDecodeError:
                yield Break("log", f"rad {number} i {EVENTS} är inte giltig JSON")
                continue
            if not isinstance(ev, dict) or sorted(ev) != sorted(FIELDS) or _line(ev) != raw:
                yield Break("log", f"rad {number} i {EVENTS} har inte exportens form")
                continue
            try:
                yield LoggedEvent(
                    log_index=int(ev["index"]),
                    chain=str(ev["chain"]),
                    case_id=None if ev["case_id"] is None else int(ev["case_id"]),
                    event_id=None,
                    seq=int(ev["seq"]),
                    at=str(ev["at"]),
                    action=str(ev["action"]),
                    body=None if ev["body"] is None else str(ev["body"]),
                    prev_hash=str(ev["prev_hash"]),
                    hash=str(ev["hash"]),
                )
            except (TypeError, ValueError):
                yield Break("log", f"rad {number} i {EVENTS} har fält av fel typ")


def verify_export(directory: Path, vkey: str | None = None) -> Verification:
    """Verify an export without a database (see the module); `vkey`: the verifier key to trust
    (default: the export's own `key.vkey`)."""
    try:
        key_text = vkey or (directory / VKEY).read_text(encoding="utf-8").removesuffix("\n")
        verifier = NoteVerifier.parse(key_text)
    except (OSError, UnicodeDecodeError, NoteError, ValueError) as exc:
        raise ExportError(f"verifieringsnyckeln går inte att läsa: {exc}") from None
    breaks: list[Break] = []
    stored: list[Stored] = []
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        try:
            cp = open_checkpoint(path.read_text(encoding="utf-8"), verifier)
        except (NoteError, ValueError, UnicodeDecodeError) as exc:
            breaks.append(Break("checkpoint", f"kontrollpunkten {path.name}: {exc}"))
            continue
        stored.append(Stored(path, cp))
    if not stored and not breaks:
        breaks.append(Break("checkpoint", "exporten har ingen kontrollpunkt"))
    stored.sort(key=lambda s: s.checkpoint.size)
    replay = Replay(lambda key, version: None)
    check = LogCheck(roots_at=frozenset(s.checkpoint.size for s in stored), observe=replay)
    if not (directory / EVENTS).exists():
        raise ExportError(f"exporten saknar {EVENTS}")
    for item in _events(directory / EVENTS):
        if isinstance(item, Break):
            breaks.append(item)
        else:
            check.add(item)
    breaks += check.breaks + replay.breaks
    held, faults = against_checkpoints(check, stored)
    breaks += faults
    if stored and stored[-1].checkpoint.size != check.tree.size:
        breaks.append(
            Break("log", "exportens sista kontrollpunkt omfattar inte alla händelser i exporten")
        )
    return Verification(
        cases=len(replay.cases),
        events=check.events,
        log_size=check.tree.size,
        root=check.tree.root(),
        breaks=breaks,
        checkpoints=held,
    )
