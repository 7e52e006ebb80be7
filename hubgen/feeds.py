"""Atom feeds (RFC 4287) of published drops: one for the site, one per campaign.

Written with the standard library's ElementTree, so escaping is never ours to
get wrong. Every URL is absolute, ids survive title edits (a tag: URI from the
campaign's host, start date and the drop's path), and `updated` comes from the
content, never from the clock, so a feed only changes when a drop does (and a
feed of the same content is taken from the build cache).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from hubgen import urls
from hubgen.cache import Cache
from hubgen.model import Campaign, Drop
from hubgen.publish import Published
from hubgen.views import Views, topic_name

ATOM = "http://www.w3.org/2005/Atom"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
FEED_LIMIT = 50  # entries per feed; older drops stay on the site's pages
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def site_feed_path() -> str:
    return "/feed.xml"


def campaign_feed_path(slug: str) -> str:
    return f"/{slug}/feed.xml"


def render_feeds(pub: Published, views: Views, *, cache: Cache, jobs: int = 1) -> dict[str, bytes]:
    """The site feed and every campaign's feed, as output path -> bytes.

    The entries' bodies, rendered again with absolute URLs, are made first
    over `jobs` processes. A feed of the same elements as one the build cache
    knows is taken from it: writing out the XML is the slow part.
    """
    g = pub.graph
    published = _published(pub)
    by_campaign = {
        c: [d for d in ds if pub.status[d] == "published"] for c, ds in pub.by_campaign.items()
    }
    entries = {d: None for ds in [published, *by_campaign.values()] for d in ds[:FEED_LIMIT]}
    views.prefetch_absolute([d.body for d in entries], jobs)
    feeds = {
        urls.output_file(site_feed_path()): _feed(
            views,
            cache,
            path=site_feed_path(),
            home="/",
            title=g.site.title,
            subtitle=g.site.description,
            drops=published,
            fallback=min((c.opens for c in g.campaigns.values()), default=EPOCH),
        )
    }
    for c in g.campaigns.values():
        drops = by_campaign[c.slug]
        feeds[urls.output_file(campaign_feed_path(c.slug))] = _feed(
            views,
            cache,
            path=campaign_feed_path(c.slug),
            home=urls.campaign(c.slug),
            title=f"{c.title} · {g.site.title}",
            subtitle=c.summary,
            drops=drops,
            fallback=c.opens,
        )
    return feeds


def _published(pub: Published) -> list[Drop]:
    """Feeds never carry drafts or scheduled drops, not even in a preview build."""
    return [d for d in pub.drops if pub.status[d] == "published"]


def _feed(
    views: Views,
    cache: Cache,
    *,
    path: str,
    home: str,
    title: str,
    subtitle: str | None,
    drops: Iterable[Drop],
    fallback: datetime,
) -> bytes:
    u = views.u
    entries = list(drops)[:FEED_LIMIT]
    feed = ET.Element("feed", {"xmlns": ATOM, "xml:lang": views.g.site.language})
    _text(feed, "id", u.absolute(path))
    _text(feed, "title", title)
    if subtitle:
        _text(feed, "subtitle", subtitle)
    updated = max((d.publish_at for d in entries), default=fallback)
    _text(feed, "updated", _stamp(updated))
    _link(feed, "self", u.absolute(path), "application/atom+xml")
    _link(feed, "alternate", u.absolute(home), "text/html")
    _author(feed, views.g.site.title)
    _text(feed, "generator", "hubgen")
    for drop in entries:
        _entry(feed, views, drop)
    return cache.written("feed", [repr(_shape(feed))], lambda: _xml(feed))


def _xml(feed: ET.Element) -> bytes:
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def _shape(el: ET.Element) -> tuple[object, ...]:
    """An element as plain values, children and attribute order included: what
    it is written out from."""
    return (el.tag, tuple(el.attrib.items()), el.text, el.tail, tuple(_shape(c) for c in el))


def _entry(feed: ET.Element, views: Views, drop: Drop) -> None:
    g, u = views.g, views.u
    campaign = g.campaign_of(drop)
    entry = ET.SubElement(feed, "entry")
    page = urls.drop(drop.campaign, drop.slug)
    _text(entry, "id", _tag_uri(u.absolute(page), campaign))
    _text(entry, "title", drop.title)
    _text(entry, "published", _stamp(drop.publish_at))
    _text(entry, "updated", _stamp(drop.publish_at))
    _link(entry, "alternate", u.absolute(page), "text/html")
    names = [g.creators[r.slug].name for r in drop.creators if r.slug in g.creators]
    for name in names or [g.site.title]:
        _author(entry, name)
    for topic in drop.topics:
        ET.SubElement(entry, "category", {"term": topic, "label": topic_name(topic)})
    _text(entry, "summary", drop.summary or drop.title)
    content = ET.SubElement(entry, "content", {"type": "html"})
    content.text = xml_safe(views.feed_content(drop))


def _tag_uri(absolute: str, campaign: Campaign) -> str:
    """tag:host,date:path — stable across title edits and base_url scheme changes."""
    parts = urlsplit(absolute)
    return f"tag:{parts.hostname},{campaign.starts.isoformat()}:{parts.path}"


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    el = ET.SubElement(parent, tag)
    el.text = xml_safe(text)
    return el


def xml_safe(text: str) -> str:
    """Drop the control characters XML 1.0 cannot carry (a stray ESC in a drop's text)."""
    return _NOT_XML.sub("", text)


def _link(parent: ET.Element, rel: str, href: str, kind: str) -> None:
    ET.SubElement(parent, "link", {"rel": rel, "type": kind, "href": href})


def _author(parent: ET.Element, name: str) -> None:
    author = ET.SubElement(parent, "author")
    _text(author, "name", name)
