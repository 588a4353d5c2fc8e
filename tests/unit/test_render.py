"""Notification templates render in Swedish, escape HTML and refuse missing values."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from upphandla.notifications.render import render

CONTEXT = {
    "case_id": 7,
    "case_title": "Ekonomisystem <script>",
    "trigger": "cancel",
    "from_phase": "Förstudie",
    "to_phase": "Avbrutet",
    "actor": "Olle Upphandlare",
    "comment": "Behovet täcks av regionen.",
}


def test_case_advanced_renders_subject_text_and_escaped_html() -> None:
    out = render("case_advanced", CONTEXT, base_url="https://upphandla.example.se/")
    assert out.subject == "Ärende 7 Ekonomisystem <script>: Avbrutet"
    assert "från Förstudie till Avbrutet" in out.text
    assert "Motivering: Behovet täcks av regionen." in out.text
    assert "https://upphandla.example.se/arenden/7" in out.text
    assert "<script>" not in out.html
    assert "Ekonomisystem &lt;script&gt;" in out.html


def test_a_missing_value_fails_instead_of_rendering_blank() -> None:
    context = {k: v for k, v in CONTEXT.items() if k != "actor"}
    with pytest.raises(UndefinedError):
        render("case_advanced", context, base_url="http://localhost")
