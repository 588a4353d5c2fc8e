"""A procurement done in a real browser, as the people who do the work do it: a beställare
starts a case and sees the gates that will apply, the upphandlare and the reviewers record
evidence through the forms generated from the definition, a blocked step shows its reason and
what to record, and the case reaches signing. The steps and their values are the lifecycle
path's (seeds/lifecycle.yaml with the definition's examples), as in the other tests."""

from __future__ import annotations

import re
from typing import Any

from browser import (
    Served,
    assert_accessible,
    assert_no_other_host,
    fill_evidence,
    screenshot,
    sign_in,
)
from playwright.sync_api import Browser, Page, expect

from helpers import lifecycle, v1
from upphandla.flows.views.start_preview import steps_ahead
from upphandla.states.clock import today
from upphandla.states.planner import plan_steps

ATTRIBUTES: dict[str, Any] = {
    "title": "Verksamhetssystem för hemtjänsten",
    "organisation": "kommunstyrelsens_forvaltning",
    "subcategory": "Verksamhetssystem",
    "route": "direktupphandling",
    "estimated_value_sek": 300_000,
    "personal_data": True,
    "citizen_facing": False,
    "critical_service": False,
    "uses_ai": False,
    "cloud_service": True,
    "consultants": False,
    "hardware": False,
    "recurring": False,
}


def start_case(page: Page, served: Served) -> int:
    page.goto("/arenden/ny")
    page.get_by_label("Vad ska upphandlas?").fill(ATTRIBUTES["title"])
    page.get_by_label("Underkategori").select_option(ATTRIBUTES["subcategory"])
    page.get_by_label("Väg").select_option(ATTRIBUTES["route"])
    page.get_by_label("Uppskattat värde i kronor").fill("300 000")
    for name in ("personal_data", "citizen_facing", "critical_service", "uses_ai",
                 "cloud_service", "consultants", "hardware", "recurring"):  # fmt: skip
        page.locator(f"select#{name}").select_option("ja" if ATTRIBUTES[name] else "nej")
    page.get_by_role("button", name="Visa vilka regler som gäller").click()
    preview = page.locator("section.preview")
    expect(preview).to_contain_text("Ärendet är inte skapat ännu")
    for step in steps_ahead(v1(), ATTRIBUTES):
        for gate in step.gates:
            expect(preview).to_contain_text(gate.gate.title)
            expect(preview).to_contain_text(gate.gate.source)
    assert_accessible(page, served)
    screenshot(page, "starta-arende", full_page=True)
    page.get_by_role("button", name="Starta ärendet").click()
    page.wait_for_url(re.compile(r"/arenden/\d+\?klart=startat$"))
    return int(re.search(r"/arenden/(\d+)", page.url).group(1))  # type: ignore[union-attr]


def test_a_case_goes_from_the_start_form_to_signing_in_the_browser(
    browser: Browser, served: Served
) -> None:
    pages = {"bestallare": sign_in(browser, served, "bestallare")}
    page = pages["bestallare"]
    assert_accessible(page, served)  # my work
    case_id = start_case(page, served)
    expect(page.locator(".notice")).to_have_text("Ärendet är startat.")
    expect(page.locator(".timeline [aria-current=step]")).to_contain_text("Behovsanalys")
    # The blocked step says why, citing the rule, and what to record, by whom, with which fields.
    step = page.locator("#steg-complete_behovsanalys")
    blocked = step.locator("tr.blocked")
    gate = v1().trigger["complete_behovsanalys"].gates[0]
    expect(blocked).to_contain_text(gate.message)
    expect(blocked).to_contain_text(gate.source)
    kind = v1().evidence_kind["behovsanalys_done"]
    expect(blocked).to_contain_text(f"Att registrera: ”{kind.title}”")
    expect(blocked).to_contain_text("Får registreras av: Beställare, Upphandlare")
    for f in kind.fields:
        expect(blocked).to_contain_text(f.title)
    assert_accessible(page, served)
    assert_no_other_host(page, served)
    screenshot(page, "arende")

    # Everyone does their part through the forms, until the contract is signed; then the
    # acceptance test, where a failed skakrav holds the sign-off until a retest passes.
    recorded: dict[str, Any] = {}
    state = "behovsanalys"
    while state != "inforande":
        planned = plan_steps(
            lifecycle(), v1(), state=state, attributes=ATTRIBUTES, today=today(), recorded=recorded
        )
        for s in planned:
            if s.role not in pages:
                pages[s.role] = sign_in(browser, served, s.role)
            page = pages[s.role]
            if s.kind == "acceptance_round":
                failing_round_holds_the_signoff(page, served, case_id, s.data)
            where = "/acceptanstest" if state == "acceptanstest" else ""
            page.goto(f"/arenden/{case_id}{where}")
            if s.kind is not None:
                fill_evidence(page, s.kind, s.data)
                expect(page.locator(".notice")).to_have_text("Underlaget är registrerat.")
                recorded |= {f"{s.kind}.{k}": v for k, v in s.data.items()}
                continue
            if s.trigger == "approve_acceptance":
                expect(page.locator("#inte-godkant")).to_have_count(0)
                screenshot(page, "acceptanstest-godkant", full_page=True)
            page.locator(
                f"#steg-{s.trigger} form.advance button, form:has(input[value={s.trigger}]) button"
            ).first.click()
            expect(page.locator(".notice")).to_have_text("Steget är gjort.")
            state = v1().trigger[s.trigger or ""].dest
            if s.trigger == "sign_contract":
                # Signed: the case is in its acceptance test.
                expect(page.locator(".timeline [aria-current=step]")).to_contain_text(
                    "Acceptanstest"
                )
                assert_accessible(page, served)
            break
    page.goto(f"/arenden/{case_id}")
    expect(page.locator(".timeline [aria-current=step]")).to_contain_text("Införande")


def failing_round_holds_the_signoff(
    page: Page, served: Served, case_id: int, passing: dict[str, Any]
) -> None:
    """A round in which the first skakrav fails: the page says so, and approving the delivery
    is not offered; the passing round comes after it."""
    results = [dict(r) for r in passing["results"]]
    results[0]["result"] = "underkand"
    page.goto(f"/arenden/{case_id}/acceptanstest")
    fill_evidence(page, "acceptance_round", {"results": results})
    expect(page.locator(".notice")).to_have_text("Underlaget är registrerat.")
    failed = results[0]["id"]
    expect(page.get_by_text(f"skakrav som inte godkändes: {failed}")).to_be_visible()
    expect(page.locator("#inte-godkant")).to_be_visible()
    expect(page.locator("section:has(#godkannande) button")).to_have_count(0)
    expect(page.locator("section:has(#godkannande)")).to_contain_text(f"{failed}")
    assert_accessible(page, served)
    screenshot(page, "acceptanstest-underkant", full_page=True)
