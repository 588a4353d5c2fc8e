"""The audit log as a verifier sees it: every event of every chain in the order of the global
log, checked in one pass.

Each event belongs to a chain: a case's chain ("case"), a case's sealed chain ("sealed") or the
system chain ("system"). Its `hash` is SHA-256 of its `body` exactly as stored; the body names
its chain position (`seq`, `case_id`), time, action and the previous event's hash. Its place in
the global log is `index`; the log's leaves are the events' *entries*,

    "<chain> <case id, or - for the system chain> <seq> <hash>"

hashed as RFC 9162 leaves (states.merkle). `LogCheck` takes the events in log order, checks each
chain link by link and the log place by place, builds the Merkle tree, and hands every event
whose hash holds to an observer (the replay, states.replay).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from hashlib import sha256 as _sha256
from typing import Any, NamedTuple

import orjson

from upphandla.states.merkle import TreeBuilder, leaf_hash

GENESIS = "0" * 64
BACKDATING = timedelta(minutes=5)
CHAINS = ("case", "sealed", "system")


class LoggedEvent(NamedTuple):
    """One event as stored: its place in the log, chain, case (None: system), row id, position
    in its chain, time (ISO 8601), action, body (None: withheld from an export, a sealed event
    not yet unsealed), previous hash and hash."""

    log_index: int | None
    chain: str
    case_id: int | None
    event_id: int | None
    seq: int
    at: str
    action: str
    body: str | None
    prev_hash: str
    hash: str


def entry(chain: str, case_id: int | None, seq: int, digest: str) -> str:
    """The event's entry in the log: what its leaf hashes."""
    return f"{chain} {'-' if case_id is None else case_id} {seq} {digest}"


def leaf_of(entry_text: str) -> bytes:
    """The entry's leaf hash (LogCheck.add computes the same inline)."""
    return leaf_hash(entry_text.encode("ascii"))


@dataclass(frozen=True, slots=True)
class Break:
    """Something that does not verify: in which chain (or "log", "checkpoint", "user", "token",
    "evidence"), where, and what. `record` is the row the problem is about when it is not an
    event (a user, a token, an evidence record)."""

    chain: str
    problem: str
    case_id: int | None = None
    seq: int | None = None
    event_id: int | None = None
    index: int | None = None
    field: str | None = None
    record: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "case_id": self.case_id,
            "seq": self.seq,
            "event_id": self.event_id,
            "index": self.index,
            "field": self.field,
            "record": self.record,
            "problem": self.problem,
        }


@dataclass(slots=True)
class _Chain:
    seq: int = 0
    head: str = GENESIS
    at: str = ""  # the time of the chain's last event (ISO 8601, UTC)
    broken: bool = False


def backdated(at: str, before: str) -> bool:
    """Whether an event at `at` comes more than BACKDATING before its chain's previous event at
    `before`: a case's events are appended in time order, give or take a wait for the lock, so
    it was put in afterwards. (Both in UTC: as text they sort as the times do.) The system
    chain is not held to this: its replay is compared with every user and token instead."""
    if not before or at >= before:
        return False
    try:
        return datetime.fromisoformat(before) - datetime.fromisoformat(at) > BACKDATING
    except ValueError:
        return True


Observer = Callable[[LoggedEvent, dict[str, Any]], None]


@dataclass
class LogCheck:
    """Feed events in log order (`add`), then `finish`. `roots_at` are tree sizes whose root is
    wanted (checkpoints); `observe` gets each event whose hash and link hold, with its body
    parsed; withheld bodies are linked by hash only."""

    roots_at: frozenset[int] = frozenset()
    observe: Observer | None = None
    breaks: list[Break] = field(default_factory=list)
    roots: dict[int, bytes] = field(default_factory=dict)
    collect_from: int | None = None  # keep the entries from this place on in `entries`
    entries: list[str] = field(default_factory=list)
    events: int = 0
    tree: TreeBuilder = field(default_factory=TreeBuilder)
    _chains: dict[tuple[str, int | None], _Chain] = field(default_factory=dict)
    _expected_index: int = 0

    def is_broken(self, chain: str, case_id: int | None) -> bool:
        found = self._chains.get((chain, case_id))
        return found is not None and found.broken

    def add(self, ev: LoggedEvent) -> str:
        """Check one event; its entry in the log. (Called for every event: kept lean.)"""
        self.events += 1
        index, chain, case_id, _, seq, at, _, _, _, digest = ev
        key = (chain, case_id)
        state = self._chains.get(key)
        if state is None:
            state = self._chains[key] = _Chain()
        if index is not None and index == self._expected_index:
            self._expected_index = index + 1
        else:
            self._place(ev)
        problem, body = self._link(ev, state)
        if problem is None and case_id is not None and at < state.at and backdated(at, state.at):
            problem = (
                f"händelsen är daterad {at}, före kedjans föregående händelse ({state.at}): "
                "tillagd i efterhand"
            )
        if problem is not None:
            if not state.broken:
                state.broken = True
                self._break(ev, problem, seq=state.seq + 1)
        elif body is not None and self.observe is not None:
            self.observe(ev, body)
        state.seq, state.head, state.at = seq, digest, at
        text = f"{chain} {'-' if case_id is None else case_id} {seq} {digest}"
        if self.collect_from is not None and (index or 0) >= self.collect_from:
            self.entries.append(text)
        self.tree.append(_sha256(b"\x00" + text.encode("ascii")).digest())
        if self.roots_at and self.events in self.roots_at:
            self.roots[self.events] = self.tree.root()
        return text

    def _place(self, ev: LoggedEvent) -> None:
        """An event not at the next place: without one, after a gap, or at a place taken."""
        if ev.log_index is None:
            self._break(ev, "händelsen har ingen plats i loggen (skriven utanför motorn)")
            return
        if ev.log_index != self._expected_index:
            if ev.log_index > self._expected_index:
                gap = f"platserna {self._expected_index}–{ev.log_index - 1} saknas"
                problem = f"loggen har en lucka: {gap} (händelser borttagna)"
            else:
                problem = f"platsen {ev.log_index} är upptagen två gånger"
            self.breaks.append(Break("log", problem, index=ev.log_index))
        self._expected_index = max(self._expected_index, ev.log_index + 1)

    def _link(self, ev: LoggedEvent, state: _Chain) -> tuple[str | None, dict[str, Any] | None]:
        if ev.seq != state.seq + 1:
            return (
                f"händelse {state.seq + 1} saknas eller har flyttats (fann sekvensnummer {ev.seq})",
                None,
            )
        if ev.prev_hash != state.head:
            return (
                "kedjan är bruten: föregående hash stämmer inte (borttagen, omkastad eller "
                "ändrad händelse)",
                None,
            )
        if ev.body is None:
            return None, None
        if _sha256(ev.body.encode("utf-8")).hexdigest() != ev.hash:
            return "händelsens innehåll stämmer inte med dess hash (ändrad)", None
        try:
            body = orjson.loads(ev.body)
        except orjson.JSONDecodeError:
            return "händelsens innehåll är inte giltig JSON", None
        if not isinstance(body, dict):
            return "händelsens innehåll är inte ett JSON-objekt", None
        if body.get("seq") != ev.seq or body.get("case_id") != ev.case_id:
            return (
                "händelsen har flyttats (sekvensnummer eller ärende stämmer inte med innehållet)",
                None,
            )
        if body.get("prev_hash") != ev.prev_hash:
            return "kedjan är bruten: föregående hash i innehållet stämmer inte", None
        if body.get("action") != ev.action or body.get("at") != ev.at:
            return "händelsens kolumner stämmer inte med dess innehåll (ändrad)", None
        return None, body

    def _break(self, ev: LoggedEvent, problem: str, *, seq: int | None = None) -> None:
        self.breaks.append(
            Break(
                ev.chain,
                problem,
                case_id=ev.case_id,
                seq=ev.seq if seq is None else seq,
                event_id=ev.event_id,
                index=ev.log_index,
            )
        )

    def compare_heads(self, heads: Iterable[tuple[str, int | None, int, str]]) -> None:
        """Compare each chain with its head as stored ((chain, case, seq, hash)); a chain with
        events but no head is a break too."""
        seen: set[tuple[str, int | None]] = set()
        for chain, case_id, seq, head in heads:
            seen.add((chain, case_id))
            state = self._chains.get((chain, case_id), _Chain())
            if state.broken:
                continue
            if state.seq < seq:
                at, problem = (
                    state.seq + 1,
                    (
                        f"händelse {state.seq + 1} saknas: kedjans huvud anger {seq} händelser men "
                        f"kedjan slutar vid {state.seq} (händelser i slutet borttagna)"
                    ),
                )
            elif state.seq > seq:
                at, problem = (
                    seq + 1,
                    (
                        f"händelse {seq + 1} ligger efter kedjans sista registrerade händelse {seq} "
                        "(tillagd utanför motorn)"
                    ),
                )
            elif state.head != head:
                at, problem = (
                    seq,
                    (
                        f"händelse {seq} är inte den som kedjans huvud anger (ersatt, eller "
                        "borttagen och huvudet flyttat)"
                    ),
                )
            else:
                continue
            self.breaks.append(Break(chain, problem, case_id=case_id, seq=at))
        for chain, case_id in self._chains:
            if (chain, case_id) not in seen:
                what = "ärende som inte finns" if chain != "system" else "kedja utan huvud"
                self.breaks.append(
                    Break(chain, f"händelser som hör till ett {what}", case_id=case_id)
                )

    def compare_size(self, size: int | None) -> None:
        """Compare the log with its size as its head row gives it (None: the row is gone)."""
        if size is None:
            self.breaks.append(Break("log", "loggens huvud saknas"))
        elif size != self._expected_index:
            self.breaks.append(
                Break(
                    "log",
                    f"loggens huvud anger {size} händelser men loggen har {self._expected_index}",
                    index=min(size, self._expected_index),
                )
            )
