"""What the pages refuse, in the browser: bad input is shown next to its field in Swedish and
nothing is saved; a form without the session's CSRF token is refused; another organisation's
case answers exactly as a case that does not exist; logging out ends the session; and the
start form can be filled in and sent with the keyboard alone."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

from browser import Served, assert_accessible, screenshot, sign_in
from playwright.sync_api import Browser, Page, expect


def api(served: Served, role: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        served.url(path),
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Authorization": f"Bearer {served.tokens[role]}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())


def case_count(served: Served) -> int:
    return int(api(served, "upphandlare", "GET", "/api/cases?limit=1")["total"])


def new_case(served: Served, role: str = "bestallare", **attributes: Any) -> int:
    body = {
        "title": "Skrivare som tjänst", "organisation": "kommunstyrelsens_forvaltning",
        "subcategory": "IT som tjänst", "route": "annonserad", "estimated_value_sek": 900_000,
        "personal_data": False, "citizen_facing": False, "critical_service": False,
        "uses_ai": False, "cloud_service": False, "consultants": False, "hardware": False,
    }  # fmt: skip
    return int(api(served, role, "POST", "/api/cases", {**body, **attributes})["id"])


def test_bad_start_input_is_shown_next_to_its_field_and_nothing_is_saved(
    browser: Browser, served: Served
) -> None:
    page = sign_in(browser, served, "bestallare")
    before = case_count(served)
    page.goto("/arenden/ny")
    page.get_by_label("Uppskattat värde i kronor").fill("fyra miljoner")
    page.get_by_role("button", name="Visa vilka regler som gäller").click()
    expect(page.locator(".error-summary")).to_contain_text("Inget har sparats.")
    for field in ("title", "subcategory", "route", "estimated_value_sek", "personal_data"):
        error = page.locator(f"#{field}-fel")
        expect(error).to_be_visible()
        assert re.search(r"[a-zåäö]", error.inner_text())  # a message in words
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#estimated_value_sek")).to_have_value("fyra miljoner")  # kept as typed
    assert_accessible(page, served)
    screenshot(page, "starta-arende-fel")
    assert case_count(served) == before


def test_bad_evidence_is_shown_next_to_its_field_and_nothing_is_saved(
    browser: Browser, served: Served
) -> None:
    case_id = new_case(served)
    page = sign_in(browser, served, "bestallare")
    page.goto(f"/arenden/{case_id}")
    form = page.locator("form#underlag-behovsanalys_done")
    form.get_by_label("Behov", exact=True).fill("Skrivare på alla skolor")
    form.get_by_role("button").click()
    expect(page.locator(".error-summary")).to_be_visible()
    missing = page.locator("#behovsanalys_done-current_state-fel")
    expect(missing).to_contain_text("saknas")
    expect(page.locator("#behovsanalys_done-need")).to_have_value("Skrivare på alla skolor")
    assert_accessible(page, served)
    evidence = api(served, "bestallare", "GET", f"/api/cases/{case_id}")["evidence"]
    assert [e for e in evidence if e["kind"] == "behovsanalys_done"] == []


def test_a_form_without_the_sessions_csrf_token_is_refused(
    browser: Browser, served: Served
) -> None:
    case_id = new_case(served)
    page = sign_in(browser, served, "bestallare")
    page.goto(f"/arenden/{case_id}")
    form = page.locator("form#underlag-behovsanalys_done")
    for label, value in (("Behov", "Nytt"), ("Nulägesanalys", "Gammalt"),
                         ("Budgetansvarig som godkänt behovet", "Chefen")):  # fmt: skip
        form.get_by_label(label, exact=True).fill(value)
    form.locator('input[name="csrf"]').evaluate("e => e.value = 'förfalskad'")
    form.get_by_role("button").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Formuläret kunde inte tas emot")
    expect(page.locator("main")).to_contain_text("Inget har sparats")
    assert_accessible(page, served)
    # Another site's form (no token at all) is refused just the same.
    answer = page.request.post(
        served.url(f"/arenden/{case_id}/steg"), form={"trigger": "cancel", "comment": "x"}
    )
    assert answer.status == 403
    assert api(served, "bestallare", "GET", f"/api/cases/{case_id}")["evidence"] == []
    assert api(served, "bestallare", "GET", f"/api/cases/{case_id}")["state"] == "behovsanalys"


def _main_text(page: Page) -> str:
    return page.locator("main").inner_text()


def test_another_organisations_case_is_not_found_like_a_missing_one(
    browser: Browser, served: Served
) -> None:
    theirs = new_case(served, "upphandlare", organisation="socialforvaltningen")
    page = sign_in(browser, served, "bestallare")  # of kommunstyrelsens förvaltning
    answer = page.goto(f"/arenden/{theirs}")
    assert answer is not None and answer.status == 404
    seen = _main_text(page)
    assert_accessible(page, served)
    missing = page.goto(f"/arenden/{theirs + 100_000}")
    assert missing is not None and missing.status == 404
    assert _main_text(page) == seen
    acceptance = page.goto(f"/arenden/{theirs}/acceptanstest")
    assert acceptance is not None and acceptance.status == 404
    # Posting to it is not found either, and changes nothing.
    csrf = page.goto("/")
    assert csrf is not None
    token = page.locator('input[name="csrf"]').first.get_attribute("value")
    posted = page.request.post(
        served.url(f"/arenden/{theirs}/steg"), form={"csrf": token or "", "trigger": "cancel"}
    )
    assert posted.status == 404
    assert api(served, "upphandlare", "GET", f"/api/cases/{theirs}")["state"] == "behovsanalys"


def test_logging_out_ends_the_session_in_the_browser(browser: Browser, served: Served) -> None:
    page = sign_in(browser, served, "controller")
    answer = page.goto("/arenden")
    assert answer is not None and answer.status == 200
    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_url(re.compile(r"/logga-in$"))
    page.goto("/arenden")
    page.wait_for_url(re.compile(r"/logga-in\?nasta=/arenden"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    assert_accessible(page, served)


def test_the_start_form_works_with_the_keyboard_alone(browser: Browser, served: Served) -> None:
    context = browser.new_context(base_url=served.base)
    page = context.new_page()
    page.goto("/arenden/ny")  # to the login page, and back after it
    keys = page.keyboard

    def tab_to(selector: str, limit: int = 80) -> None:
        for _ in range(limit):
            keys.press("Tab")
            if page.evaluate("s => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"{selector} was not reached with Tab")

    tab_to("#atkomstkod")
    keys.type(served.tokens["bestallare"])
    with page.expect_navigation():
        keys.press("Enter")
    page.wait_for_url(re.compile(r"/arenden/ny$"))
    tab_to("#title")
    keys.type("Surfplattor till hemtjänsten")
    answers = {
        "#subcategory": "IT-h", "#route": "Annons", "#estimated_value_sek": "850000",
        "#personal_data": "Nej", "#citizen_facing": "Nej", "#critical_service": "Nej",
        "#uses_ai": "Nej", "#cloud_service": "Nej", "#consultants": "Nej",
        "#hardware": "Ja", "#recurring": "Nej",
    }  # fmt: skip
    for selector, typed in answers.items():
        tab_to(selector, 5)
        keys.type(typed)
    tab_to("button[value=forhandsvisa]", 3)
    with page.expect_navigation():
        keys.press("Enter")
    expect(page.locator("section.preview")).to_be_visible()
    expect(page.locator("#subcategory")).to_have_value("IT-hårdvara")
    expect(page.locator("#hardware")).to_have_value("ja")
    tab_to("button[value=starta]")
    keys.press("Enter")
    page.wait_for_url(re.compile(r"/arenden/\d+\?klart=startat$"))
    expect(page.locator(".notice")).to_have_text("Ärendet är startat.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Surfplattor till hemtjänsten")
