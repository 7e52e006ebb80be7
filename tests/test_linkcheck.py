"""The built-in link check reads every link a built file holds, whatever its kind."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import REPO, run
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from hubgen.linkcheck import links_of

PAGE = """<!doctype html>
<html lang="en"><head>
<meta charset="utf-8">
<LINK rel="stylesheet" HREF="/assets/style.css">
<link rel="alternate" type="application/atom+xml" href="/feed.xml">
<script src="/assets/a.js?v=1&amp;w=2"></script>
<script>var s = '<a href="/not-a-link/">';</script>
<!-- <a href="/commented-out/"> -->
</head><body>
<p>Read <a href="/may/drop/">the drop</a>, <a href=/unquoted/>this</a>, <a href="#top">top</a>,
<a>no href</a>, <a href="">empty</a> and <a href="https://example.org/hub/x/">that</a>.
<img src="/media/pic.png" alt="A picture">
<picture><source src="/media/pic.webp" type="image/webp">
<img src="/media/fallback.png" alt=""></picture>
<video controls><source src="/media/clip.mp4" type="video/mp4"></video>
<p>Unclosed <a href="/caf%C3%A9/">café <b>bold</a> text
</body></html>
"""

EXPECTED = [
    "/assets/style.css",
    "/feed.xml",
    "/assets/a.js?v=1&w=2",
    "/may/drop/",
    "/unquoted/",
    "#top",
    "https://example.org/hub/x/",
    "/media/pic.png",
    "/media/pic.webp",
    "/media/fallback.png",
    "/media/clip.mp4",
    "/caf%C3%A9/",
]


class _StdlibLinks(HTMLParser):
    """The link check's previous reader (html.parser), kept here as the reference."""

    wanted = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [v for k, v in attrs if k == self.wanted.get(tag) and v]


def stdlib_links(text: str) -> list[str]:
    parser = _StdlibLinks()
    parser.feed(text)
    parser.close()
    return parser.found


def test_a_page_s_links_in_every_linking_tag_are_read_in_order() -> None:
    assert links_of("page/index.html", PAGE.encode()) == EXPECTED
    assert stdlib_links(PAGE) == EXPECTED


@pytest.mark.parametrize(
    "page", sorted(p for p in (REPO / "tests/golden/site").rglob("*.html")), ids=str
)
def test_every_golden_page_is_read_as_html_parser_reads_it(page: Path) -> None:
    data = page.read_bytes()
    assert links_of(page.name, data) == stdlib_links(data.decode("utf-8"))


def test_feeds_sitemaps_and_calendars_are_read_and_other_files_skipped() -> None:
    golden = REPO / "tests/golden/site"
    feed = links_of("feed.xml", (golden / "feed.xml").read_bytes())
    assert "https://example.org/hub/" in feed
    assert "https://example.org/hub/media/ada.svg" in feed  # from an entry's HTML content
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><link href="/f.xml"/>
    <entry><content type="html">&lt;a href="/x/"&gt;x&lt;/a&gt;</content></entry></feed>"""
    assert links_of("f.xml", atom) == ["/f.xml", "/x/"]
    ics = b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nURL:https://e.org/a/\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    assert links_of("cal.ics", ics) == ["https://e.org/a/"]
    assert links_of("style.css", b"a{background:url(/x.png)}") == []
    assert links_of("empty.html", b"  <!-- nothing -->\n") == []


def test_a_calendars_links_are_its_url_properties_however_written() -> None:
    """Folded lines, parameters, a name in lower case; not names that only
    start with URL, nor a time zone's TZURL."""
    ics = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\n"
        b"URL;VALUE=URI:https://e.org/a-very-long-address/that-goes-on-past-\r\n"
        b" seventy-five-octets/so-it-is-folded/\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:2\r\n"
        b"url:/b/\r\nX-URLS:/not-this/\r\nURLX:/nor-this/\r\nEND:VEVENT\r\n"
        b"BEGIN:VTIMEZONE\r\nTZID:X\r\nTZURL:http://tz.example/x\r\nBEGIN:STANDARD\r\n"
        b"DTSTART:19700101T000000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\n"
        b"END:STANDARD\r\nEND:VTIMEZONE\r\n"
        b"END:VCALENDAR\r\n"
    )
    expected = [
        "https://e.org/a-very-long-address/that-goes-on-past-seventy-five-octets/so-it-is-folded/",
        "/b/",
    ]
    assert links_of("cal.ics", ics) == expected


def test_unreadable_output_raises_as_before() -> None:
    with pytest.raises(ValueError):
        links_of("page.html", b"<a href='/x'>\xff</a>")
    with pytest.raises(ET.ParseError):
        links_of("feed.xml", b"<feed><link href='/x'></feed>")
    with pytest.raises(ValueError):
        links_of("cal.ics", b"not a calendar")
    with pytest.raises(ValueError):
        links_of("cal.ics", b"BEGIN:VCALENDAR\r\nURL:/x/\r\n")  # cut short


def test_broken_theme_references_in_every_linking_tag_are_reported(
    make_site: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = (
        '{% extends "base.html" %}{% block content %}'
        '<link rel="preload" href="/gone.css"><img src="/gone.png" alt="">'
        '<script src="/gone.js"></script><video><source src="/gone.mp4"></video>'
        '<a href="/gone/">x</a>{% endblock %}'
    )
    site = make_site(
        {
            "content/pages/about.md": "---\ntitle: About\n---\nHi.\n",
            "themes/default/templates/page.html": template,
        }
    )
    assert run("build", "--site", site, "--out", tmp_path / "o") == 1
    out = capsys.readouterr().err
    for gone in ("/gone.css", "/gone.png", "/gone.js", "/gone.mp4", "/gone/"):
        assert (
            f"content/pages/about.md:1:1: error: the built file about/index.html links to "
            f"{gone}, which is not in the output\n"
        ) in out
    assert out.endswith("5 errors, 0 warnings\n")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_pages_rendered_by_workers_are_checked_against_the_whole_output(
    jobs: str, make_site: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Forty pages (two workers' worth with --jobs 2) link to a page that is not
    there, each reported, and to a theme asset that only the other pages ask
    for, which is written, so none is."""
    pages = {f"content/pages/p{i:02}.md": f"---\ntitle: P{i}\n---\nHi.\n" for i in range(40)}
    site = make_site(pages)
    assert run("build", "--site", site, "--out", tmp_path / "first") == 0
    style = next((tmp_path / "first" / "assets").glob("style.*.css")).name
    template = f'<!doctype html><title>P</title><a href="/assets/{style}">s</a><a href="/gone/">g'
    make_site({"themes/default/templates/page.html": template})
    capsys.readouterr()
    assert run("build", "--site", site, "--out", tmp_path / "o", "--jobs", jobs) == 1
    err = capsys.readouterr().err
    for i in range(40):
        assert (
            f"content/pages/p{i:02}.md:1:1: error: the built file p{i:02}/index.html links to "
            "/gone/, which is not in the output\n"
        ) in err
    assert style not in err
    assert err.endswith("40 errors, 0 warnings\n")


@pytest.mark.parametrize(
    "base", ["https://example.org/hub/", "https://example.org/", "http://localhost:8000/a%20b/"]
)
def test_links_into_the_site_are_judged_alike_however_they_are_read(
    base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Absolute links to the site's own address are read without urlsplit when
    nothing in them needs it: with the same verdicts as through urlsplit."""
    from hubgen import linkcheck
    from hubgen.urls import Urls

    u = Urls.for_base(base)
    files = [
        "index.html",
        "topics/sleep/index.html",
        "feed.xml",
        "media/pic.png",
        "café/index.html",
    ]
    tails = ["", "topics/sleep/", "topics/gone/", "topics/sleep/?x=1", "topics/gone/#top"]
    tails += ["caf%C3%A9/", "feed.xml", "media/pic.png", "media/nope.png", "topics/sleep/\t"]
    links = [base + tail for tail in tails]
    links += [base.upper() + "topics/gone/", "https://other.example/x/", "/topics/gone/", "x/"]
    fast = linkcheck.check_links({"page.html": links}, files, {}, u, {})
    monkeypatch.setattr(linkcheck, "_PLAIN_PATH", re.compile("(?!)"))  # never read so
    slow = linkcheck.check_links({"page.html": links}, files, {}, u, {})
    assert fast == slow
    told = " ".join(d.message for d in fast)
    assert f"links to {base}topics/gone/, " in told and f"{base}media/nope.png" in told
    assert f"links to {base}topics/sleep/," not in told


def test_a_base_url_with_an_escaped_path_builds(tmp_path: Path) -> None:
    """Links under base_url's path are found in the output however that path
    is escaped (every link of the site was reported dangling)."""
    from conftest import FIXTURES

    base = "https://example.net/my%20hub/"  # the fixture links to example.org/hub/
    out = tmp_path / "out"
    args = ["build", "--site", FIXTURES / "site", "--out", out, "--no-cache"]
    assert run(*args, "--now", "2023-05-10T12:00", "--base-url", base) == 0
    assert b'href="/my%20hub/topics/"' in (out / "index.html").read_bytes()
    assert f"<loc>{base}about/</loc>".encode() in (out / "sitemap.xml").read_bytes()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_calendar_that_does_not_parse_is_reported_wherever_it_was_made(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    jobs: str,
) -> None:
    """With jobs for it, the calendars are made, and read back for their links,
    in a process of their own; one that icalendar cannot read back is reported
    as hubgen's own unreadable output either way, and the build fails."""
    from conftest import FIXTURES

    from hubgen import ical

    monkeypatch.setattr(ical, "_ical", lambda spec: b"BEGIN:VCALENDAR\r\nPRODID:x\r\n")
    args = ["build", "--site", FIXTURES / "site", "--out", tmp_path / "out", "--no-cache"]
    assert run(*args, "--now", "2023-05-10T12:00", "--jobs", jobs) == 1
    err = capsys.readouterr().err
    assert "error: the built file spring-2023/calendar.ics cannot be read back" in err
    assert not (tmp_path / "out").exists()


def test_the_calendars_made_meanwhile_are_read_there_and_not_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading a calendar (icalendar's full parse) is as slow as making it: a
    cold build reads those it made in the process that made them."""
    from conftest import FIXTURES

    from hubgen import linkcheck, workers

    if not workers.can_fork():
        pytest.skip("no fork here: the calendars are made and read in the build's process")
    readers = tmp_path / "readers"
    real = linkcheck.ics_links

    def noted(data: bytes) -> Iterator[str]:
        with readers.open("a") as f:
            f.write(f"{os.getpid()}\n")
        return real(data)

    monkeypatch.setattr(linkcheck, "ics_links", noted)
    args = ["build", "--site", FIXTURES / "site", "--out", tmp_path / "out", "--no-cache"]
    assert run(*args, "--now", "2023-05-10T12:00", "--jobs", "2") == 0
    pids = readers.read_text().split()
    assert len(pids) == 2 and str(os.getpid()) not in pids  # two campaigns' calendars


def tree_links(data: bytes) -> list[str]:
    """The links as lxml's parse into a tree has them: the reference for `links_of`,
    which is told of the elements as they are parsed instead."""
    root = etree.fromstring(data, etree.HTMLParser(encoding="utf-8", huge_tree=True))
    wanted = _StdlibLinks.wanted
    if root is None:
        return []
    return [v for el in root.iter(*wanted) if (v := el.get(wanted[el.tag]))]


_SOUP = st.lists(
    st.sampled_from(
        ['<a href="/a/">', "<a href=/b/>", '<A HREF="/c/">', "</a>", '<img src="/i.png">']
        + ['<link href="/l.css">', '<script src="/s.js">', "</script>", '<source src="/v">']
        + ["<svg>", "</svg>", "<table>", "<td>", "<!--", "-->", "<p>", "</p>", "<", ">", '"']
        + ["<?xml version='1.0'?>", "<!doctype html>", "text", " ", "\n", "&amp;", "&", "é"]
        + ['<a href="/x/" href="/y/">', "<a href>", '<img src="">', "<a\nhref='/n/'>"]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None, derandomize=bool(os.environ.get("CI")))
@given(soup=_SOUP)
def test_links_are_those_of_the_parsed_tree_however_broken_the_markup(soup: str) -> None:
    data = soup.encode("utf-8")
    assert links_of("page.html", data) == tree_links(data)
    assert links_of("again.html", data) == tree_links(data)  # the parser, used again
