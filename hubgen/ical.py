"""iCalendar (RFC 5545) files: a campaign as an all-day span, plus its events.

The `icalendar` library does the format's details (CRLF line ends, 75-octet
folding, text escaping, VTIMEZONE blocks); this module decides what goes in.
UIDs are derived from slugs and the site's host, and DTSTAMP from the content,
so a calendar only changes when its campaign or events do (and a calendar of
the same content is taken from the build cache).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

from hubgen import urls
from hubgen.cache import Writing
from hubgen.model import Campaign, Drop
from hubgen.publish import Published
from hubgen.views import Views


def calendar_path(slug: str) -> str:
    return f"/{slug}/calendar.ics"


def calendars(pub: Published, views: Views) -> dict[str, Writing]:
    """Every campaign's calendar, as output path -> what `Cache.written` is given
    (made meanwhile: `render`, `meanwhile`).

    What goes into a calendar is worked out as plain values first, and is its
    key: a calendar of the same values is taken from the build cache, since
    making the file (the library's VTIMEZONE rules, folding and escaping) is
    the slow part.
    """
    files: dict[str, Writing] = {}
    for c in pub.graph.campaigns.values():
        events = [
            d
            for d in pub.by_campaign[c.slug]
            if d.event is not None and pub.status[d] == "published"
        ]
        spec = _spec(views, c, events)
        files[urls.output_file(calendar_path(c.slug))] = (
            "calendar",
            [repr(spec)],
            lambda spec=spec: _ical(spec),
        )
    return files


Properties = tuple[tuple[str, object], ...]  # (name, str | date | datetime), in order


@dataclass(frozen=True)
class _Spec:
    """All that one calendar file holds, as plain values (its repr is its cache key)."""

    properties: Properties
    events: tuple[Properties, ...]
    zones_from: date  # VTIMEZONE rules cover these years
    zones_to: date


def _spec(views: Views, c: Campaign, events: list[Drop]) -> _Spec:
    host = urlsplit(views.u.base_url).hostname or "localhost"
    properties = (
        ("prodid", "-//hubgen//campaign calendar//EN"),
        ("version", "2.0"),
        ("calscale", "GREGORIAN"),
        ("x-wr-calname", c.title),
        ("x-wr-timezone", c.timezone.key),
    )
    ordered = sorted(events, key=_event_order)
    drops = tuple(_drop_event(views, c, drop, host) for drop in ordered)
    # Zone rules only for the years the campaign spans: a small, exact VTIMEZONE.
    last = max([c.ends.year, *(d.event.starts.year for d in events if d.event)]) + 1
    return _Spec(
        properties,
        (_campaign_event(views, c, host), *drops),
        date(c.starts.year, 1, 1),
        date(last, 1, 1),
    )


def _ical(spec: _Spec) -> bytes:
    # Imported here: a calendar of the same values is taken from the cache, and
    # the library took 60 ms of every build to import.
    from icalendar import Calendar, Event

    cal = Calendar()
    for name, value in spec.properties:
        cal.add(name, value)
    for properties in spec.events:
        event = Event()
        for name, value in properties:
            event.add(name, value)
        cal.add_component(event)
    cal.add_missing_timezones(first_date=spec.zones_from, last_date=spec.zones_to)
    return cal.to_ical()


def _event_order(d: Drop) -> tuple[datetime, str]:
    assert d.event is not None
    return (d.event.starts, d.slug)


def _campaign_event(views: Views, c: Campaign, host: str) -> Properties:
    event: list[tuple[str, object]] = [
        ("uid", f"campaign-{c.slug}@{host}"),
        ("dtstamp", c.opens.astimezone(UTC)),
        ("summary", c.title),
        ("dtstart", c.starts),
        ("dtend", c.ends + timedelta(days=1)),  # exclusive, as RFC 5545 wants
        ("transp", "TRANSPARENT"),
        ("url", views.u.absolute(urls.campaign(c.slug))),
    ]
    if c.summary:
        event.append(("description", c.summary))
    return tuple(event)


def _drop_event(views: Views, c: Campaign, d: Drop, host: str) -> Properties:
    assert d.event is not None
    page = views.u.absolute(urls.drop(c.slug, d.slug))
    event: list[tuple[str, object]] = [
        ("uid", f"drop-{c.slug}-{d.slug}@{host}"),
        ("dtstamp", d.publish_at.astimezone(UTC)),
        ("summary", d.title),
        ("dtstart", d.event.starts.astimezone(c.timezone)),
    ]
    if d.event.ends is not None:
        event.append(("dtend", d.event.ends.astimezone(c.timezone)))
    event.append(("url", d.event.url or page))
    if d.event.location:
        event.append(("location", d.event.location))
    description = "\n\n".join(part for part in (d.summary, page) if part)
    event.append(("description", description))
    return tuple(event)
