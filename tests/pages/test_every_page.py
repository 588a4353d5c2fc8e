"""Every page, and every page in its error states, checked in the browser with axe-core
(WCAG 2.1 A and AA: zero violations) and for references to another host (no asset, form or
script from anywhere but the app; the one link out is the accessibility statement's to Digg's
report function, which lag 2018:1937 requires). The main pages' screenshots are written to
docs/screenshots for the README."""

from __future__ import annotations

import re

from browser import Served, assert_accessible, screenshot, sign_in
from playwright.sync_api import Browser, Page, expect

ALLOWED_LINKS_OUT = ("https://www.digg.se/tdosanmalan",)


def assert_nothing_from_another_host(page: Page, served: Served) -> None:
    html = page.content()
    for attribute, value in re.findall(
        r"""\b(src|href|action|url)\s*[=(]\s*["']?([^"')\s>]+)""", html
    ):
        if re.match(r"^(https?:)?//", value) and not value.startswith(served.base):
            assert attribute == "href" and value in ALLOWED_LINKS_OUT, (page.url, attribute, value)
    # Nothing the page loaded came from elsewhere either.
    loaded = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert all(url.startswith(served.base) for url in loaded), loaded


def visit(page: Page, served: Served, path: str, status: int = 200) -> None:
    answer = page.goto(path)
    assert answer is not None and answer.status == status, (path, answer and answer.status)
    assert_accessible(page, served)
    assert_nothing_from_another_host(page, served)


def test_the_public_pages(browser: Browser, served: Served) -> None:
    page = browser.new_context(base_url=served.base).new_page()
    visit(page, served, "/logga-in")
    screenshot(page, "logga-in")
    page.get_by_label("Åtkomstkod").fill("inte-en-kod")
    page.get_by_role("button", name="Logga in").click()
    expect(page.locator("#atkomstkod-fel")).to_contain_text("gäller inte")
    assert_accessible(page, served)
    visit(page, served, "/process")
    expect(page.locator("svg.diagram")).to_be_visible()
    screenshot(page, "processen")
    visit(page, served, "/tillganglighet")
    for heading in ("Hur tillgänglig är webbtjänsten?", "Innehåll som inte är tillgängligt",
                    "Hur vi har testat webbtjänsten", "Om du upptäcker brister", "Tillsyn"):  # fmt: skip
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    # Every page links to the statement from its footer.
    expect(page.locator("footer a[href='/tillganglighet']")).to_be_visible()
    answer = page.goto("/docs")
    assert answer is not None and answer.status == 200
    assert_nothing_from_another_host(page, served)


def test_the_pages_of_each_role(browser: Browser, served: Served) -> None:
    page = sign_in(browser, served, "upphandlare")
    visit(page, served, "/")
    screenshot(page, "mitt-arbete")
    visit(page, served, "/arenden")
    first = page.locator("main table a").first
    first.click()
    assert_accessible(page, served)
    assert_nothing_from_another_host(page, served)
    visit(page, served, "/arenden/ny")
    visit(page, served, "/arenden/999999999", status=404)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sidan finns inte")
    visit(page, served, "/avtal")

    controller = sign_in(browser, served, "controller")
    visit(controller, served, "/granskning")
    screenshot(controller, "granskning")
    visit(controller, served, "/granskning?arende=tre&fran=2026-02-30", status=422)
    expect(controller.locator("#arende-fel")).to_be_visible()
    expect(controller.locator("#fran-fel")).to_contain_text("ÅÅÅÅ-MM-DD")
    visit(controller, served, "/granskning/verifiering")
    expect(controller.locator("main")).to_contain_text("Loggen är hel.")
    visit(controller, served, "/avtal")
    screenshot(controller, "avtal")
    with controller.expect_download() as download:
        controller.goto("/granskning")
        controller.get_by_role("link", name="Exportera urvalet som CSV").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("id;case_id;case_title")
    assert len(text.splitlines()) > 1

    bestallare = sign_in(browser, served, "bestallare")
    visit(bestallare, served, "/granskning/verifiering", status=403)  # not for every role


def test_the_readme_shows_every_screenshot() -> None:
    from browser import ROOT, SCREENSHOTS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Web pages", 1)[1]
    shots = sorted(p.name for p in SCREENSHOTS.glob("*.png"))
    assert shots
    for name in shots:
        assert f"](docs/screenshots/{name})" in section, name
