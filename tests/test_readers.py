"""What readers get, checked by the tools the web trusts.

axe-core (in Debian's Chromium, driven by Playwright) on every page type of the
example site, in light and dark, at phone and desktop widths; the Nu Html
Checker on every page; the weight budget; keyboard order; the help link in the
first viewport; the quick exit. In CI these run, never skip: `.ci/run`
installs Chromium, Java and the checkers (tests/browser/package.json).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import REPO, run

CHROMIUM = Path("/usr/bin/chromium")
CHECKERS = Path(__file__).parent / "browser" / "node_modules"
AXE = CHECKERS / "axe-core" / "axe.min.js"
VNU = CHECKERS / "vnu-jar" / "build" / "dist" / "vnu.jar"
NOW = "2023-10-11T12:00"  # every drop of the example site is out; all campaigns ended
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

PAGE_TYPES = {
    "home": "/",
    "hub": "/mental-health-awareness-2023/",
    "hub (blue)": "/back-to-school-2023/",
    "hub (violet)": "/world-mental-health-day-2023/",
    "drop: announcement": "/mental-health-awareness-2023/welcome/",
    "drop: article": "/mental-health-awareness-2023/understanding-anxiety/",
    "drop: spotlight": "/mental-health-awareness-2023/creator-spotlight-talking-openly/",
    "drop: resource": "/mental-health-awareness-2023/eating-disorders-finding-support/",
    "drop: event": "/mental-health-awareness-2023/live-qa-checking-in-on-a-friend/",
    "creators": "/creators/",
    "creator": "/creators/maya-okafor/",
    "organisations": "/organisations/",
    "organisation": "/organisations/crisis-text-line/",
    "topics": "/topics/",
    "topic": "/topics/anxiety/",
    "help": "/help/",
    "page": "/about/",
    "404": "/404.html",
}


def require(available: bool, what: str) -> None:
    """Skip locally when a checker is missing; in CI a missing checker is a failure."""
    if not available:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing in CI: .ci/run must install it")
        pytest.skip(f"{what} is not installed")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (API name)
        pass


@contextlib.contextmanager
def serving(root: Path) -> Iterator[str]:
    """Serve `root` over real HTTP on a free port; yields the base URL."""
    root.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Site:
    """The example site built under /hub/ and served over real HTTP."""

    def __init__(self, root: Path, origin: str) -> None:
        self.base = origin + "hub/"
        self.out = root / "hub"
        argv = ("build", "--site", REPO, "--out", self.out, "--now", NOW, "--base-url", self.base)
        assert run(*argv) == 0

    def url(self, path: str) -> str:
        return self.base + path.lstrip("/")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("readers")
    with serving(root) as origin:
        yield Site(root, origin)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require(CHROMIUM.exists(), "Chromium (/usr/bin/chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()


def violations(page: object) -> list[str]:
    page.add_script_tag(path=str(AXE))
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}}
    result = page.evaluate("options => axe.run(document, options)", options)
    return [
        f"{v['id']} ({v['impact']}): {node['target']} {node.get('failureSummary', '')}"
        for v in result["violations"]
        for node in v["nodes"]
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
def test_axe_finds_no_violation_on_any_page_type(
    site: Site, browser: object, scheme: str, width: int
) -> None:
    require(AXE.exists(), "axe-core (npm ci --prefix tests/browser)")
    context = browser.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page = context.new_page()
    found = {}
    for name, path in PAGE_TYPES.items():
        page.goto(site.url(path))
        if problems := violations(page):
            found[name] = problems
    context.close()
    assert found == {}


def test_keyboard_reaches_exit_skip_and_help_first_with_visible_focus(
    site: Site, browser: object
) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 667})
    for path in (PAGE_TYPES["hub"], PAGE_TYPES["drop: resource"], PAGE_TYPES["help"]):
        page.goto(site.url(path))
        order = []
        for _ in range(3):
            page.keyboard.press("Tab")
            order.append(
                page.evaluate(
                    """() => {
                    const el = document.activeElement;
                    const style = getComputedStyle(el);
                    return [el.className, style.outlineStyle !== 'none'
                            && parseFloat(style.outlineWidth) >= 2];
                }"""
                )
            )
        assert order == [["quick-exit", True], ["skip-link", True], ["help-now", True]], path
    page.close()


def test_help_link_is_in_the_first_phone_viewport_of_every_page(
    site: Site, browser: object
) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 667})
    for name, path in PAGE_TYPES.items():
        page.goto(site.url(path))
        box = page.locator("a.help-now").bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 667, name
        assert page.locator("a.help-now").get_attribute("href") == "/hub/help/"
    page.close()


def test_reduced_motion_is_respected(site: Site, browser: object) -> None:
    context = browser.new_context(reduced_motion="reduce")
    page = context.new_page()
    page.goto(site.url("/"))
    assert page.evaluate("getComputedStyle(document.documentElement).scrollBehavior") == "auto"
    assert page.evaluate("getComputedStyle(document.body).transitionDuration") == "0s"
    context.close()


def test_nu_html_checker_finds_no_error_on_any_page(site: Site) -> None:
    java = shutil.which("java")
    require(java is not None, "a Java runtime")
    require(VNU.exists(), "vnu.jar (npm ci --prefix tests/browser)")
    pages = sorted(str(p) for p in site.out.rglob("*.html"))
    result = subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--format", "json", *pages],
        capture_output=True,
        text=True,
        check=False,
    )
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    assert [(m.get("url", "").rsplit("/hub/", 1)[-1], m["message"]) for m in messages] == []
    assert len(pages) >= len(PAGE_TYPES)


def test_every_page_is_within_the_weight_budget_with_one_cached_stylesheet(site: Site) -> None:
    sheets = set()
    for page in site.out.rglob("*.html"):
        text = page.read_text()
        links = re.findall(r'<link rel="stylesheet" href="/hub/(assets/[^"]+\.css)">', text)
        assert len(links) == 1, page
        sheets.update(links)
        css = (site.out / links[0]).stat().st_size
        assert page.stat().st_size + css < 40 * 1024, (page, page.stat().st_size, css)
        assert not re.search(r"<script(?![^>]*application/ld\+json)", text), page
    assert len(sheets) == 1  # one file, cached across pages by its hashed name
    css = (site.out / sheets.pop()).read_text()
    assert "@font-face" not in css and "system-ui" in css


QUICK_EXIT_SITE = {
    "site.yaml": "title: T\nbase_url: https://example.org/\nquick_exit:\n  url: {exit}\n"
    "  key: true\n",
    "content/pages/about.md": "---\ntitle: About\n---\nA page.\n",
    "content/pages/elsewhere.md": "---\ntitle: Elsewhere\n---\nA neutral page.\n",
}


@pytest.fixture
def quick_exit_site(make_site: Callable[..., Path], tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "served"
    with serving(root) as base:
        files = dict(QUICK_EXIT_SITE)
        files["site.yaml"] = files["site.yaml"].format(exit=base + "elsewhere/")
        assert run("build", "--site", make_site(files), "--out", root, "--base-url", base) == 0
        yield base


def test_quick_exit_by_triple_escape_replaces_the_history_entry(
    quick_exit_site: str, browser: object
) -> None:
    page = browser.new_page()
    page.goto(quick_exit_site)
    page.goto(quick_exit_site + "about/")
    for _ in range(3):
        page.keyboard.press("Escape")
    page.wait_for_url(quick_exit_site + "elsewhere/")
    page.go_back()
    assert page.url == quick_exit_site  # the page the reader fled is not in the history
    page.close()


def test_quick_exit_works_without_javascript(quick_exit_site: str, browser: object) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(quick_exit_site + "about/")
    page.click("a.quick-exit")
    page.wait_for_url(quick_exit_site + "elsewhere/")
    context.close()


def test_blurred_images_are_revealed_by_a_tap_without_javascript(
    make_site: Callable[..., Path], tmp_path: Path, browser: object
) -> None:
    site = make_site(
        {
            "content/media/a.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="10" '
            'height="10"><rect width="10" height="10"/></svg>\n',
            "content/drops/may/x.md": "---\ntitle: X\npublish_at: 2023-05-02\n"
            "blur_images: true\ncontent_warning: Mentions self-harm.\n---\n"
            "![A black square](/media/a.svg)\n",
        }
    )
    out = tmp_path / "o"
    with serving(out) as base:
        assert (
            run("build", "--site", site, "--out", out, "--base-url", base, "--now", "2023-05-10")
            == 0
        )
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(base + "may/x/")
        image = page.locator(".prose img")
        assert "blur" in image.evaluate("el => getComputedStyle(el).filter")
        page.click("label.reveal-label")
        assert image.evaluate("el => getComputedStyle(el).filter") == "none"
        context.close()
