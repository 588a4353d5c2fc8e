"""Building the e-mail for one outbox row, without side effects.

The Message-ID is derived from the outbox row's id, so a message sent again after a crash
between sending and marking it sent (delivery is at least once) carries the same Message-ID
and mail clients and servers can recognise it as the same message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from upphandla.notifications.render import Rendered

ICS_FILENAME = "frist.ics"


def message_id(row_id: int, domain: str) -> str:
    return f"<outbox-{row_id}@{domain}>"


def build_message(
    *,
    row_id: int,
    recipients: Sequence[str],
    rendered: Rendered,
    sender: str,
    domain: str,
    ics: bytes | None = None,
    date: datetime | None = None,
) -> EmailMessage:
    """multipart/alternative with the text and the HTML; inside multipart/mixed with a
    `text/calendar; method=PUBLISH` attachment `frist.ics` when `ics` is given. `date` (aware)
    sets the Date header; the sending server adds one when it is missing."""
    if not recipients:
        raise ValueError("a message needs at least one recipient")
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Message-ID"] = message_id(row_id, domain)
    if date is not None:
        msg["Date"] = format_datetime(date)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    # quoted-printable keeps the Swedish letters 7-bit clean for any relay on the way
    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    if ics is not None:
        msg.add_attachment(
            ics,
            maintype="text",
            subtype="calendar",
            filename=ICS_FILENAME,
            params={"method": "PUBLISH", "charset": "utf-8"},
        )
    return msg
