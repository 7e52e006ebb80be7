"""iCalendar (RFC 5545) files: a campaign as an all-day span, plus its events.

The `icalendar` library does the format's details (CRLF line ends, 75-octet
folding, text escaping, VTIMEZONE blocks); this module decides what goes in.
UIDs are derived from slugs and the site's host, and DTSTAMP from the content,
so a calendar only changes when its campaign or events do.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Calendar, Event

from hubgen import urls
from hubgen.model import Campaign, Drop
from hubgen.publish import Published
from hubgen.views import Views


def calendar_path(slug: str) -> str:
    return f"/{slug}/calendar.ics"


def render_calendars(pub: Published, views: Views) -> dict[str, bytes]:
    out = {}
    for c in pub.graph.campaigns.values():
        events = [
            d
            for d in pub.drops
            if d.campaign == c.slug and d.event is not None and pub.status[d] == "published"
        ]
        out[urls.output_file(calendar_path(c.slug))] = _calendar(views, c, events)
    return out


def _calendar(views: Views, c: Campaign, events: list[Drop]) -> bytes:
    host = urlsplit(views.u.base_url).hostname or "localhost"
    cal = Calendar()
    cal.add("prodid", "-//hubgen//campaign calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", c.title)
    cal.add("x-wr-timezone", c.timezone.key)
    cal.add_component(_campaign_event(views, c, host))
    for drop in sorted(events, key=_event_order):
        cal.add_component(_drop_event(views, c, drop, host))
    # Zone rules only for the years the campaign spans: a small, exact VTIMEZONE.
    first = date(c.starts.year, 1, 1)
    last = date(max([c.ends.year, *(d.event.starts.year for d in events if d.event)]) + 1, 1, 1)
    cal.add_missing_timezones(first_date=first, last_date=last)
    return cal.to_ical()


def _event_order(d: Drop) -> tuple[datetime, str]:
    assert d.event is not None
    return (d.event.starts, d.slug)


def _campaign_event(views: Views, c: Campaign, host: str) -> Event:
    event = Event()
    event.add("uid", f"campaign-{c.slug}@{host}")
    event.add("dtstamp", c.opens.astimezone(UTC))
    event.add("summary", c.title)
    event.add("dtstart", c.starts)
    event.add("dtend", c.ends + timedelta(days=1))  # exclusive, as RFC 5545 wants
    event.add("transp", "TRANSPARENT")
    event.add("url", views.u.absolute(urls.campaign(c.slug)))
    if c.summary:
        event.add("description", c.summary)
    return event


def _drop_event(views: Views, c: Campaign, d: Drop, host: str) -> Event:
    assert d.event is not None
    page = views.u.absolute(urls.drop(c.slug, d.slug))
    event = Event()
    event.add("uid", f"drop-{c.slug}-{d.slug}@{host}")
    event.add("dtstamp", d.publish_at.astimezone(UTC))
    event.add("summary", d.title)
    event.add("dtstart", d.event.starts.astimezone(c.timezone))
    if d.event.ends is not None:
        event.add("dtend", d.event.ends.astimezone(c.timezone))
    event.add("url", d.event.url or page)
    if d.event.location:
        event.add("location", d.event.location)
    description = "\n\n".join(part for part in (d.summary, page) if part)
    event.add("description", description)
    return event
