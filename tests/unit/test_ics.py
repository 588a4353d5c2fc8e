"""A reminder's calendar attachment parses back with icalendar: one all-day event on the due
date, a UID that stays the same for the same deadline, what to do and why, a link and an
alarm the day before."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import icalendar
import pytest
from freezegun import freeze_time

from reminder_samples import reminder_context, with_deadline
from upphandla.notifications.ics import calendar_bytes, deadline_event, event_uid, ics_for
from upphandla.states.deadlines import Deadline

DOMAIN = "testkommunen.se"
BASE_URL = "https://upphandla.testkommunen.se/"
T0 = datetime(2026, 12, 3, 6, 0, tzinfo=timezone.utc)


def parse(data: bytes) -> icalendar.Calendar:
    assert isinstance(data, bytes)
    return icalendar.Calendar.from_ical(data)


def test_a_reminder_attachment_is_one_all_day_event_on_the_due_date() -> None:
    with freeze_time(T0):
        data = ics_for("deadline_reminder", reminder_context(), domain=DOMAIN, base_url=BASE_URL)
    assert data is not None
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    calendar = parse(data)
    assert str(calendar["version"]) == "2.0"
    assert str(calendar["method"]) == "PUBLISH"
    assert "upphandla" in str(calendar["prodid"])
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == date(2026, 12, 17)
    assert not isinstance(event.decoded("dtstart"), datetime)  # a DATE: all day
    assert event["dtstart"].params["VALUE"] == "DATE"
    assert event.decoded("dtend") == date(2026, 12, 18)
    assert event.decoded("dtstamp") == T0
    assert str(event["uid"]) == "case-12-phase-ssa-2026-11-02@testkommunen.se"
    assert str(event["summary"]) == (
        "Systemsäkerhetsanalys ska vara klar – ärende 12 Verksamhetssystem för hemtjänst"
    )
    assert str(event["url"]) == "https://upphandla.testkommunen.se/arenden/12"
    assert str(event["transp"]) == "TRANSPARENT"
    description = str(event["description"])
    assert description.splitlines() == [
        "Ärende 12: Verksamhetssystem för hemtjänst",
        "Frist: Systemsäkerhetsanalys ska vara klar",
        "Att göra: Gör klart det som krävs för att lämna fasen Systemsäkerhetsanalys.",
        "– SSA ska vara godkänd av informationssäkerhetssamordnaren (§ 9.2.9)",
        "Varför: Kommunens mål är att fasen Systemsäkerhetsanalys är klar inom 45 dagar.",
        "Källa: Processdefinitionens måltider",
        "Ärendet: https://upphandla.testkommunen.se/arenden/12",
    ]
    [alarm] = event.walk("VALARM")
    assert str(alarm["action"]) == "DISPLAY"
    assert alarm.decoded("trigger") == -timedelta(hours=15)  # 09:00 the day before
    assert str(alarm["description"]).startswith("I morgon: Systemsäkerhetsanalys ska vara klar")


def test_the_escalation_carries_the_same_event_and_other_templates_none() -> None:
    reminder = ics_for("deadline_reminder", reminder_context(), domain=DOMAIN, base_url=BASE_URL)
    escalation = ics_for(
        "deadline_escalation", reminder_context(), domain=DOMAIN, base_url=BASE_URL
    )
    assert reminder is not None and escalation is not None
    [first] = parse(reminder).walk("VEVENT")
    [second] = parse(escalation).walk("VEVENT")
    assert str(first["uid"]) == str(second["uid"])
    assert first.decoded("dtstart") == second.decoded("dtstart")
    assert ics_for("case_advanced", reminder_context(), domain=DOMAIN, base_url=BASE_URL) is None


def test_the_uid_is_stable_per_case_and_deadline_key_and_safe_in_any_calendar() -> None:
    assert event_uid(12, "phase:ssa:2026-11-02", domain=DOMAIN) == event_uid(
        12, "phase:ssa:2026-11-02", domain=DOMAIN
    )
    assert event_uid(12, "phase:ssa:2026-11-02", domain=DOMAIN) != event_uid(
        13, "phase:ssa:2026-11-02", domain=DOMAIN
    )
    odd = event_uid(5, "extension_decision:2027-06-30 / ny text;x,y:2026-12-31", domain=DOMAIN)
    assert odd == "case-5-extension_decision-2027-06-30-ny-text-x-y-2026-12-31@testkommunen.se"
    assert event_uid(5, ":::", domain=DOMAIN) == "case-5-frist@testkommunen.se"


def test_an_update_of_the_same_deadline_key_keeps_its_uid_and_moves_the_event() -> None:
    before = ics_for("deadline_reminder", reminder_context(), domain=DOMAIN, base_url=BASE_URL)
    after = ics_for(
        "deadline_reminder", with_deadline(due_on="2026-12-21"), domain=DOMAIN, base_url=BASE_URL
    )
    assert before is not None and after is not None
    [old] = parse(before).walk("VEVENT")
    [new] = parse(after).walk("VEVENT")
    assert str(old["uid"]) == str(new["uid"])
    assert new.decoded("dtstart") == date(2026, 12, 21)


def test_special_characters_survive_the_round_trip() -> None:
    tricky = "Avtal; ”kommatecken”, snedstreck \\ och\nny rad <b>"
    data = ics_for(
        "deadline_reminder", with_deadline(title=tricky), domain=DOMAIN, base_url=BASE_URL
    )
    assert data is not None
    [event] = parse(data).walk("VEVENT")
    assert str(event["summary"]).startswith(tricky)
    assert f"Frist: {tricky}" in str(event["description"])


def test_a_deadline_of_the_domain_becomes_the_same_event_as_in_the_mail() -> None:
    deadline = Deadline(
        "phase",
        "ssa",
        "Systemsäkerhetsanalys ska vara klar",
        date(2026, 12, 17),
        key="phase:ssa:2026-11-02",
        action="Gör klart det som krävs för att lämna fasen Systemsäkerhetsanalys.",
        rule="Kommunens mål är att fasen Systemsäkerhetsanalys är klar inom 45 dagar.",
        source="Processdefinitionens måltider",
    )
    with freeze_time(T0):
        event = deadline_event(
            case_id=12,
            case_title="Verksamhetssystem för hemtjänst",
            deadline=deadline.as_dict(),
            domain=DOMAIN,
            base_url=BASE_URL,
        )
        feed = calendar_bytes([event], feed=True)
        mail = ics_for("deadline_reminder", reminder_context(), domain=DOMAIN, base_url=BASE_URL)
    assert mail is not None
    [from_feed] = parse(feed).walk("VEVENT")
    [from_mail] = parse(mail).walk("VEVENT")
    for name in ("uid", "summary", "url"):
        assert str(from_feed[name]) == str(from_mail[name])
    assert from_feed.decoded("dtstart") == from_mail.decoded("dtstart")
    calendar = parse(feed)
    assert str(calendar["x-wr-calname"]) == "Upphandla – mina frister"
    assert calendar.decoded("refresh-interval") == timedelta(hours=1)


@pytest.mark.parametrize("missing", ["key", "due_on", "title"])
def test_a_deadline_without_its_key_date_or_title_is_refused(missing: str) -> None:
    broken = reminder_context()
    del broken["deadline"][missing]
    with pytest.raises(KeyError):
        ics_for("deadline_reminder", broken, domain=DOMAIN, base_url=BASE_URL)
