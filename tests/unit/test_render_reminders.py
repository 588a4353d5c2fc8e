"""The reminder and escalation e-mails name the case, the deadline, what must be done and why,
link to the case, escape HTML and refuse a context with a value missing."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jinja2 import UndefinedError

from reminder_samples import RULE, escalation_context, reminder_context
from upphandla.notifications.render import Rendered, render

BASE_URL = "https://upphandla.example.se/"
CASE_URL = "https://upphandla.example.se/arenden/12"


def both(rendered: Rendered) -> list[str]:
    return [rendered.text, rendered.html]


def test_a_reminder_names_the_case_the_deadline_what_to_do_why_and_links_to_the_case() -> None:
    out = render("deadline_reminder", reminder_context(), base_url=BASE_URL)
    assert out.subject == (
        "Påminnelse: Systemsäkerhetsanalys ska vara klar senast 2026-12-17 "
        "(ärende 12 Verksamhetssystem för hemtjänst)"
    )
    assert "\n" not in out.subject
    assert "går ut 2026-12-17,\nom 14 dagar." in out.text
    assert "om 14 dagar" in out.html
    for part in both(out):
        assert "12 ”Verksamhetssystem för hemtjänst”" in part
        assert "Systemsäkerhetsanalys ska vara klar, senast 2026-12-17" in part
        assert "Gör klart det som krävs för att lämna fasen Systemsäkerhetsanalys." in part
        assert "SSA ska vara godkänd av informationssäkerhetssamordnaren" in part
        assert "källa: § 9.2.9" in part
        assert RULE in part
        assert "källa: Processdefinitionens måltider" in part
        assert "eskalerat" not in part.lower()
    assert f"Se ärendet: {CASE_URL}" in out.text
    assert f'<a href="{CASE_URL}">Se ärendet</a>' in out.html


@pytest.mark.parametrize(("days_left", "when"), [(0, "i dag"), (1, "i morgon"), (7, "om 7 dagar")])
def test_a_reminder_says_how_long_is_left(days_left: int, when: str) -> None:
    reminder = {
        "kind": "reminder",
        "threshold": days_left,
        "planned_on": "x",
        "days_left": days_left,
    }
    out = render("deadline_reminder", reminder_context(reminder=reminder), base_url=BASE_URL)
    assert f"går ut 2026-12-17,\n{when}." in out.text
    assert f"<strong>{when}</strong>" in out.html


def test_a_reminder_without_blocking_items_leaves_the_list_out() -> None:
    out = render("deadline_reminder", reminder_context(blocking=[]), base_url=BASE_URL)
    for part in both(out):
        assert "saknas fortfarande" not in part
    assert "<ul>" not in out.html


def test_an_escalation_says_it_is_overdue_and_to_whom_it_was_escalated() -> None:
    out = render("deadline_escalation", escalation_context(), base_url=BASE_URL)
    assert out.subject == (
        "Eskalerat: försenad frist – Systemsäkerhetsanalys ska vara klar (2026-12-17), "
        "ärende 12 Verksamhetssystem för hemtjänst"
    )
    assert "gick ut 2026-12-17.\nÄrendet är 5 dagar försenat." in out.text
    assert "Ärendet har eskalerats till: Kategoriledare IT & Telekom\n" in out.text
    assert "(3 arbetsdagar efter fristen)" in out.text
    assert "<strong>5 dagar försenat</strong>" in out.html
    assert "eskalerats till: <strong>Kategoriledare IT &amp; Telekom</strong>" in out.html
    for part in both(out):
        assert "SSA ska vara godkänd av informationssäkerhetssamordnaren" in part
        assert RULE in part
        assert CASE_URL in part


def test_an_escalated_finding_says_when_it_was_found() -> None:
    deadline = {
        **reminder_context()["deadline"],
        "key": "finding:pub_avtal:2026-12-01",
        "kind": "finding",
        "phase": "forvaltning",
        "phase_title": "Förvaltning",
        "title": "PUB-avtal saknas",
        "due_on": "2026-12-01",
        "action": "Teckna ett personuppgiftsbiträdesavtal med leverantören.",
        "rule": "Leverantören behandlar personuppgifter åt kommunen.",
        "source": "GDPR art. 28",
    }
    context = escalation_context(deadline=deadline, blocking=[])
    context["reminder"]["days_left"] = -1
    out = render("deadline_escalation", context, base_url=BASE_URL)
    assert out.subject.startswith("Eskalerat: brist som inte åtgärdats – PUB-avtal saknas")
    assert "Den upptäcktes\n2026-12-01, för 1 dag sedan." in out.text
    assert "(3 arbetsdagar efter upptäckten)" in out.text
    for part in both(out):
        assert "PUB-avtal saknas (upptäckt 2026-12-01)" in part
        assert "Teckna ett personuppgiftsbiträdesavtal med leverantören." in part
        assert "källa: GDPR art. 28" in part


def test_an_escalation_with_nobody_to_escalate_to_says_so() -> None:
    out = render("deadline_escalation", escalation_context(escalated_to=[]), base_url=BASE_URL)
    for part in both(out):
        assert "men ingen mottagare är angiven" in part
        assert "har eskalerats till" not in part


@pytest.mark.parametrize("template", ["deadline_reminder", "deadline_escalation"])
def test_titles_and_messages_are_escaped_in_html_and_kept_in_text(template: str) -> None:
    context = escalation_context() if template == "deadline_escalation" else reminder_context()
    context["case_title"] = "Ekonomisystem <script>alert(1)</script>"
    context["deadline"]["title"] = "Frist & <b>fet</b>"
    context["blocking"][0]["message"] = "<img src=x onerror=alert(1)>"
    context["escalated_to"] = ["<i>Roll</i>"] if context["escalated_to"] else []
    out = render(template, context, base_url=BASE_URL)
    assert "<script>" not in out.html
    assert "Ekonomisystem &lt;script&gt;alert(1)&lt;/script&gt;" in out.html
    assert "Frist &amp; &lt;b&gt;fet&lt;/b&gt;" in out.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in out.html
    assert "<img" not in out.html
    assert "<b>" not in out.html
    assert "<i>" not in out.html
    assert "Ekonomisystem <script>alert(1)</script>" in out.text
    assert "Ekonomisystem <script>alert(1)</script>" in out.subject


def _drop(context: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    context = copy.deepcopy(context)
    target = context
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return context


@pytest.mark.parametrize("template", ["deadline_reminder", "deadline_escalation"])
@pytest.mark.parametrize(
    "path",
    [
        ("case_title",),
        ("deadline", "due_on"),
        ("deadline", "action"),
        ("deadline", "rule"),
        ("deadline", "source"),
        ("deadline", "phase_title"),
        ("reminder", "days_left"),
        ("blocking",),
    ],
)
def test_a_missing_value_fails_instead_of_rendering_blank(
    template: str, path: tuple[str, ...]
) -> None:
    context = escalation_context() if template == "deadline_escalation" else reminder_context()
    with pytest.raises(UndefinedError):
        render(template, _drop(context, path), base_url=BASE_URL)


def test_an_escalation_without_its_recipients_fails() -> None:
    with pytest.raises(UndefinedError):
        render(
            "deadline_escalation", _drop(escalation_context(), ("escalated_to",)), base_url=BASE_URL
        )
