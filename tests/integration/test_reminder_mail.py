"""Reminders and escalations delivered as configured (deliver_with_settings and `upphandla
outbox deliver`) to a real SMTP server on loopback (aiosmtpd): recipients, subject, the text and
HTML parts, and a `frist.ics` that parses back to the deadline's all-day event."""

from __future__ import annotations

import itertools
import socket
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
from freezegun import freeze_time
from sqlalchemy import select
from typer.testing import CliRunner

from helpers import orm_session
from reminder_samples import escalation_context, reminder_context
from upphandla.cli.outbox import outbox_app
from upphandla.flows.handler import Handler
from upphandla.flows.jobs.delivery import DeliveryReport, deliver_with_settings
from upphandla.flows.settings import get_settings
from upphandla.notifications.render import render
from upphandla.notifications.smtp import SmtpConfigError
from upphandla.store.db import Database
from upphandla.store.models import OutboxRow
from upphandla.store.uow import UnitOfWork

T0 = datetime(2026, 12, 3, 6, 0, tzinfo=timezone.utc)
BASE_URL = "https://upphandla.testkommunen.se"
DOMAIN = "testkommunen.se"
SENDER = "upphandla@testkommunen.se"
CASE_URL = f"{BASE_URL}/arenden/12"
UID = f"case-12-phase-ssa-2026-11-02@{DOMAIN}"
SUMMARY = "Systemsäkerhetsanalys ska vara klar – ärende 12 Verksamhetssystem för hemtjänst"
OWNER = ["bestallare@example.se"]
ESCALATED = ["bestallare@example.se", "kategoriledare@example.se"]
_numbers = itertools.count(1)


# -- a real SMTP server on loopback ----------------------------------------------------------------


@dataclass
class Inbox:
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 2.0.0 Mottaget"


@dataclass
class Smtp:
    port: int
    inbox: Inbox

    @property
    def env(self) -> dict[str, str]:
        return {
            "UPPHANDLA_SMTP_HOST": "127.0.0.1",
            "UPPHANDLA_SMTP_PORT": str(self.port),
            "UPPHANDLA_SMTP_SECURITY": "none",
            "UPPHANDLA_SMTP_SENDER": SENDER,
            "UPPHANDLA_MAIL_DOMAIN": DOMAIN,
            "UPPHANDLA_BASE_URL": BASE_URL,
        }


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Smtp]:
    """An SMTP server on a free loopback port, and the environment pointing at it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    server = Smtp(port, inbox)
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        yield server
    finally:
        controller.stop()
        get_settings.cache_clear()


def frozen(at: datetime) -> Any:
    return freeze_time(at, ignore=["upphandla.states.evidence"], real_asyncio=True)


def queue(db: Database, template: str, context: dict[str, Any], recipients: list[str]) -> int:
    with UnitOfWork(db) as uow:
        uow.outbox.add(
            dedupe_key=f"test:{next(_numbers)}",
            case_id=None,
            template=template,
            recipients=recipients,
            context=context,
            at=T0,
        )
        uow.commit()
    with orm_session(db, commit=False) as session:
        return int(session.scalar(select(OutboxRow.id).order_by(OutboxRow.id.desc()).limit(1)))


def row_state(db: Database, row_id: int) -> tuple[str, int]:
    with orm_session(db, commit=False) as session:
        row = session.get(OutboxRow, row_id)
        assert row is not None
        return row.state, row.attempts


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    return str(part.get_content()).replace("\r\n", "\n")


def attached_event(message: EmailMessage) -> icalendar.Event:
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = list(message.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "PUBLISH"
    assert attachment.get_filename() == "frist.ics"
    payload = attachment.get_payload(decode=True)
    assert isinstance(payload, bytes)
    calendar = icalendar.Calendar.from_ical(payload)
    assert str(calendar["method"]) == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    return event


def assert_the_deadline_event(event: icalendar.Event) -> None:
    assert event.decoded("dtstart") == date(2026, 12, 17)
    assert not isinstance(event.decoded("dtstart"), datetime)
    assert event.decoded("dtend") == date(2026, 12, 18)
    assert str(event["uid"]) == UID
    assert str(event["summary"]) == SUMMARY
    assert str(event["url"]) == CASE_URL
    assert "Att göra: Gör klart det som krävs" in str(event["description"])
    assert "Källa: Processdefinitionens måltider" in str(event["description"])
    [alarm] = event.walk("VALARM")
    assert alarm.decoded("trigger") == -timedelta(hours=15)


# -- what arrives -----------------------------------------------------------------------------------


def test_a_reminder_arrives_with_subject_text_html_and_the_deadline_in_frist_ics(
    db: Database, smtp: Smtp
) -> None:
    context = reminder_context()
    with frozen(T0):
        row_id = queue(db, "deadline_reminder", context, OWNER)
        assert deliver_with_settings(Handler.on(db)) == DeliveryReport(sent=1)

    [(rcpt_tos, message)] = smtp.inbox.messages
    assert rcpt_tos == OWNER
    assert message["To"] == OWNER[0]
    assert message["From"] == SENDER
    assert message["Message-ID"] == f"<outbox-{row_id}@{DOMAIN}>"
    expected = render("deadline_reminder", context, base_url=BASE_URL)
    assert message["Subject"] == expected.subject
    assert message["Subject"] == (
        "Påminnelse: Systemsäkerhetsanalys ska vara klar senast 2026-12-17 "
        "(ärende 12 Verksamhetssystem för hemtjänst)"
    )
    text, html = body(message, "plain"), body(message, "html")
    assert text == expected.text
    assert html == expected.html
    assert "går ut 2026-12-17,\nom 14 dagar." in text
    assert "- SSA ska vara godkänd av informationssäkerhetssamordnaren (källa: § 9.2.9)" in text
    assert f"Se ärendet: {CASE_URL}" in text
    assert f'<a href="{CASE_URL}">Se ärendet</a>' in html
    assert "<strong>om 14 dagar</strong>" in html

    event = attached_event(message)
    assert_the_deadline_event(event)
    assert event.decoded("dtstamp") == T0
    assert row_state(db, row_id) == ("sent", 1)


def test_an_escalation_arrives_overdue_and_escalated_with_the_same_calendar_event(
    db: Database, smtp: Smtp
) -> None:
    context = escalation_context()
    with frozen(T0 + timedelta(days=19)):
        queue(db, "deadline_escalation", context, ESCALATED)
        assert deliver_with_settings(Handler.on(db)) == DeliveryReport(sent=1)

    [(rcpt_tos, message)] = smtp.inbox.messages
    assert rcpt_tos == ESCALATED
    assert message["To"] == ", ".join(ESCALATED)
    assert message["Subject"] == (
        "Eskalerat: försenad frist – Systemsäkerhetsanalys ska vara klar (2026-12-17), "
        "ärende 12 Verksamhetssystem för hemtjänst"
    )
    text, html = body(message, "plain"), body(message, "html")
    assert text == render("deadline_escalation", context, base_url=BASE_URL).text
    assert "gick ut 2026-12-17.\nÄrendet är 5 dagar försenat." in text
    assert "Ärendet har eskalerats till: Kategoriledare IT & Telekom" in text
    assert "eskalerats till: <strong>Kategoriledare IT &amp; Telekom</strong>" in html
    assert f'<a href="{CASE_URL}">Se ärendet</a>' in html
    assert_the_deadline_event(attached_event(message))


def test_other_messages_in_the_same_pass_get_no_calendar_attachment(
    db: Database, smtp: Smtp
) -> None:
    advanced = {
        "case_id": 7,
        "case_title": "Ekonomisystem",
        "trigger": "cancel",
        "from_phase": "Förstudie",
        "to_phase": "Avbrutet",
        "actor": "Olle Upphandlare",
        "comment": None,
    }
    with frozen(T0):
        queue(db, "case_advanced", advanced, OWNER)
        queue(db, "deadline_reminder", reminder_context(), ESCALATED)
        assert deliver_with_settings(Handler.on(db)) == DeliveryReport(sent=2)
    by_template = {str(m["Subject"]).split(":")[0]: m for _, m in smtp.inbox.messages}
    assert by_template["Ärende 7 Ekonomisystem"].get_content_type() == "multipart/alternative"
    assert_the_deadline_event(attached_event(by_template["Påminnelse"]))


# -- settings ---------------------------------------------------------------------------------------


def test_unusable_mail_settings_are_refused_in_swedish_before_anything_is_claimed(
    db: Database, smtp: Smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    with frozen(T0):
        row_id = queue(db, "deadline_reminder", reminder_context(), OWNER)
        monkeypatch.setenv("UPPHANDLA_SMTP_PORT", "inte-en-port")
        with pytest.raises(SmtpConfigError, match=r"^Ogiltiga e-postinställningar: "):
            deliver_with_settings(Handler.on(db))
        monkeypatch.setenv("UPPHANDLA_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("UPPHANDLA_SMTP_USERNAME", "upphandla")
        with pytest.raises(SmtpConfigError, match="kräver en krypterad förbindelse"):
            deliver_with_settings(Handler.on(db))
    assert row_state(db, row_id) == ("pending", 0)
    with orm_session(db, commit=False) as session:
        row = session.get(OutboxRow, row_id)
        assert row is not None and row.next_attempt_at == T0  # not leased
    assert smtp.inbox.messages == []


def outbox_cli(db_url: str, env: dict[str, str]) -> Any:
    root = typer.Typer()
    root.add_typer(outbox_app, name="outbox")
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(
            root, ["outbox", "deliver"], env={"UPPHANDLA_DATABASE_URL": db_url, **env}
        )
    finally:
        get_settings.cache_clear()


def test_the_deliver_command_sends_reminders_with_their_calendar_attachment(
    db: Database, db_url: str, smtp: Smtp
) -> None:
    with frozen(T0):
        queue(db, "deadline_reminder", reminder_context(), OWNER)
        refused = outbox_cli(db_url, {**smtp.env, "UPPHANDLA_SMTP_PORT": "0"})
        assert refused.exit_code == 2
        assert "Ogiltiga e-postinställningar: UPPHANDLA_SMTP_PORT." in refused.output
        done = outbox_cli(db_url, smtp.env)
    assert done.exit_code == 0, done.output
    assert "1 skickade, 0 försöks igen senare, 0 gav upp" in done.stdout
    [(rcpt_tos, message)] = smtp.inbox.messages
    assert rcpt_tos == OWNER
    assert_the_deadline_event(attached_event(message))
