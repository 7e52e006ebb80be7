"""Feeds, calendars, sitemap, share cards: read back with the parsers readers' tools use."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import feedparser
import icalendar
import pytest
from conftest import FIXTURES, run
from lxml import etree, html

NOW = "2023-05-10T12:00"
BASE = "https://example.org/hub/"
PUBLISHED = ["live-chat", "meet-ada", "welcome"]  # newest first, at NOW


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("machine") / "out"
    assert run("build", "--site", FIXTURES / "site", "--out", target, "--now", NOW) == 0
    return target


def test_site_feed_is_complete_atom_of_exactly_the_published_drops(out: Path) -> None:
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id == BASE + "feed.xml"
    assert feed.feed.title == "Fixture Hub" and feed.feed.updated == "2023-05-08T04:00:00Z"
    rels = {link.rel: link.href for link in feed.feed.links}
    assert rels == {"self": BASE + "feed.xml", "alternate": BASE}
    assert [e.link for e in feed.entries] == [f"{BASE}spring-2023/{s}/" for s in PUBLISHED]
    for entry in feed.entries:
        for field in ("id", "title", "updated", "published", "summary", "author"):
            assert entry.get(field), (entry.link, field)
        assert entry.id.startswith("tag:example.org,2023-05-01:/hub/spring-2023/")
        assert entry.content[0].type == "text/html"
    ada = feed.entries[1]
    assert ada.author == "Ada Example"
    assert 'src="https://example.org/hub/media/moon.svg"' in ada.content[0].value
    assert [t.term for t in ada.tags] == ["sleep"]


def test_campaign_feed_holds_only_its_drops(out: Path) -> None:
    spring = feedparser.parse((out / "spring-2023/feed.xml").read_bytes())
    autumn = feedparser.parse((out / "autumn-2023/feed.xml").read_bytes())
    assert not spring.bozo and not autumn.bozo
    assert len(spring.entries) == 3 and autumn.entries == []
    assert autumn.feed.updated == "2023-10-01T04:00:00Z"  # from content: the campaign start


def test_entry_ids_survive_a_title_edit(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "site", site)
    drop = site / "content/drops/spring-2023/2023-05-03-meet-ada.md"
    drop.write_text(drop.read_text().replace("title: Meet Ada", "title: Meet Ada, again"))
    assert run("build", "--site", site, "--out", tmp_path / "o", "--now", NOW) == 0
    entry = feedparser.parse((tmp_path / "o/feed.xml").read_bytes()).entries[1]
    assert entry.title == "Meet Ada, again"
    assert entry.id == "tag:example.org,2023-05-01:/hub/spring-2023/meet-ada/"


def test_calendar_has_the_campaign_span_and_published_events(out: Path) -> None:
    data = (out / "spring-2023/calendar.ics").read_bytes()
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    cal = icalendar.Calendar.from_ical(data)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {
        "campaign-spring-2023@example.org",
        "drop-spring-2023-live-chat@example.org",
    }
    span = events["campaign-spring-2023@example.org"]
    assert span.decoded("DTSTART") == date(2023, 5, 1)
    assert span.decoded("DTEND") == date(2023, 6, 1)  # exclusive
    live = events["drop-spring-2023-live-chat@example.org"]
    assert live.decoded("DTSTART").astimezone(UTC) == datetime(2023, 5, 11, 23, 0, tzinfo=UTC)
    assert live.decoded("DTEND").astimezone(UTC) == datetime(2023, 5, 12, 0, 0, tzinfo=UTC)
    assert str(live["LOCATION"]) == "Online"
    assert live.decoded("DTSTAMP") == datetime(2023, 5, 8, 4, 0, tzinfo=UTC)
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["America/New_York"]


def test_scheduled_events_are_not_in_the_calendar(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site(
        {
            "content/drops/may/talk.md": "---\ntitle: Secret talk\npublish_at: 2023-05-20\n"
            "kind: event\nevent:\n  starts: 2023-05-25 18:00\n  location: 'Room, with; commas'\n"
            "---\n",
        }
    )
    for now, expected in (("2023-05-10", 1), ("2023-05-21", 2)):
        assert run("build", "--site", site, "--out", tmp_path / now, "--now", now) == 0
        cal = icalendar.Calendar.from_ical((tmp_path / now / "may/calendar.ics").read_bytes())
        assert len(cal.walk("VEVENT")) == expected
    talk = cal.walk("VEVENT")[1]
    assert str(talk["LOCATION"]) == "Room, with; commas"  # escaped and read back
    assert b"Secret talk" not in (tmp_path / "2023-05-10/may/calendar.ics").read_bytes()


def test_sitemap_lists_every_published_page_once(out: Path) -> None:
    tree = etree.parse(str(out / "sitemap.xml"))
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    assert tree.getroot().tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    locs = tree.xpath("//s:url/s:loc/text()", namespaces=ns)
    assert len(locs) == len(set(locs))
    pages = {
        BASE + p.relative_to(out).as_posix().removesuffix("index.html")
        for p in out.rglob("*.html")
        if p.name != "404.html"
    }
    assert set(locs) == pages
    lastmod = tree.xpath(
        "//s:url[s:loc=$u]/s:lastmod/text()", namespaces=ns, u=BASE + "spring-2023/meet-ada/"
    )
    assert lastmod == ["2023-05-03"]


def test_sitemap_escapes_what_a_link_may_hold_and_reads_back() -> None:
    """Written as a stream, it escapes like the tree it replaced (the same
    bytes as ElementTree's, laid out by `indent`), and lxml reads every entry back."""
    import xml.etree.ElementTree as ET

    from hubgen import sitemap

    entries = [
        ("https://example.org/a?b=1&c=<2>", "2023-05-03"),
        ('https://example.org/caf\u00e9/"q"/', None),
    ]
    root = ET.Element("urlset", {"xmlns": sitemap.SITEMAP_NS})
    for loc, lastmod in entries:
        url = ET.SubElement(root, "url")
        ET.SubElement(url, "loc").text = loc
        if lastmod is not None:
            ET.SubElement(url, "lastmod").text = lastmod
    ET.indent(root)
    tree = ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
    written = sitemap._xml(entries)
    assert written == tree
    ns = {"s": sitemap.SITEMAP_NS}
    read = etree.fromstring(written)
    assert read.xpath("//s:loc/text()", namespaces=ns) == [loc for loc, _ in entries]
    assert read.xpath("//s:lastmod/text()", namespaces=ns) == ["2023-05-03"]


def test_robots_points_at_the_sitemap_and_preview_disallows(out: Path, tmp_path: Path) -> None:
    assert (out / "robots.txt").read_text() == (
        "User-agent: *\nAllow: /\n\nSitemap: https://example.org/hub/sitemap.xml\n"
    )
    argv = ("build", "--site", FIXTURES / "site", "--out", tmp_path / "p", "--now", NOW)
    assert run(*argv, "--preview") == 0
    assert "Disallow: /\n" in (tmp_path / "p/robots.txt").read_text()


def head(page: Path) -> html.HtmlElement:
    return html.fromstring(page.read_bytes())


def test_pages_advertise_their_feeds_and_calendar(out: Path) -> None:
    for page in out.rglob("*.html"):
        feeds = head(page).xpath('//link[@rel="alternate"][@type="application/atom+xml"]/@href')
        assert "/hub/feed.xml" in feeds, page
    drop = head(out / "spring-2023/live-chat/index.html")
    assert "/hub/spring-2023/feed.xml" in drop.xpath('//link[@rel="alternate"]/@href')
    assert "/hub/spring-2023/calendar.ics" in drop.xpath("//a/@href")
    assert "/hub/spring-2023/calendar.ics" in head(out / "spring-2023/index.html").xpath(
        "//a/@href"
    )


def test_share_cards_use_the_content_image_or_the_campaign_hero(out: Path) -> None:
    def card(path: str) -> dict[str, str]:
        page = head(out / path)
        tags = page.xpath("//meta[@property or @name]")
        return {t.get("property") or t.get("name"): t.get("content") for t in tags}

    ada = card("spring-2023/meet-ada/index.html")
    assert ada["og:image"] == BASE + "media/ada.svg"
    assert ada["og:image:alt"] == "A drawn portrait of Ada, a fictional creator."
    assert ada["twitter:card"] == "summary_large_image" and ada["og:type"] == "article"
    welcome = card("spring-2023/welcome/index.html")
    assert welcome["og:image"] == BASE + "media/hero.svg"  # the campaign hero
    assert welcome["og:url"] == BASE + "spring-2023/welcome/"
    assert card("help/index.html")["twitter:card"] == "summary"


def jsonld(page: Path) -> dict[str, object]:
    (script,) = head(page).xpath('//script[@type="application/ld+json"]/text()')
    return json.loads(script)


def test_structured_data_describes_events_articles_and_partners(out: Path) -> None:
    hub = jsonld(out / "spring-2023/index.html")
    assert (hub["@type"], hub["startDate"], hub["endDate"]) == ("Event", "2023-05-01", "2023-05-31")
    event = jsonld(out / "spring-2023/live-chat/index.html")
    assert (event["@type"], event["startDate"]) == ("Event", "2023-05-11T19:00:00-04:00")
    article = jsonld(out / "spring-2023/meet-ada/index.html")
    assert article["@type"] == "Article" and article["author"] == [
        {"@type": "Person", "name": "Ada Example"}
    ]
    org = jsonld(out / "organisations/lifeline/index.html")
    assert (org["@type"], org["url"]) == ("Organization", "https://example.com/lifeline")


def test_structured_data_cannot_break_out_of_its_script(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site(
        {
            "content/drops/may/x.md": "---\ntitle: '</script><script>alert(1)</script>'\n"
            "publish_at: 2023-05-02\n---\n"
        }
    )
    assert run("build", "--site", site, "--out", tmp_path / "o", "--now", "2023-05-10") == 0
    page = tmp_path / "o/may/x/index.html"
    assert len(head(page).xpath("//script")) == 1
    assert jsonld(page)["headline"] == "</script><script>alert(1)</script>"


def test_404_links_work_from_any_depth(out: Path) -> None:
    links = head(out / "404.html").xpath("//a/@href | //link/@href")
    local = [h for h in links if not h.startswith(("http", "#", "mailto:", "tel:", "sms:"))]
    assert local and all(h.startswith("/hub/") for h in local)


def test_the_built_in_link_check_catches_a_broken_theme_link(
    make_site: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(
        {
            "site.yaml": "title: T\nbase_url: https://example.org/hub/\n",
            "content/pages/about.md": "---\ntitle: About\n---\nHi.\n",
            "themes/default/templates/page.html": '{% extends "base.html" %}{% block content %}'
            "<a href=\"{{ url('/no-such-page/') }}\">broken</a>{% endblock %}",
        }
    )
    assert run("build", "--site", site, "--out", tmp_path / "o") == 1
    expected = (
        "content/pages/about.md:1:1: error: the built file about/index.html links to "
        "/hub/no-such-page/, which is not in the output\n1 error, 0 warnings\n"
    )
    assert capsys.readouterr().err == expected
    assert not (tmp_path / "o").exists()
    assert run("check", "--site", site) == 1
    assert capsys.readouterr().err == expected


def test_control_characters_in_content_never_break_the_feed(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site(
        {
            "content/drops/may/x.md": '---\ntitle: "Bell \\a here"\npublish_at: 2023-05-02\n'
            "---\nAn escape \x1b character.\n"
        }
    )
    assert run("build", "--site", site, "--out", tmp_path / "o", "--now", "2023-05-10") == 0
    feed = feedparser.parse((tmp_path / "o/feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.entries[0].title == "Bell  here"
    assert "An escape  character." in feed.entries[0].content[0].value
