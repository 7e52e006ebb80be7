"""hubgen serve in a real browser: Debian's Chromium, driven by Playwright.

The test opens a drop page once and then only edits files on disk; the page
must update by itself (the live-reload script), show the problems overlay when
the drop breaks, and come back when it is fixed. It is skipped only on a
machine without Chromium outside CI; in CI (CI=true) a missing Chromium fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from serving import NOW, WELCOME, Served, copy_fixture

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 30_000  # an upper bound for each expectation, not a delay

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it with apt-get", pytrace=False)
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_the_open_page_follows_the_files(page: Page, tmp_path: Path) -> None:
    served = Served(copy_fixture(tmp_path), "--now", NOW, tmp=tmp_path / "tmp")
    try:
        loads: list[str] = []
        page.on("load", lambda: loads.append(page.url))
        page.goto(served.url + "spring-2023/welcome/")  # the test's only navigation
        prose = page.locator(".prose")
        expect(prose).to_contain_text("Hello. See the help page")
        expect(page.locator(".preview-banner")).to_be_visible()
        problems = page.locator("#hubgen-problems")
        expect(problems).to_have_count(0)

        served.edit(WELCOME, "Hello.", "Hello from the browser test.")
        expect(prose).to_contain_text("Hello from the browser test.", timeout=WAIT_MS)

        served.edit(WELCOME, "publish_at:", "publish_on:")
        expect(problems).to_be_visible(timeout=WAIT_MS)
        expect(problems).to_contain_text(
            f"{WELCOME}:3:1: error: unknown key 'publish_on' in a drop — did you mean 'publish_at'?"
        )
        expect(problems).to_contain_text(
            f"{WELCOME}:2:1: error: missing required field 'publish_at' in a drop"
        )
        expect(prose).to_contain_text("Hello from the browser test.")  # the last good build

        served.edit(WELCOME, "publish_on:", "publish_at:")
        expect(problems).to_have_count(0, timeout=WAIT_MS)
        expect(page.locator("h1")).to_have_text("Welcome to spring")

        # every update was the page reloading itself at the same address
        assert len(loads) >= 4 and set(loads) == {served.url + "spring-2023/welcome/"}
        assert served.stop() == 0
    finally:
        served.kill()
