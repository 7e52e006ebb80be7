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
from hubgen.cache import Cache, CachedFile, digest
from hubgen.model import Campaign, Drop
from hubgen.publish import Published
from hubgen.reads import Inputs
from hubgen.views import Views, topic_name

ATOM = "http://www.w3.org/2005/Atom"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
FEED_LIMIT = 50  # entries per feed; older drops stay on the site's pages
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def site_feed_path() -> str:
    return "/feed.xml"


def campaign_feed_path(slug: str) -> str:
    return f"/{slug}/feed.xml"


READS = "feed-reads"  # a feed's reads -> its key in "feed", then its bodies' in "relink"


class FeedReads(NamedTuple):
    """What a feed read, and what it gave: recorded only once the files it was
    made from are known to be the ones hashed (`produce`, as for pages)."""

    key: str  # `_reads_key`
    value: list[str]  # the feed's key in "feed", then its bodies' keys in "relink"
    drops: tuple[str, ...]  # the files of the drops it shows


def render_feeds(
    pub: Published, views: Views, *, cache: Cache, jobs: int = 1, inputs: Inputs | None = None
) -> tuple[dict[str, CachedFile], list[FeedReads]]:
    """The site feed and every campaign's feed, as output path -> file; and,
    with `inputs`, the reads of those worked out, to record.

    Each feed is worked out as plain values first, each entry's body as the
    key of its HTML with absolute links (`Views.absolute_key`). A feed of the
    same values as one the build cache knows is taken from it: writing out
    the XML, and rendering the bodies again for it, is the slow part. The
    bodies of the feeds to write are rendered first, over `jobs` processes.
    Working out a feed's values was most of the rest (21 feeds of 50 entries
    at 10,000 drops: 0.05 s of every build), so a feed is also known by what
    it read (`_reads_key`), like a page: a feed whose reads the cache knows is
    taken as it was, its values never worked out.
    """
    g = pub.graph
    published = _published(pub)
    specs = {
        urls.output_file(site_feed_path()): _Spec(
            path=site_feed_path(),
            home="/",
            title=g.site.title,
            subtitle=g.site.description,
            drops=published[:FEED_LIMIT],
            fallback=min((c.opens for c in g.campaigns.values()), default=EPOCH),
        )
    }
    for c in g.campaigns.values():
        shown = [d for d in pub.by_campaign[c.slug] if pub.status[d] == "published"]
        specs[urls.output_file(campaign_feed_path(c.slug))] = _Spec(
            path=campaign_feed_path(c.slug),
            home=urls.campaign(c.slug),
            title=f"{c.title} · {g.site.title}",
            subtitle=c.summary,
            drops=shown[:FEED_LIMIT],
            fallback=c.opens,
        )
    files: dict[str, CachedFile] = {}
    plans: dict[str, tuple[_Feed, list[Drop]]] = {}
    keys: dict[str, str] = {}  # output path -> reads key, of the feeds worked out
    for out, spec in specs.items():
        key = _reads_key(inputs, out, spec.drops) if inputs is not None else None
        known = _known(cache, key) if key is not None else None
        if known is not None:
            files[out] = known
            continue
        plans[out] = _plan(views, spec)
        if key is not None:
            keys[out] = key
    texts = {out: [repr(feed)] for out, (feed, _drops) in plans.items()}
    # Every entry's body is kept for a later build, written out this time or not.
    cache.keep("relink", {e.body for feed, _drops in plans.values() for e in feed.entries})
    todo = [out for out in plans if not cache.knows_written("feed", texts[out])]
    bodies = {id(d.body): d.body for out in todo for d in plans[out][1]}
    views.prefetch_absolute(list(bodies.values()), jobs)
    for out, (feed, drops) in plans.items():
        write = lambda feed=feed, drops=drops: _xml(_element(views, feed, drops))  # noqa: E731
        files[out] = cache.written("feed", texts[out], write)
    recorded = [
        FeedReads(
            keys[out],
            [cache.written_key("feed", texts[out]), *sorted({e.body for e in feed.entries})],
            tuple(d.span.path for d in drops),
        )
        for out, (feed, drops) in plans.items()
        if out in keys
    ]
    return files, recorded


def _reads_key(inputs: Inputs, out: str, drops: list[Drop]) -> str | None:
    """What a feed reads (see `reads`): every file but the drops' (a campaign's
    title, the site's), the options, the whole published set, and each drop it
    shows by its record's key; None if one has none."""
    shown = [inputs.drops.get(d.span.path) for d in drops]
    if None in shown:
        return None
    return digest(READS, out, inputs.site, inputs.published, "".join(shown))  # type: ignore[arg-type]


def _known(cache: Cache, key: str) -> CachedFile | None:
    """The feed the cache knows by these reads, its bodies kept for a later build."""
    value = cache.get(READS, key)
    if not (isinstance(value, list) and value and all(type(k) is str for k in value)):
        return None
    found = cache.stored_file("feed", value[0])
    if found is not None:
        cache.keep("relink", value[1:])
    return found


class _Spec(NamedTuple):
    """A feed, before its values are worked out."""

    path: str
    home: str
    title: str
    subtitle: str | None
    drops: list[Drop]  # of its entries
    fallback: datetime  # its `updated` with no entry


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


def _plan(views: Views, spec: _Spec) -> tuple[_Feed, list[Drop]]:
    """A feed's values, and the drops of its entries."""
    u = views.u
    updated = max((d.publish_at for d in spec.drops), default=spec.fallback)
    entries = tuple(_entry(views, d) for d in spec.drops)
    site = views.g.site
    feed = _Feed(
        site.language,
        u.absolute(spec.path),
        spec.title,
        spec.subtitle,
        _stamp(updated),
        spec.home,
        site.title,
        entries,
    )
    return feed, spec.drops


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
