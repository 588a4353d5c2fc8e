"""Tables. Schemas for the API live elsewhere; these are only what is stored."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from upphandla.store.types import JSONDoc, UTCDateTime

Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class DefinitionRow(Base):
    __tablename__ = "definitions"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_definitions_key_version"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    checksum: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(40))
    organisation: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    mandate: Mapped[str | None] = mapped_column(String(64))  # id in the delegation order
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SanctionsListRow(Base):
    """A loaded sanctions list file: its date, checksum and where it came from."""

    __tablename__ = "sanctions_lists"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    list_date: Mapped[date] = mapped_column(Date)
    checksum: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(500))
    entries: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ThresholdAmountRow(Base):
    """One amount of a threshold series (the direct-award limit, an EU threshold) with its
    period and source, as an administrator entered it; never edited, a new period is a new row."""

    __tablename__ = "threshold_amounts"
    __table_args__ = (
        UniqueConstraint("series", "effective_from", name="uq_threshold_amounts_series_from"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    series: Mapped[str] = mapped_column(String(64))
    effective_from: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    amount_sek: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(500))
    entered_by: Mapped[str] = mapped_column(String(200))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SanctionsEntryRow(Base):
    __tablename__ = "sanctions_entries"
    __table_args__ = (Index("ix_sanctions_entries_key", "list_id", "match_key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("sanctions_lists.id"))
    name: Mapped[str] = mapped_column(String(500))
    match_key: Mapped[str] = mapped_column(String(500))  # normalised name, see flows.sanctions
    identifier: Mapped[str | None] = mapped_column(String(100))  # e.g. organisation number
    country: Mapped[str | None] = mapped_column(String(100))
    reference: Mapped[str | None] = mapped_column(String(200))


class CaseRow(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_next_due_at", "next_due_at"),
        Index("ix_cases_next_sweep_at", "next_sweep_at", "id"),
        Index("ix_cases_state", "state"),
        Index("ix_cases_subcategory", "subcategory"),
        Index("ix_cases_organisation", "organisation"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    definition_key: Mapped[str] = mapped_column(String(64))
    definition_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200))
    subcategory: Mapped[str] = mapped_column(String(64))
    route: Mapped[str] = mapped_column(String(40))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    phase_entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the sweep must next look at the case (a reminder, an escalation, a timer, a re-check).
    next_sweep_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    audit_seq: Mapped[int] = mapped_column(Integer, default=0)
    audit_head: Mapped[str] = mapped_column(String(64))
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    # The evidence its gates read, in recording order: [kind, data, recorded_at, by, role] per
    # record. A projection of the evidence table kept in the same transaction, so that a change
    # of the case reads one row.
    evidence_log: Mapped[list[Any]] = mapped_column(JSONDoc, server_default=text("'[]'"))
    # The case's upphandlare, as named by the assignment evidence (the access policy).
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class EvidenceRow(Base):
    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_case_id", "case_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    phase: Mapped[str] = mapped_column(String(64))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    audit_seq: Mapped[int] = mapped_column(Integer)
    # Sealed evidence (a bid) is hidden until the evidence that unseals it; its audit_seq is in
    # the case's sealed chain.
    sealed: Mapped[bool] = mapped_column(default=False, server_default=text("false"))


class CaseChainEvent:
    """The columns of an event in a case's hash chain (store.audit): `body` is the canonical JSON
    that `hash` covers; the other columns index it."""

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    log_index: Mapped[int | None] = mapped_column(BigInteger)  # place in the global log (0009)


class AuditEventRow(CaseChainEvent, Base):
    """The case chains; append-only (guarded by triggers, migration 0001)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_audit_case_seq"),
        Index("ix_audit_events_actor", "actor_id", "case_id"),
        Index("uq_audit_events_log_index", "log_index", unique=True),
    )


class OutboxRow(Base):
    """A message to send, written in the same transaction as the event that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    template: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[list[str]] = mapped_column(JSONDoc)
    context: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReminderRow(Base):
    """One reminder or escalation decided by the sweep. The unique key (case, deadline, kind,
    threshold) is what makes the sweep idempotent, however often or concurrently it runs."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("case_id", "deadline_key", "kind", "threshold", name="uq_reminders_key"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    deadline_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # reminder | escalation
    threshold: Mapped[int] = mapped_column(Integer)  # days before; working days after
    due_on: Mapped[date] = mapped_column(Date)
    planned_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # queued | skipped | no_recipients
    recipients: Mapped[list[str]] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FindingRow(Base):
    """A gate that no longer holds on a running case, found by a re-check. At most one open
    finding per (case, key); closing it sets `closed_at`."""

    __tablename__ = "findings"
    __table_args__ = (
        Index("ix_findings_case", "case_id"),
        Index(
            "uq_findings_open",
            "case_id",
            "key",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CalendarFeedRow(Base):
    """A personal calendar feed: only the secret's hash is kept; revoking sets `revoked_at`."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (Index("ix_calendar_feeds_user", "user_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SealedEventRow(CaseChainEvent, Base):
    """The audit events of a case's sealed evidence (bids, and every read of them before the
    award decision): a hash chain of its own, so that the case's chain shows no trace of them."""

    __tablename__ = "sealed_events"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_sealed_case_seq"),
        Index("uq_sealed_events_log_index", "log_index", unique=True),
    )


class SealedHeadRow(Base):
    """The head of a case's sealed chain, so that a truncated tail shows."""

    __tablename__ = "sealed_heads"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    head: Mapped[str] = mapped_column(String(64))


class TokenRow(Base):
    """A named access token of a user: only its SHA-256 is kept. It stops working when it
    expires, when it is revoked (`revoked_at`), or when its user is disabled."""

    __tablename__ = "tokens"
    __table_args__ = (Index("ix_tokens_user", "user_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SystemEventRow(Base):
    """Append-only, one hash chain of administrative acts (users, tokens, definitions, sanctions
    lists, threshold amounts). `body` is the canonical JSON that `hash` covers."""

    __tablename__ = "system_events"
    __table_args__ = (Index("uq_system_events_log_index", "log_index", unique=True),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: the chain outlives rows
    actor_name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    log_index: Mapped[int | None] = mapped_column(BigInteger)  # place in the global log (0009)


class SystemChainRow(Base):
    """The head of the system chain (one row, id 1): its last sequence number and hash, so that
    a cut tail shows as a mismatch."""

    __tablename__ = "system_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    head: Mapped[str] = mapped_column(String(64))


class LogHeadRow(Base):
    """The head of the global log over every chain (one row, id 1): its size, the place the
    next event gets. Appending holds this row until the transaction ends, so places are given in
    the order events are committed, with no gaps."""

    __tablename__ = "log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)


class IdempotencyKeyRow(Base):
    """The first response to a POST sent with an `Idempotency-Key`, per user and key, written in
    the same transaction as the change: a retry with the same key and request gets it again.
    `body` is None when the response carried a secret that is shown only once."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of method, path and body
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
