"""hubgen serve as an author uses it: a real process, real HTTP, real file edits."""

from __future__ import annotations

import html
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import read_tree, run
from serving import NOW, WELCOME, Served, copy_fixture

from hubgen.diagnostics import Diagnostic, Span
from hubgen.serve.builds import State
from hubgen.serve.reload import inject, overlay
from hubgen.serve.server import content_type, is_loopback, locate

SCRIPT_MARK = "hubgen serve: live reload"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(copy_fixture(tmp_path), "--now", NOW, tmp=tmp_path / "tmp")
    yield server
    server.kill()


def test_serves_the_preview_at_its_own_address(served: Served, tmp_path: Path) -> None:
    page = served.get("/spring-2023/welcome/")
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Cache-Control"] == "no-store"
    assert "<h1>Welcome to spring</h1>" in page.text
    # links work at http://127.0.0.1:PORT/ whatever site.yaml's base_url says
    assert f'<link rel="canonical" href="{served.url}spring-2023/welcome/">' in page.text
    assert '<a class="help-now" href="/help/">' in page.text
    assert SCRIPT_MARK in page.text and "hubgen-problems" not in page.text
    # the preview look: drafts and scheduled drops, labelled, and the banner
    hub = served.get("/spring-2023/").text
    assert 'class="preview-banner"' in hub
    assert '<span class="status">Draft</span>' in hub
    assert served.get("/spring-2023/draft-idea/").status == 200
    assert served.url.startswith("http://127.0.0.1:") and served.port != 0


def test_addresses_types_and_the_404_page(served: Served) -> None:
    assert served.get("/").status == 200
    moved = served.get("/spring-2023?x=1")
    assert (moved.status, moved.headers["Location"]) == (301, "/spring-2023/?x=1")
    missing = served.get("/no/such/page/")
    assert missing.status == 404
    assert missing.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>Page not found" in missing.text and SCRIPT_MARK in missing.text
    assert served.get("/../site.yaml").status == 404
    assert served.get("/.hubgen-manifest").status == 404
    hub = served.get("/spring-2023/").text
    css = hub.split('<link rel="stylesheet" href="')[1].split('"')[0]
    style = served.get(css)
    assert style.headers["Content-Type"] == "text/css; charset=utf-8"
    assert SCRIPT_MARK not in style.text  # only HTML gets the script
    assert served.get("/media/hero.svg").headers["Content-Type"] == "image/svg+xml"
    assert served.get("/.well-known/security.txt").headers["Content-Type"].startswith("text/plain")
    head = served.get("/spring-2023/", method="HEAD")
    assert (head.status, head.text) == (200, "")
    assert int(head.headers["Content-Length"]) == len(hub.encode())


def test_edit_break_and_fix_a_drop(served: Served, tmp_path: Path) -> None:
    before = read_tree(served.site)
    with served.events() as events:
        first = events.generation
        served.edit(WELCOME, "Hello.", "Hello, edited while serving.")
        assert events.rebuilt() != first
        page = served.get("/spring-2023/welcome/")
        assert "<p>Hello, edited while serving. See the" in page.text

        # two broken files, one with markup in the bad key: every problem, escaped
        served.edit(WELCOME, "title: Welcome to spring", "<b>titel</b>: Welcome to spring")
        served.edit("campaigns/spring-2023.yaml", "ends: 2023-05-31", "ends: 2023-04-30")
        events.rebuilt()
        page = served.get("/spring-2023/welcome/")
        assert page.status == 200
        assert "Hello, edited while serving." in page.text  # the last good build
        problems = page.text.split('<section id="hubgen-problems"')[1].split("</section>")[0]
        assert f"<code {_CODE}>{WELCOME}:2:1</code>: error: unknown key " in problems
        assert html.escape("'<b>titel</b>'") in problems and "<b>titel" not in problems
        assert f"<code {_CODE}>campaigns/spring-2023.yaml:" in problems
        assert "The site does not build: 3 errors, 1 warning" in problems
        assert "hubgen-problems" in served.get("/no/such/page/").text  # on the 404 page too
        stderr = "".join(served.stderr)
        assert f"{WELCOME}:2:1: error: unknown key '<b>titel</b>' in a drop" in stderr

        served.edit(WELCOME, "<b>titel</b>:", "title:")
        served.edit("campaigns/spring-2023.yaml", "ends: 2023-04-30", "ends: 2023-05-31")
        # the two saves may come as one rebuild or two: wait for the one that builds
        while "hubgen-problems" in (page := served.get("/spring-2023/welcome/")).text:
            events.rebuilt()
        assert "<h1>Welcome to spring</h1>" in page.text
    assert served.stop() == 0
    assert read_tree(served.site).keys() == before.keys()  # nothing written into the site


_CODE = 'style="font:inherit;font-family:monospace"'


def test_a_site_broken_from_the_start_is_shown_once_fixed(tmp_path: Path) -> None:
    site = copy_fixture(tmp_path)
    welcome = site / WELCOME
    welcome.write_text(welcome.read_text().replace("publish_at:", "publish_on:"))
    served = Served(site, "--now", NOW, tmp=tmp_path / "tmp")
    try:
        with served.events() as events:
            page = served.get("/spring-2023/welcome/")
            assert page.status == 500
            assert "The site does not build yet" in page.text
            assert f"{WELCOME}:3:1</code>: error: unknown key &#x27;publish_on&#x27;" in page.text
            served.edit(WELCOME, "publish_on:", "publish_at:")
            events.rebuilt()
            assert served.get("/spring-2023/welcome/").status == 200
    finally:
        served.kill()


def test_no_preview_shows_the_site_as_published(tmp_path: Path) -> None:
    served = Served(copy_fixture(tmp_path), "--now", NOW, "--no-preview", tmp=tmp_path / "tmp")
    try:
        assert served.get("/spring-2023/draft-idea/").status == 404
        assert served.get("/spring-2023/later-drop/").status == 404
        hub = served.get("/spring-2023/").text
        assert "preview-banner" not in hub and "Welcome to spring" in hub
        assert "(as published)" in "".join(served.stdout)
    finally:
        served.kill()


def test_ctrl_c_stops_cleanly(served: Served, tmp_path: Path) -> None:
    with served.events():  # an open event stream must not hold the server up
        idle = socket.create_connection((served.host, served.port))  # nor an idle connection
        try:
            assert served.stop() == 0
        finally:
            idle.close()
    assert served.stdout[-1] == "stopped\n"
    assert "Traceback" not in "".join(served.stderr)
    assert list((tmp_path / "tmp").iterdir()) == []  # the server's builds are deleted


def test_listening_beyond_this_computer_is_said(tmp_path: Path) -> None:
    served = Served(copy_fixture(tmp_path), "--host", "0.0.0.0", tmp=tmp_path / "tmp")
    try:
        assert served.url.startswith("http://0.0.0.0:")
        assert "hubgen: warning: listening on 0.0.0.0" in "".join(served.stderr)
    finally:
        served.kill()


def test_a_port_in_use_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        assert run("serve", "--site", copy_fixture(tmp_path), "--port", port) == 2
    assert f"hubgen: error: cannot serve on 127.0.0.1:{port}: " in capsys.readouterr().err
    assert run("serve", "--port", "70000") == 2


def test_help_documents_every_serve_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("serve", "--help") == 0
    out = capsys.readouterr().out
    for option in ("--site", "--host", "--port", "--now", "--preview", "--no-preview"):
        assert option in out


def test_locate_answers_as_a_static_host(tmp_path: Path) -> None:
    (tmp_path / "may/welcome").mkdir(parents=True)
    (tmp_path / "may/welcome/index.html").write_text("drop")
    (tmp_path / "index.html").write_text("home")
    assert locate(tmp_path, "/") == tmp_path / "index.html"
    assert locate(tmp_path, "/may/welcome/") == tmp_path / "may/welcome/index.html"
    assert locate(tmp_path, "/may/welcome/index.html") == tmp_path / "may/welcome/index.html"
    assert locate(tmp_path, "/may%2Fwelcome/") == tmp_path / "may/welcome/index.html"
    redirect = locate(tmp_path, "/may/welcome")
    assert redirect is not None and not isinstance(redirect, Path)
    assert redirect.location == "/may/welcome/"
    assert locate(tmp_path, "/may/") is None  # a folder without index.html
    assert locate(tmp_path, "/may/../index.html") is None
    assert locate(tmp_path, "/nothing") is None


def test_content_types() -> None:
    assert content_type(Path("a/index.html")) == "text/html; charset=utf-8"
    assert content_type(Path("feed.xml")) == "application/xml; charset=utf-8"
    assert content_type(Path("may/calendar.ics")) == "text/calendar; charset=utf-8"
    assert content_type(Path("media/photo.JPG")) == "image/jpeg"
    assert content_type(Path("CNAME")) == "application/octet-stream"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False),
     ("192.168.1.5", False), ("example.org", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_inject_adds_to_the_response_only_before_body_end() -> None:
    problem = Diagnostic(Span("content/pages/a<b>.md", 3, 5), "error", "x", "bad & <worse>")
    state = State(None, "abc-2", (problem,), None)
    page = inject(b"<html><body><p>x</p></body></html>", state).decode()
    assert page.startswith("<html><body><p>x</p><script>")
    assert page.endswith("</section>\n</body></html>")
    assert 'var shown = "abc-2";' in page
    assert ">content/pages/a&lt;b&gt;.md:3:5</code>: error: bad &amp; &lt;worse&gt;</li>" in page
    assert overlay(()) == ""
    assert inject(b"no body", State(None, "abc-3", (), None)).startswith(b"no body<script>")
