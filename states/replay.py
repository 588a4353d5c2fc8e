"""Replay: what the chains say the live rows must hold.

Fed every event whose hash and link hold, in log order (states.auditlog), `Replay` derives for
each case its definition, phase, attributes, the evidence its gates read, its evidence records
and its assigned upphandlare; and from the system chain every user and token, and the process
definitions, threshold amounts and sanctions lists the gates decide by. The event that
set each value is kept, so that a difference can be reported with the event that should have
produced the row. Evidence is kept as digests, not copies, so memory grows with the number of
records, not their size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from upphandla.states.auditlog import Break, LoggedEvent

START_ACTIONS = ("case_started", "contract_imported")
EVIDENCE_ACTION = "evidence_recorded"
STARTED_FIELDS = ("title", "organisation", "subcategory", "route")


def digest(value: Any) -> bytes:
    """A short, stable digest of JSON-like data (keys sorted)."""
    return hashlib.blake2b(
        orjson.dumps(value, option=orjson.OPT_SORT_KEYS), digest_size=16
    ).digest()


class EvidenceFacts(NamedTuple):
    """An evidence record as its event gives it (data as a digest)."""

    seq: int
    kind: str
    data: bytes
    phase: str
    recorded_by: int | None
    recorded_by_name: str
    role: str
    recorded_at: str


@dataclass(slots=True)
class CaseFacts:
    started_seq: int
    definition: tuple[str, int]
    attributes: dict[str, Any]
    created_by: int | None
    created_at: str
    state: str
    state_seq: int
    gate_evidence: list[tuple[int, bytes]] = field(
        default_factory=list
    )  # (seq, digest of kind, data, time, name, role)
    evidence: dict[tuple[bool, int], EvidenceFacts] = field(default_factory=dict)
    assigned_email: str | None = None
    assigned_seq: int | None = None


@dataclass(slots=True)
class UserFacts:
    seq: int
    values: dict[str, Any]  # name, email, role, organisation, mandate, active


@dataclass(slots=True)
class TokenFacts:
    seq: int
    user_id: int
    name: str | None
    expires_at: str | None
    revoked: bool


@dataclass(slots=True)
class RowFacts:
    """A row of the system's reference data (a definition, a threshold amount) as its event in
    the system chain gives it."""

    seq: int
    values: dict[str, Any]


USER_FIELDS = ("name", "email", "role", "organisation", "mandate")
THRESHOLD_FIELDS = ("until", "amount_sek", "source")
SANCTIONS_FIELDS = ("list_date", "checksum", "source", "entries", "entries_digest")

# What names, for a definition (key, version), the kind of evidence that assigns a case's
# upphandlare and the field holding their e-mail address; None if it has no assignment.
AssignmentOf = Callable[[str, int], tuple[str, str] | None]


@dataclass
class Replay:
    assignment_of: AssignmentOf
    cases: dict[int, CaseFacts] = field(default_factory=dict)
    users: dict[int, UserFacts] = field(default_factory=dict)
    tokens: dict[int, TokenFacts] = field(default_factory=dict)
    definitions: dict[tuple[str, int], RowFacts] = field(default_factory=dict)
    thresholds: dict[tuple[str, str], RowFacts] = field(default_factory=dict)
    sanctions: dict[int, RowFacts] = field(default_factory=dict)  # by list id
    breaks: list[Break] = field(default_factory=list)

    def __call__(self, ev: LoggedEvent, body: dict[str, Any]) -> None:
        if ev.chain == "system":
            self._system(ev, body)
        elif ev.case_id is not None:
            self._case(ev, body)

    # -- cases ------------------------------------------------------------------------------

    def _case(self, ev: LoggedEvent, body: dict[str, Any]) -> None:
        assert ev.case_id is not None
        facts = self.cases.get(ev.case_id)
        if facts is None:
            if ev.chain == "case" and ev.action in START_ACTIONS:
                self._start(ev, body)
            else:
                self._mismatch(ev, "from_state", "händelsen kommer före ärendets första händelse")
            return
        if body.get("from_state") != facts.state:
            self._mismatch(
                ev,
                "from_state",
                f"händelsen anger fasen ”{body.get('from_state')}” men kedjan ger "
                f"”{facts.state}” (händelse {facts.state_seq})",
            )
        sealed = ev.chain == "sealed"
        if ev.action == EVIDENCE_ACTION:
            self._evidence(ev, body, facts, sealed=sealed)
        if not sealed and body.get("to_state") != facts.state:
            facts.state, facts.state_seq = str(body.get("to_state")), ev.seq

    def _start(self, ev: LoggedEvent, body: dict[str, Any]) -> None:
        assert ev.case_id is not None
        definition = body.get("definition") or {}
        actor = body.get("actor") or {}
        attributes = body.get("attributes")
        self.cases[ev.case_id] = CaseFacts(
            started_seq=ev.seq,
            definition=(str(definition.get("key")), int(definition.get("version") or 0)),
            attributes=attributes if isinstance(attributes, dict) else {},
            created_by=actor.get("id"),
            created_at=ev.at,
            state=str(body.get("to_state")),
            state_seq=ev.seq,
        )

    def _evidence(
        self, ev: LoggedEvent, body: dict[str, Any], facts: CaseFacts, *, sealed: bool
    ) -> None:
        evidence = body.get("evidence") or {}
        actor = body.get("actor") or {}
        kind, data = str(evidence.get("kind")), evidence.get("data")
        by, role = actor.get("id"), str(body.get("role"))
        facts.evidence[(sealed, ev.seq)] = EvidenceFacts(
            ev.seq, kind, digest(data), facts.state, by, str(actor.get("name")), role, ev.at
        )
        if sealed:
            return
        name = str(actor.get("name"))
        facts.gate_evidence.append((ev.seq, digest([kind, data, ev.at, name, role])))
        assignment = self.assignment_of(*facts.definition)
        if assignment is not None and kind == assignment[0] and isinstance(data, dict):
            facts.assigned_email = str(data.get(assignment[1], "")).strip()
            facts.assigned_seq = ev.seq

    def _mismatch(self, ev: LoggedEvent, name: str, problem: str) -> None:
        self.breaks.append(
            Break(
                ev.chain,
                problem,
                case_id=ev.case_id,
                seq=ev.seq,
                event_id=ev.event_id,
                index=ev.log_index,
                field=name,
            )
        )

    # -- the system chain: users and tokens -------------------------------------------------

    def _system(self, ev: LoggedEvent, body: dict[str, Any]) -> None:
        data = body.get("data")
        if not isinstance(data, dict):
            return
        action = ev.action
        if action in ("user.added", "user.provisioned", "user.existing", "user.changed"):
            values = {name: data.get(name) for name in USER_FIELDS}
            before = self.users.get(int(data.get("user_id") or 0))
            active = data.get("active", before.values["active"] if before else True)
            self.users[int(data.get("user_id") or 0)] = UserFacts(
                ev.seq, {**values, "active": bool(active)}
            )
        elif action == "user.disabled":
            user = self.users.get(int(data.get("user_id") or 0))
            if user is not None:
                user.values["active"], user.seq = False, ev.seq
            for token_id in data.get("tokens_revoked") or []:
                self._revoke(int(token_id), ev.seq)
        elif action in ("token.created", "token.existing"):
            self.tokens[int(data.get("token_id") or 0)] = TokenFacts(
                ev.seq,
                int(data.get("user_id") or 0),
                data.get("name"),
                data.get("expires_at"),
                bool(data.get("revoked", False)),
            )
        elif action == "token.revoked":
            self._revoke(int(data.get("token_id") or 0), ev.seq)
        elif action in ("definition.loaded", "definition.existing"):
            key = (str(data.get("key")), int(data.get("version") or 0))
            self.definitions[key] = RowFacts(ev.seq, {"checksum": data.get("checksum")})
        elif action in ("sanctions.loaded", "sanctions.existing"):
            values = {name: data.get(name) for name in SANCTIONS_FIELDS}
            self.sanctions[int(data.get("list_id") or 0)] = RowFacts(ev.seq, values)
        elif action in ("threshold.entered", "threshold.existing"):
            values = {name: data.get(name) for name in THRESHOLD_FIELDS}
            self.thresholds[(str(data.get("series")), str(data.get("from")))] = RowFacts(
                ev.seq, values
            )

    def _revoke(self, token_id: int, seq: int) -> None:
        token = self.tokens.get(token_id)
        if token is not None:
            token.revoked, token.seq = True, seq

    def user_id_by_email(self) -> dict[str, int]:
        return {str(u.values["email"]): uid for uid, u in self.users.items()}
