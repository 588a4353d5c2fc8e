"""Building the e-mail for one outbox row, without side effects.

The Message-ID is derived from the outbox row's id, so a message sent again after a crash
between sending and marking it sent (delivery is at least once) carries the same Message-ID
and mail clients and servers can recognise it as the same message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from upphandla.notifications.render import Rendered

ICS_FILENAME = "frist.ics"
# Whatever ends a line anywhere (CR, LF, VT, FF, NEL, U+2028, U+2029; str.splitlines' set), the
# other control characters, and runs of white space: one space in a header.
_NOT_ONE_LINE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def header_text(value: str) -> str:
    """`value` as the text of one header line: a line break in a case title must neither make
    the message impossible to build (Python refuses CR and LF in a header) nor add a header of
    its own."""
    return _NOT_ONE_LINE.sub(" ", value).strip()


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
    msg["Subject"] = header_text(rendered.subject)
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
