"""`hubgen schedule`: what will change on the site, and when.

Authors see each coming boundary in the zone they wrote it in and in UTC, with
the file it comes from, so "09:00" is never a guess; CI gets the same as JSON.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hubgen.publish import Boundary, Published
from hubgen.timeparse import format_utc as utc
from hubgen.timeparse import format_wall as local

EVENTS = {
    "campaign-starts": "campaign starts",
    "campaign-ends": "campaign ends",
    "drop-live": "drop goes live",
    "drop-expires": "drop expires",
    "helpline-ends": "helpline ends",
}


def summary(published: Published, following: Boundary | None) -> str:
    """'6 drops published, 8 scheduled, next change at ...': the end of a build's
    report; `following`: the next boundary (`publish.around`)."""
    status = published.status.values()
    shown = sum(s == "published" for s in status)
    scheduled = sum(s == "scheduled" for s in status)
    nxt = f", next change at {local(following.at, following.zone)}" if following else ""
    return f"{shown} drops published, {scheduled} scheduled{nxt}"


def format_text(coming: list[Boundary], *, now: datetime, zone: ZoneInfo) -> str:
    lines = [f"now: {local(now, zone)} ({utc(now)})"]
    if not coming:
        lines.append("nothing is scheduled: the site will not change until the content does")
        return "\n".join(lines) + "\n"
    lines.append(f"{len(coming)} coming change(s); the next is marked with →")
    for i, b in enumerate(coming):
        mark = "→" if i == 0 else " "
        lines.append(
            f"{mark} {local(b.at, b.zone)}  ({utc(b.at)})  {EVENTS[b.event]}: "
            f"{b.title}  [{b.span.path}:{b.span.line}]"
        )
    return "\n".join(lines) + "\n"


def format_json(coming: list[Boundary], *, now: datetime) -> str:
    """A stable schema: see docs/publishing.md."""
    records = [
        {
            "at": _iso(b.at.astimezone(UTC)),
            "local": _iso(b.at.astimezone(b.zone)),
            "zone": b.zone.key,
            "event": b.event,
            "title": b.title,
            "file": b.span.path,
            "line": b.span.line,
        }
        for b in coming
    ]
    doc = {
        "now": _iso(now.astimezone(UTC)),
        "next": records[0] if records else None,
        "boundaries": records,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _iso(value: datetime) -> str:
    text = value.isoformat(timespec="seconds")
    return text.removesuffix("+00:00") + "Z" if value.utcoffset() == UTC.utcoffset(None) else text
