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
from datetime import UTC, datetime
from typing import NamedTuple
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

    Each feed is worked out as plain values first, each entry's body as the
    key of its HTML with absolute links (`Views.absolute_key`). A feed of the
    same values as one the build cache knows is taken from it: writing out
    the XML, and rendering the bodies again for it, is the slow part. The
    bodies of the feeds to write are rendered first, over `jobs` processes.
    """
    g = pub.graph
    published = _published(pub)
    plans = {
        urls.output_file(site_feed_path()): _plan(
            views,
            path=site_feed_path(),
            home="/",
            title=g.site.title,
            subtitle=g.site.description,
            drops=published,
            fallback=min((c.opens for c in g.campaigns.values()), default=EPOCH),
        )
    }
    for c in g.campaigns.values():
        plans[urls.output_file(campaign_feed_path(c.slug))] = _plan(
            views,
            path=campaign_feed_path(c.slug),
            home=urls.campaign(c.slug),
            title=f"{c.title} · {g.site.title}",
            subtitle=c.summary,
            drops=[d for d in pub.by_campaign[c.slug] if pub.status[d] == "published"],
            fallback=c.opens,
        )
    texts = {out: [repr(feed)] for out, (feed, _drops) in plans.items()}
    # Every entry's body is kept for a later build, written out this time or not.
    cache.keep("relink", {e.body for feed, _drops in plans.values() for e in feed.entries})
    todo = [out for out in plans if not cache.knows_written("feed", texts[out])]
    bodies = {id(d.body): d.body for out in todo for d in plans[out][1]}
    views.prefetch_absolute(list(bodies.values()), jobs)
    return {
        out: cache.written("feed", texts[out], lambda out=out: _xml(_element(views, *plans[out])))
        for out in plans
    }


def _published(pub: Published) -> list[Drop]:
    """Feeds never carry drafts or scheduled drops, not even in a preview build."""
    return [d for d in pub.drops if pub.status[d] == "published"]


class _Entry(NamedTuple):
    """One feed entry as the values it is written from."""

    id: str
    title: str
    stamp: str  # published, and updated: from the content, never the clock
    href: str
    authors: tuple[str, ...]
    categories: tuple[tuple[str, str], ...]  # (term, label)
    summary: str
    lead: tuple[str, ...]  # HTML before the body (`Views.feed_lead`)
    body: str  # the key of the body's HTML (`Views.absolute_key`)


class _Feed(NamedTuple):
    """A feed as the values it is written from."""

    language: str
    id: str
    title: str
    subtitle: str | None
    updated: str
    home: str
    author: str
    entries: tuple[_Entry, ...]


def _plan(
    views: Views,
    *,
    path: str,
    home: str,
    title: str,
    subtitle: str | None,
    drops: list[Drop],
    fallback: datetime,
) -> tuple[_Feed, list[Drop]]:
    """A feed's values, and the drops of its entries."""
    u = views.u
    shown = drops[:FEED_LIMIT]
    updated = max((d.publish_at for d in shown), default=fallback)
    entries = tuple(_entry(views, d) for d in shown)
    site = views.g.site
    feed = _Feed(
        site.language, u.absolute(path), title, subtitle, _stamp(updated), home, site.title, entries
    )
    return feed, shown


def _entry(views: Views, drop: Drop) -> _Entry:
    g, u = views.g, views.u
    page = u.absolute(urls.drop(drop.campaign, drop.slug))
    names = [g.creators[r.slug].name for r in drop.creators if r.slug in g.creators]
    return _Entry(
        id=_tag_uri(page, g.campaign_of(drop)),
        title=drop.title,
        stamp=_stamp(drop.publish_at),
        href=page,
        authors=tuple(names or [g.site.title]),
        categories=tuple((topic, topic_name(topic)) for topic in drop.topics),
        summary=drop.summary or drop.title,
        lead=views.feed_lead(drop),
        body=views.absolute_key(drop.body),
    )


def _element(views: Views, feed: _Feed, drops: list[Drop]) -> ET.Element:
    """The feed's XML; each body rendered with absolute links (`Views.absolute_html`)."""
    u = views.u
    root = ET.Element("feed", {"xmlns": ATOM, "xml:lang": feed.language})
    _text(root, "id", feed.id)
    _text(root, "title", feed.title)
    if feed.subtitle:
        _text(root, "subtitle", feed.subtitle)
    _text(root, "updated", feed.updated)
    _link(root, "self", feed.id, "application/atom+xml")
    _link(root, "alternate", u.absolute(feed.home), "text/html")
    _author(root, feed.author)
    _text(root, "generator", "hubgen")
    for e, drop in zip(feed.entries, drops, strict=True):
        entry = ET.SubElement(root, "entry")
        _text(entry, "id", e.id)
        _text(entry, "title", e.title)
        _text(entry, "published", e.stamp)
        _text(entry, "updated", e.stamp)
        _link(entry, "alternate", e.href, "text/html")
        for name in e.authors:
            _author(entry, name)
        for term, label in e.categories:
            ET.SubElement(entry, "category", {"term": term, "label": label})
        _text(entry, "summary", e.summary)
        content = ET.SubElement(entry, "content", {"type": "html"})
        content.text = xml_safe("\n".join([*e.lead, views.absolute_html(drop.body)]))
    return root


def _xml(feed: ET.Element) -> bytes:
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


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
