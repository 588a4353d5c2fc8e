"""A line break in a case title (CR, LF, U+2028 …) neither makes the case's e-mail undeliverable
nor adds a header: the message arrives at a real SMTP server on loopback (aiosmtpd) with a
one-line subject, only to its recipients."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from freezegun import freeze_time

from helpers import User, run, start
from upphandla.flows.commands.cases import Cancel
from upphandla.flows.handler import Handler
from upphandla.flows.jobs.delivery import deliver_due
from upphandla.notifications.message import header_text
from upphandla.notifications.smtp import SmtpConfig
from upphandla.store.db import Database

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
SENDER = "upphandla@testkommunen.se"
TITLE = "Verksamhetssystem\r\nBcc: angripare@example.com\u2028X-Extra: ja\nför\u2029hemtjänsten"
ONE_LINE = "Verksamhetssystem Bcc: angripare@example.com X-Extra: ja för hemtjänsten"
RECIPIENTS = ["bestallare@example.se", "kategoriledare@example.se"]


@dataclass
class Inbox:
    messages: list[tuple[list[str], bytes, EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), envelope.content, parsed))
        return "250 2.0.0 Mottaget"


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpConfig, Inbox]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpConfig(host="127.0.0.1", port=port, security="none", sender=SENDER), inbox
    finally:
        controller.stop()


def test_a_title_with_line_breaks_arrives_with_a_one_line_subject_and_no_extra_header(
    db: Database, users: dict[str, User], smtp: tuple[SmtpConfig, Inbox]
) -> None:
    config, inbox = smtp
    with freeze_time(T0, ignore=["upphandla.states.evidence"], real_asyncio=True):
        case_id = start(db, users["bestallare"], title=TITLE)
        run(db, Cancel(actor=users["upphandlare"].actor, case_id=case_id, reason="Behovet borta."))
        report = deliver_due(
            Handler.on(db),
            config=config,
            base_url="https://upphandla.testkommunen.se",
            domain="testkommunen.se",
        )

    assert (report.sent, report.retried, report.dead) == (1, 0, 0), report
    [(rcpt_tos, raw, message)] = inbox.messages
    assert sorted(rcpt_tos) == RECIPIENTS
    assert message["Subject"] == f"Ärende {case_id} {ONE_LINE}: Avbrutet"
    assert "Bcc" not in message and "X-Extra" not in message
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert not any(
        line.lower().startswith((b"bcc:", b"x-extra:")) for line in headers.split(b"\r\n")
    )


@pytest.mark.parametrize(
    ("given", "header"),
    [
        ("Ärende 1 Verksamhetssystem: Avbrutet", "Ärende 1 Verksamhetssystem: Avbrutet"),
        ("a\r\nb", "a b"),
        ("a\rb\nc", "a b c"),
        ("a\u2028b\u2029c\x85d", "a b c d"),
        ("a\x0bb\x0cc\x00d\x1be", "a b c d e"),
        ("  a \t\t b  ", "a b"),
    ],
)
def test_header_text_is_one_line(given: str, header: str) -> None:
    assert header_text(given) == header
