"""What the browser tests share: the app served by uvicorn on a database with the demo data,
one Chromium (Debian's, driven by Playwright) for the whole session, a signed-in page per
role, axe-core on every page, and filling a form generated from the definition."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from upphandla.cli.startup import prepare
from upphandla.flows.settings import Settings
from upphandla.store.db import open_database

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM = os.environ.get("UPPHANDLA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
_axe = Axe()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    base: str
    tokens: dict[str, str]
    checked: set[str] = field(default_factory=set)  # pages axe has checked, by path pattern

    def url(self, path: str) -> str:
        return self.base + path


def serve(tmp: Path) -> Iterator[Served]:
    url = f"sqlite:///{tmp / 'upphandla.db'}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=url, base_url=base)
    db = open_database(url)
    try:
        users = prepare(db, settings, demo=True)
    finally:
        db.dispose()
    env = {**os.environ, "UPPHANDLA_DATABASE_URL": url, "UPPHANDLA_BASE_URL": base}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "upphandla.api.app:create_app",
         "--port", str(port), "--log-level", "warning"],
        env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=1):
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "the app did not answer"
                time.sleep(0.1)
        yield Served(base, {u.role: u.token for u in users})
    finally:
        server.terminate()
        server.wait(timeout=10)


def assert_accessible(page: Page, served: Served | None = None) -> None:
    """axe-core on the page as it is now: no WCAG 2.1 A or AA violation."""
    results = _axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    assert results.violations_count == 0, results.generate_report()
    if served is not None:
        served.checked.add(re.sub(r"/\d+", "/{id}", urlparse(page.url).path))


def assert_no_other_host(page: Page, served: Served) -> None:
    """Nothing on the page points at another host: no script, style, image or link."""
    html = page.content()
    for found in re.findall(r"""(?:src|href|action)=["']([^"']+)["']""", html):
        assert not re.match(r"^(https?:)?//", found) or found.startswith(served.base), found


def sign_in(browser: Browser, served: Served, role: str) -> Page:
    """A page of a new browser context, signed in through the login page as `role`."""
    context = browser.new_context(base_url=served.base, locale="sv-SE")
    page = context.new_page()
    page.goto("/logga-in")
    page.get_by_label("Åtkomstkod").fill(served.tokens[role])
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(r"/$"))
    return page


def fill_evidence(page: Page, kind: str, data: dict[str, Any]) -> None:
    """Fill the form generated for `kind` with `data` (a list field row by row) and send it."""
    form = page.locator(f"form#underlag-{kind}")
    if not form.is_visible():  # among the other kinds, behind a disclosure
        page.locator("details > summary").first.click()

    def put(name: str, value: Any) -> None:
        control = form.locator(f'[name="{name}"]')
        tag = control.evaluate("e => e.tagName")
        if tag == "SELECT":
            text = (
                {True: "ja", False: "nej"}.get(value, value) if isinstance(value, bool) else value
            )
            control.select_option(str(text))
        else:
            control.fill(str(value))

    for name, value in data.items():
        if isinstance(value, list):
            for row, item in enumerate(value):
                for sub, v in item.items():
                    put(f"{kind}.{name}.{row}.{sub}", v)
        else:
            put(f"{kind}.{name}", value)
    form.locator('button[type="submit"]').click()
    page.wait_for_load_state()


def screenshot(page: Page, name: str, *, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
