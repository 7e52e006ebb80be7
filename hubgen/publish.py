"""Stage 4: decide what is public at `now`. The heart of hubgen.

A drop is published when it is not a draft, `publish_at <= now`, and
`now < expires_at` (when set). Everything else the site shows (creator lists,
topic pages, copied media, "next update" dates) derives from the published
set, so an unpublished drop leaks nowhere. The output depends on `now` only
through `boundaries`: between two of them, every build is identical.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import starmap
from typing import Literal
from zoneinfo import ZoneInfo

from hubgen import urls
from hubgen.diagnostics import Span
from hubgen.model import Campaign, Drop, Helpline, Markup, Organisation, Site
from hubgen.resolve import SiteGraph

Status = Literal["published", "draft", "scheduled", "expired"]
Event = Literal["campaign-starts", "campaign-ends", "drop-live", "drop-expires", "helpline-ends"]
State = Literal["upcoming", "live", "ended"]


def drop_status(drop: Drop, now: datetime) -> Status:
    if drop.draft:
        return "draft"
    if now < drop.publish_at:
        return "scheduled"
    if drop.expires_at is not None and drop.expires_at <= now:
        return "expired"
    return "published"


def is_published(drop: Drop, now: datetime) -> bool:
    return drop_status(drop, now) == "published"


def campaign_state(campaign: Campaign, now: datetime) -> State:
    if now < campaign.opens:
        return "upcoming"
    if now < campaign.closes:
        return "live"
    return "ended"


def helpline_current(line: Helpline, now: datetime) -> bool:
    return line.until is None or now < line.until


@dataclass(frozen=True)
class Boundary:
    """An instant at which the output may change, and what changes then."""

    at: datetime
    zone: ZoneInfo  # the zone its author wrote it in, for showing it back
    event: Event
    title: str
    span: Span

    def sort_key(self) -> tuple[datetime, str, str, Span]:
        return (self.at, self.event, self.title, self.span)


def help_block(
    site: Site, organisations: Iterable[Organisation], now: datetime
) -> list[tuple[str, Helpline]]:
    """(organisation slug, line) pairs the "Get help now" block shows at `now`.

    The site's `help.organisations`, every current line of each; by default every
    organisation's current crisis lines. Crisis lines first, otherwise in order.
    """
    by_slug = {o.slug: o for o in organisations}
    chosen = site.help.organisations
    slugs = [r.slug for r in chosen if r.slug in by_slug] if chosen is not None else list(by_slug)
    lines = [
        (slug, line)
        for slug in slugs
        for line in by_slug[slug].helplines
        if helpline_current(line, now) and (chosen is not None or line.crisis)
    ]
    return sorted(lines, key=lambda pair: not pair[1].crisis)


def boundaries(graph: SiteGraph) -> list[Boundary]:
    """Every instant at which the output may change, in order. Drafts never do."""
    return sorted(starmap(Boundary, _boundaries(graph)), key=Boundary.sort_key)


def _boundaries(graph: SiteGraph) -> Iterator[tuple[datetime, ZoneInfo, Event, str, Span]]:
    """The fields of every `Boundary`, in no order."""
    for c in graph.campaigns.values():
        yield c.opens, c.timezone, "campaign-starts", c.title, c.span
        yield c.closes, c.timezone, "campaign-ends", c.title, c.span
    zones = {slug: c.timezone for slug, c in graph.campaigns.items()}
    for d in graph.drops:
        if d.draft:
            continue
        zone = zones[d.campaign]
        yield d.publish_at, zone, "drop-live", d.title, d.span
        if d.expires_at is not None:
            yield d.expires_at, zone, "drop-expires", d.title, d.span
    for o in graph.organisations.values():
        for h in o.helplines:
            if h.until is not None:
                yield h.until, graph.site.timezone, "helpline-ends", h.name, h.span


def around(graph: SiteGraph, now: datetime) -> tuple[datetime | None, Boundary | None]:
    """The last instant at or before `now` at which the output changed, and the
    first boundary after it, as `boundaries` has them: all a build needs of
    them. Found in one pass, not by making and sorting every boundary (a large
    site's 10,000: about 20 ms of a rebuild after a one-drop edit)."""
    last: datetime | None = None
    first: datetime | None = None
    following: list[tuple[datetime, ZoneInfo, Event, str, Span]] = []  # those at `first`
    for fields in _boundaries(graph):
        at = fields[0]
        if at <= now:
            if last is None or at > last:
                last = at
        elif first is None or at < first:
            first, following = at, [fields]
        elif at == first:
            following.append(fields)
    return last, min(starmap(Boundary, following), key=Boundary.sort_key, default=None)


def upcoming(graph: SiteGraph, now: datetime) -> list[Boundary]:
    """The boundaries still to come: the output changes at each of them."""
    return [b for b in boundaries(graph) if b.at > now]


@dataclass(frozen=True)
class Published:
    """The site as readers see it at `now` (or, in preview, everything labelled)."""

    graph: SiteGraph
    preview: bool
    status: dict[Drop, Status]
    drops: tuple[Drop, ...]  # visible, newest first
    by_campaign: dict[str, tuple[Drop, ...]]
    states: dict[str, State]
    next_drop: dict[str, date]  # campaign slug -> local date of its next scheduled drop
    creators: tuple[str, ...]  # listed creator slugs
    credited: dict[str, tuple[Drop, ...]]
    topics: dict[str, tuple[Drop, ...]]
    helplines: dict[str, tuple[Helpline, ...]]  # organisation slug -> current lines
    help_lines: tuple[tuple[str, Helpline], ...]  # what the "Get help now" block shows
    media: frozenset[str]


def publish(graph: SiteGraph, now: datetime, *, preview: bool = False) -> Published:
    status = {d: drop_status(d, now) for d in graph.drops}
    visible = [d for d in reversed(graph.drops) if preview or status[d] == "published"]
    by_campaign: dict[str, list[Drop]] = {slug: [] for slug in graph.campaigns}
    credited: dict[str, list[Drop]] = defaultdict(list)
    topics: dict[str, list[Drop]] = defaultdict(list)
    for d in visible:
        by_campaign[d.campaign].append(d)
        for ref in d.creators:
            credited[ref.slug].append(d)
        for t in dict.fromkeys(d.topics):
            topics[t].append(d)
    featured = {r.slug for c in graph.campaigns.values() for r in c.creators}
    creators = sorted(
        (s for s in graph.creators if s in featured or s in credited),
        key=lambda s: (graph.creators[s].name.casefold(), s),
    )
    helplines = {
        slug: tuple(h for h in o.helplines if helpline_current(h, now))
        for slug, o in graph.organisations.items()
    }
    return Published(
        graph=graph,
        preview=preview,
        status=status,
        drops=tuple(visible),
        by_campaign={k: tuple(v) for k, v in by_campaign.items()},
        states={slug: campaign_state(c, now) for slug, c in graph.campaigns.items()},
        next_drop=_next_drops(graph, status),
        creators=tuple(creators),
        credited={k: tuple(v) for k, v in credited.items() if k in graph.creators},
        topics={k: tuple(topics[k]) for k in sorted(topics)},
        helplines=helplines,
        help_lines=tuple(help_block(graph.site, graph.organisations.values(), now)),
        media=frozenset(_media(graph, visible, creators)),
    )


def _next_drops(graph: SiteGraph, status: dict[Drop, Status]) -> dict[str, date]:
    found: dict[str, date] = {}
    for d in graph.drops:  # oldest first, so the first scheduled one is the next
        if status[d] == "scheduled" and d.campaign not in found:
            found[d.campaign] = d.publish_at.astimezone(graph.campaign_of(d).timezone).date()
    return found


def _media(graph: SiteGraph, visible: Iterable[Drop], creators: Iterable[str]) -> set[str]:
    """Media that published content uses: only these are copied to the output."""
    images = [c.hero for c in graph.campaigns.values()]
    markups: list[Markup] = [c.intro for c in graph.campaigns.values() if c.intro]
    for d in visible:
        images.append(d.image)
        markups.append(d.body)
    for slug in creators:
        images.append(graph.creators[slug].avatar)
        markups.append(graph.creators[slug].bio)
    for o in graph.organisations.values():
        images.append(o.logo)
        markups.append(o.description)
    markups += [p.body for p in graph.pages.values()]
    used = {i.src for i in images if i is not None}
    linked = {url for m in markups for url in m.refs.urls()}  # a few targets, linked often
    used |= {urls.path_of(url) for url in linked}
    return {path for path in used if path in graph.media}
