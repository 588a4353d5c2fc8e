"""Delivering the outbox to a real SMTP server on loopback (aiosmtpd): what arrives, retries with
backoff while the server is down, giving up, putting a message back, and deliverers running at
the same time."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import icalendar
import pytest
import typer
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from freezegun import freeze_time
from sqlalchemy import select, text
from typer.testing import CliRunner, Result

from helpers import User, assert_problem, orm_session, run, start
from upphandla.api.app import create_app
from upphandla.api.routes_outbox import router as outbox_router
from upphandla.cli.outbox import outbox_app
from upphandla.flows.commands.cases import Cancel
from upphandla.flows.handler import Handler
from upphandla.flows.jobs.delivery import DeliveryReport, deliver_due
from upphandla.flows.registry import Registry
from upphandla.flows.settings import Settings, get_settings
from upphandla.flows.views.outbox import list_outbox
from upphandla.notifications.render import render
from upphandla.notifications.smtp import SmtpConfig, SmtpConfigError, describe_error
from upphandla.states.clock import now
from upphandla.states.roles import Actor
from upphandla.store.db import Database
from upphandla.store.models import OutboxRow
from upphandla.store.uow import UnitOfWork

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
BASE_URL = "https://upphandla.testkommunen.se"
DOMAIN = "testkommunen.se"
SENDER = "upphandla@testkommunen.se"
REASON = "Behovet täcks av samordnad upphandling i regionen."
CANCEL_RECIPIENTS = ["bestallare@example.se", "kategoriledare@example.se"]


def frozen(at: datetime) -> Any:
    """The clock stopped at `at`; the SMTP server's event loop keeps real time."""
    return freeze_time(at, ignore=["upphandla.states.evidence"], real_asyncio=True)


def after(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


# -- a real SMTP server on loopback ----------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Inbox:
    """aiosmtpd handler: keeps every accepted message, refuses the addresses in `refuse`, and can
    hold the first `rendezvous` messages until that many are being received at once."""

    messages: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    rendezvous: int = 0
    _arrived: int = 0
    _together: asyncio.Event | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, _: Any):
        if address in self.refuse:
            return "550 5.1.1 Mottagaren finns inte"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.rendezvous:
            self._together = self._together or asyncio.Event()
            self._arrived += 1
            if self._arrived >= self.rendezvous:
                self._together.set()
            else:
                await asyncio.wait_for(self._together.wait(), 20)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 2.0.0 Mottaget"

    def message_ids(self) -> Counter[str]:
        return Counter(str(m.message["Message-ID"]) for m in self.messages)


class SmtpServer:
    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.inbox = Inbox()
        self.config = SmtpConfig(
            host="127.0.0.1", port=self.port, security="none", sender=SENDER, timeout=30
        )
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()  # returns once the server answers

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


# -- outbox rows, from real cases or inserted --------------------------------------------------------


def cancelled_case(db: Database, users: dict[str, User]) -> int:
    """A case started by the beställare and cancelled: one message to its creator and the
    category lead."""
    case_id = start(db, users["bestallare"])
    run(db, Cancel(actor=users["upphandlare"].actor, case_id=case_id, reason=REASON))
    return case_id


def insert_messages(db: Database, count: int) -> None:
    at = now()
    with UnitOfWork(db) as uow:
        for n in range(count):
            uow.outbox.add(
                dedupe_key=f"test:{n}",
                case_id=None,
                template="case_advanced",
                recipients=[f"mottagare{n}@example.se"],
                context={
                    "case_id": 1000 + n,
                    "case_title": f"Ärende {n}",
                    "trigger": "cancel",
                    "from_phase": "Behovsanalys",
                    "to_phase": "Avbrutet",
                    "actor": "Testperson",
                    "comment": None,
                },
                at=at,
            )
        uow.commit()


def outbox_rows(db: Database) -> list[OutboxRow]:
    with orm_session(db, commit=False) as session:
        rows = list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
        session.expunge_all()  # plain values from here on
        return rows


def deliver(db: Database, smtp: SmtpServer, **options: Any) -> DeliveryReport:
    return deliver_due(
        Handler.on(db), config=smtp.config, base_url=BASE_URL, domain=DOMAIN, **options
    )


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    return str(part.get_content()).replace("\r\n", "\n")


# -- what arrives ---------------------------------------------------------------------------------


def test_a_cancelled_case_arrives_with_recipients_subject_both_parts_and_a_stable_message_id(
    db: Database, users: dict[str, User], smtp: SmtpServer
) -> None:
    with frozen(T0):
        case_id = cancelled_case(db, users)
        [row] = outbox_rows(db)
        assert (row.state, row.recipients, row.next_attempt_at) == (
            "pending",
            CANCEL_RECIPIENTS,
            T0,
        )
        assert deliver(db, smtp) == DeliveryReport(sent=1)

    [got] = smtp.inbox.messages
    assert got.mail_from == SENDER
    assert got.rcpt_tos == CANCEL_RECIPIENTS
    message = got.message
    expected = render("case_advanced", row.context, base_url=BASE_URL)
    assert message["Message-ID"] == f"<outbox-{row.id}@{DOMAIN}>"
    assert message["Subject"] == expected.subject
    assert message["Subject"].endswith(": Avbrutet")
    assert message["From"] == SENDER
    assert message["To"] == ", ".join(CANCEL_RECIPIENTS)
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"].datetime == T0
    assert message.get_content_type() == "multipart/alternative"
    assert body(message, "plain") == expected.text
    assert body(message, "html") == expected.html
    assert f"Motivering: {REASON}" in body(message, "plain")
    assert f'href="{BASE_URL}/arenden/{case_id}"' in body(message, "html")

    [sent] = outbox_rows(db)
    assert (sent.state, sent.sent_at, sent.attempts, sent.last_error) == ("sent", T0, 1, None)
    with frozen(after(3600)):
        assert deliver(db, smtp) == DeliveryReport()
    assert len(smtp.inbox.messages) == 1


def deadline_ics(template: str, context: dict[str, Any]) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Testkommunen//upphandla//SV")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"frist-{context['case_id']}@{DOMAIN}")
    event.add("dtstamp", T0)
    event.add("dtstart", date(2026, 3, 16))
    event.add("summary", f"Frist: {context['case_title']} – avtalsspärren löper ut")
    calendar.add_component(event)
    return calendar.to_ical()


def test_a_calendar_attachment_arrives_beside_the_text_and_html_and_parses_back(
    db: Database, users: dict[str, User], smtp: SmtpServer
) -> None:
    with frozen(T0):
        cancelled_case(db, users)
        [row] = outbox_rows(db)
        assert deliver(db, smtp, ics_for=deadline_ics) == DeliveryReport(sent=1)

    [got] = smtp.inbox.messages
    message = got.message
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = list(message.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    expected = render("case_advanced", row.context, base_url=BASE_URL)
    assert body(message, "plain") == expected.text
    assert body(message, "html") == expected.html

    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "PUBLISH"
    assert attachment.get_filename() == "frist.ics"
    assert attachment.get_content_disposition() == "attachment"
    payload = attachment.get_payload(decode=True)
    assert isinstance(payload, bytes)
    calendar = icalendar.Calendar.from_ical(payload)
    assert str(calendar["method"]) == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == date(2026, 3, 16)
    assert str(event["summary"]) == f"Frist: {row.context['case_title']} – avtalsspärren löper ut"
    assert str(event["uid"]) == f"frist-{row.context['case_id']}@{DOMAIN}"


def test_a_recipient_the_server_refuses_does_not_hold_back_the_others(
    db: Database, users: dict[str, User], smtp: SmtpServer
) -> None:
    smtp.inbox.refuse.add("kategoriledare@example.se")
    with frozen(T0):
        cancelled_case(db, users)
        assert deliver(db, smtp) == DeliveryReport(sent=1)
        assert deliver(db, smtp) == DeliveryReport()
    [got] = smtp.inbox.messages
    assert got.rcpt_tos == ["bestallare@example.se"]
    [row] = outbox_rows(db)
    assert row.state == "sent"
    assert row.last_error is not None
    assert "kategoriledare@example.se (550)" in row.last_error
    assert row.last_error.startswith("Mottagare avvisades av SMTP-servern")


# -- the server is down ------------------------------------------------------------------------------


def test_while_the_server_is_down_messages_wait_with_backoff_and_arrive_once_when_it_is_back(
    db: Database, users: dict[str, User], smtp: SmtpServer
) -> None:
    smtp.stop()
    with frozen(T0) as clock:
        first, second = cancelled_case(db, users), cancelled_case(db, users)
        ids = [r.id for r in outbox_rows(db)]
        assert [r.case_id for r in outbox_rows(db)] == [first, second]

        schedule = [  # (when, attempts afterwards, next attempt afterwards)
            (T0, 1, after(60)),
            (after(60), 2, after(60 + 120)),
            (after(180), 3, after(180 + 240)),
        ]
        for when, attempts, next_at in schedule:
            clock.move_to(when)
            assert deliver(db, smtp) == DeliveryReport(retried=2)
            rows = outbox_rows(db)
            assert [r.id for r in rows] == ids  # nothing lost
            for row in rows:
                assert (row.state, row.attempts, row.next_attempt_at) == (
                    "pending",
                    attempts,
                    next_at,
                )
                assert row.last_error is not None
                assert (
                    row.last_error == "Kunde inte ansluta till SMTP-servern: anslutningen nekades"
                )
            clock.move_to(next_at - timedelta(seconds=1))
            assert deliver(db, smtp) == DeliveryReport()  # not due yet
            assert [r.attempts for r in outbox_rows(db)] == [attempts, attempts]

        smtp.start()
        clock.move_to(after(420))
        assert deliver(db, smtp) == DeliveryReport(sent=2)
        clock.move_to(after(7200))
        assert deliver(db, smtp) == DeliveryReport()

    assert smtp.inbox.message_ids() == Counter({f"<outbox-{i}@{DOMAIN}>": 1 for i in ids})
    for row in outbox_rows(db):
        assert (row.state, row.attempts, row.sent_at) == ("sent", 4, after(420))


def test_a_crash_between_sending_and_marking_sends_again_with_the_same_message_id(
    db: Database, users: dict[str, User], smtp: SmtpServer
) -> None:
    opened = 0

    def crashing_after_the_claim(write: bool) -> UnitOfWork:
        nonlocal opened
        opened += 1
        if opened > 1:
            raise RuntimeError("the process died")
        return UnitOfWork(db, write=write)

    with frozen(T0) as clock:
        cancelled_case(db, users)
        [row] = outbox_rows(db)
        with pytest.raises(RuntimeError):
            deliver_due(
                Handler(crashing_after_the_claim),
                config=smtp.config,
                base_url=BASE_URL,
                domain=DOMAIN,
            )
        [leased] = outbox_rows(db)
        assert (leased.state, leased.attempts, leased.next_attempt_at) == ("pending", 0, after(300))
        clock.move_to(after(299))
        assert deliver(db, smtp) == DeliveryReport()  # still leased
        clock.move_to(after(300))
        assert deliver(db, smtp) == DeliveryReport(sent=1)

    assert smtp.inbox.message_ids() == Counter({f"<outbox-{row.id}@{DOMAIN}>": 2})
    assert outbox_rows(db)[0].state == "sent"


def test_a_batch_that_outlasts_half_its_lease_hands_the_rest_back_unsent(
    db: Database, smtp: SmtpServer
) -> None:
    with frozen(T0) as clock:
        insert_messages(db, 3)
        ids = [r.id for r in outbox_rows(db)]

        def slow(template: str, context: dict[str, Any]) -> None:
            clock.move_to(after(150))  # the first send took half the five-minute lease
            return None

        assert deliver(db, smtp, ics_for=slow) == DeliveryReport(sent=1)
        rows = outbox_rows(db)
        assert [(r.state, r.attempts) for r in rows] == [
            ("sent", 1),
            ("pending", 0),
            ("pending", 0),
        ]
        assert [r.next_attempt_at for r in rows[1:]] == [after(150), after(150)]
        assert deliver(db, smtp) == DeliveryReport(sent=2)
    assert smtp.inbox.message_ids() == Counter({f"<outbox-{i}@{DOMAIN}>": 1 for i in ids})


# -- giving up, listing, putting back --------------------------------------------------------------


@pytest.fixture
def api(db: Database, db_url: str, users: dict[str, User]) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=db_url), db)
    if not any(getattr(route, "path", None) == "/api/outbox" for route in app.routes):
        app.include_router(outbox_router)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def outbox_cli(*args: str, db_url: str, smtp: SmtpServer | None = None) -> Result:
    root = typer.Typer()
    root.add_typer(outbox_app, name="outbox")
    env = {"UPPHANDLA_DATABASE_URL": db_url, "UPPHANDLA_BASE_URL": BASE_URL}
    if smtp is not None:
        env |= {
            "UPPHANDLA_SMTP_HOST": "127.0.0.1",
            "UPPHANDLA_SMTP_PORT": str(smtp.port),
            "UPPHANDLA_SMTP_SECURITY": "none",
            "UPPHANDLA_SMTP_SENDER": SENDER,
            "UPPHANDLA_MAIL_DOMAIN": DOMAIN,
        }
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(root, ["outbox", *args], env=env)
    finally:
        get_settings.cache_clear()


def test_after_max_attempts_a_message_is_dead_listed_and_can_be_put_back(
    db: Database, db_url: str, users: dict[str, User], smtp: SmtpServer, api: TestClient
) -> None:
    smtp.stop()
    options = {"max_attempts": 3, "backoff_base_seconds": 60, "backoff_max_seconds": 100}
    with frozen(T0) as clock:
        case_id = cancelled_case(db, users)
        [row] = outbox_rows(db)
        assert deliver(db, smtp, **options) == DeliveryReport(retried=1)
        assert outbox_rows(db)[0].next_attempt_at == after(60)
        clock.move_to(after(60))
        assert deliver(db, smtp, **options) == DeliveryReport(retried=1)
        assert outbox_rows(db)[0].next_attempt_at == after(160)  # 120 s, capped at 100 s
        clock.move_to(after(160))
        assert deliver(db, smtp, **options) == DeliveryReport(dead=1)
        clock.move_to(after(86_400))
        assert deliver(db, smtp, **options) == DeliveryReport()  # dead rows are not tried

    [dead] = outbox_rows(db)
    assert (dead.state, dead.attempts, dead.sent_at) == ("dead", 3, None)
    seen_by = {"registry": Registry(), "actor": Actor.system()}
    with UnitOfWork(db, write=False) as uow:
        assert [r.id for r in list_outbox(uow, state="dead", **seen_by).items] == [row.id]
        assert list_outbox(uow, state="pending", **seen_by).total == 0
        assert list_outbox(uow, **seen_by).total == 1

    # The message is about a case: the controller, who reads every case, sees it.
    listed = api.get("/api/outbox", params={"state": "dead"}, headers=users["controller"].headers)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 50, 0)
    [item] = page["items"]
    assert item["id"] == row.id
    assert item["case_id"] == case_id
    assert (item["template"], item["recipients"]) == ("case_advanced", CANCEL_RECIPIENTS)
    assert (item["state"], item["attempts"], item["sent_at"]) == ("dead", 3, None)
    assert item["last_error"] == "Kunde inte ansluta till SMTP-servern: anslutningen nekades"
    assert datetime.fromisoformat(item["created_at"]) == T0
    assert datetime.fromisoformat(item["next_attempt_at"]) == after(160)
    for role in ("controller", "kategoriledare"):
        assert api.get("/api/outbox", headers=users[role].headers).json()["total"] == 1
    pending = api.get("/api/outbox?state=pending", headers=users["controller"].headers)
    assert pending.json()["items"] == []
    refused = api.get("/api/outbox", headers=users["bestallare"].headers)
    assert assert_problem(refused, 403)["type"].endswith(":forbidden_role")
    assert "läsa utkorgen" in refused.json()["detail"]
    assert_problem(api.get("/api/outbox?state=borta", headers=users["admin"].headers), 422)
    assert_problem(api.get("/api/outbox"), 401)

    missing = outbox_cli("retry", str(row.id + 1000), db_url=db_url)
    assert missing.exit_code == 1
    assert f"Meddelande {row.id + 1000} finns inte i utkorgen." in missing.output

    smtp.start()
    with frozen(after(90_000)):
        put_back = outbox_cli("retry", str(row.id), db_url=db_url)
        assert put_back.exit_code == 0, put_back.output
        assert f"Meddelande {row.id}" in put_back.stdout
        assert "står i kön igen" in put_back.stdout
        again = outbox_cli("retry", str(row.id), db_url=db_url)
        assert again.exit_code == 1
        assert "har läget ”väntar”" in again.output
        [pending_row] = outbox_rows(db)
        assert (pending_row.state, pending_row.attempts) == ("pending", 0)
        assert pending_row.next_attempt_at == after(90_000)

        delivered = outbox_cli("deliver", db_url=db_url, smtp=smtp)
        assert delivered.exit_code == 0, delivered.output
        assert "1 skickade, 0 försöks igen senare, 0 gav upp" in delivered.stdout

    assert smtp.inbox.message_ids() == Counter({f"<outbox-{row.id}@{DOMAIN}>": 1})
    assert outbox_rows(db)[0].sent_at == after(90_000)
    sent_again = outbox_cli("retry", str(row.id), db_url=db_url)
    assert sent_again.exit_code == 1
    assert "har läget ”skickat”" in sent_again.output


# -- deliverers at the same time ----------------------------------------------------------------------


def test_two_deliverers_at_once_send_every_message_exactly_once(
    db: Database, smtp: SmtpServer
) -> None:
    insert_messages(db, 40)
    smtp.inbox.rendezvous = 2  # both deliverers are sending before either first send completes
    start_together = threading.Barrier(2)
    reports: dict[str, list[DeliveryReport]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def deliverer(name: str) -> None:
        try:
            start_together.wait(timeout=30)
            while True:
                report = deliver(db, smtp, batch_size=5)
                if report == DeliveryReport():
                    return
                reports[name].append(report)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=deliverer, args=(name,)) for name in reports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []

    ids = [r.id for r in outbox_rows(db)]
    assert smtp.inbox.message_ids() == Counter({f"<outbox-{i}@{DOMAIN}>": 1 for i in ids})
    assert all(r.state == "sent" and r.attempts == 1 for r in outbox_rows(db))
    per_deliverer = {name: sum(r.sent for r in done) for name, done in reports.items()}
    assert sum(per_deliverer.values()) == 40
    assert all(count > 0 for count in per_deliverer.values()), per_deliverer
    assert all(r.retried == r.dead == 0 for done in reports.values() for r in done)


class ImpatientUnitOfWork(UnitOfWork):
    """Gives up on a row lock after a second instead of waiting for it."""

    def __enter__(self) -> ImpatientUnitOfWork:
        super().__enter__()
        assert self._conn is not None
        self._conn.execute(text("SET LOCAL lock_timeout = '1s'"))
        return self


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_deliverer_skips_rows_another_one_has_locked(db: Database, smtp: SmtpServer) -> None:
    insert_messages(db, 4)
    ids = [r.id for r in outbox_rows(db)]
    with db.writer.connect() as other, other.begin():  # another deliverer, mid-claim
        other.execute(
            text("SELECT id FROM outbox WHERE id IN (:a, :b) FOR UPDATE"),
            {"a": ids[0], "b": ids[1]},
        )
        report = deliver_due(
            Handler(lambda write: ImpatientUnitOfWork(db, write=write)),
            config=smtp.config,
            base_url=BASE_URL,
            domain=DOMAIN,
        )
        assert report == DeliveryReport(sent=2)
    assert smtp.inbox.message_ids() == Counter({f"<outbox-{i}@{DOMAIN}>": 1 for i in ids[2:]})
    assert [r.state for r in outbox_rows(db)] == ["pending", "pending", "sent", "sent"]
    assert deliver(db, smtp) == DeliveryReport(sent=2)
    assert smtp.inbox.message_ids() == Counter({f"<outbox-{i}@{DOMAIN}>": 1 for i in ids})


# -- settings and errors -----------------------------------------------------------------------------


def test_a_login_is_never_sent_unencrypted_and_errors_keep_the_password_out() -> None:
    with pytest.raises(SmtpConfigError, match="kräver en krypterad förbindelse"):
        SmtpConfig(
            host="smtp.example.se",
            port=25,
            security="none",
            sender=SENDER,
            username="upphandla",
            password="hemligt-lösen",
        )
    config = SmtpConfig(
        host="smtp.example.se",
        port=587,
        security="starttls",
        sender=SENDER,
        username="upphandla",
        password="hemligt-lösen",
    )
    assert "hemligt" not in repr(config)
    described = describe_error(
        RuntimeError("servern sade: hemligt-lösen " + "x" * 1000), secrets=(config.password,)
    )
    assert "hemligt" not in described
    assert len(described) <= 300
