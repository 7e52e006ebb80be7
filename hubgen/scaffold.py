"""`hubgen new`: commented starter files, so an author never starts from a blank page.

Each starter is valid as written (`hubgen check` accepts it) and lists the
optional fields as comments to fill in. Text is made by pure functions; one
function writes it, and refuses to replace a file that exists: starting a new
drop must never cost an author the one they already wrote.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from hubgen.errors import UsageError
from hubgen.fieldtypes import SLUG, slug_problem, url_problem
from hubgen.load import YAML_SUFFIXES
from hubgen.timeparse import TimeError, parse_date, parse_moment

_MAX_SLUG = 60


@dataclass(frozen=True)
class Starter:
    path: str  # relative to the site folder
    text: str


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _slug(text: str, what: str) -> str:
    if not SLUG.fullmatch(text):
        raise UsageError(f"{what}: {slug_problem(text)}")
    return text


def _words(slug: str) -> str:
    return slug.replace("-", " ")


def slug_from_title(title: str) -> str:
    """'Live Q&A: how to check in' -> 'live-q-a-how-to-check-in' (at most 60 characters)."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > _MAX_SLUG:
        slug = slug[: _MAX_SLUG + 1].rsplit("-", 1)[0]
    if not slug:
        raise UsageError(f"cannot make a file name from the title {title!r}: use some letters")
    return slug


def campaign(slug: str, *, starts: str, ends: str, title: str | None = None) -> Starter:
    slug = _slug(slug, "campaign")
    first, last = _date(starts, "--starts"), _date(ends, "--ends")
    if last < first:
        raise UsageError(f"--ends ({last}) is before --starts ({first})")
    title = title or _words(slug).capitalize()
    text = f"""\
# Campaign: its hub is /{slug}/ and its drops go in content/drops/{slug}/
# (start one with: hubgen new drop {slug} "Title" --at {first}T09:00).
# Every field is explained in docs/authoring.md, "Campaigns".
title: {_quoted(title)}
starts: {first}  # the first day: the hub is live from 00:00
ends: {last}  # the last day, included
# hashtag: "#MentalHealthAwareness"  # keep the quotes: # starts a YAML comment
# summary: One or two sentences for the home page card.
# timezone: America/New_York  # default: the site's time zone
# intro: |
#   A longer introduction in Markdown, shown at the top of the hub.
# hero:
#   src: /media/heroes/{slug}.svg
#   alt: What the image shows.
# creators: [creator-slug]  # featured creators, in order
# organisations: [organisation-slug]  # partner organisations, in order
# topics: [peer-support]
"""
    return Starter(f"campaigns/{slug}.yaml", text)


def drop(campaign: str, title: str, *, at: str) -> Starter:
    campaign = _slug(campaign, "campaign")
    at = at.strip()
    try:
        parse_moment(at, ZoneInfo("UTC"))  # the campaign's zone decides later; shape only here
    except TimeError as exc:
        raise UsageError(f"--at: {exc}") from None
    slug = slug_from_title(title)
    text = f"""\
---
# A drop of the campaign '{campaign}'. It goes live at publish_at (wall-clock
# time in the campaign's time zone) once you remove draft: true.
# Every field is explained in docs/authoring.md, "Drops".
title: {_quoted(title.strip())}
publish_at: {at}
draft: true  # remove this line when the drop is ready to go live
# summary: One or two sentences shown in lists and link previews.
# kind: article  # or video, resource, spotlight, event, announcement
# creators: [creator-slug]
# organisations: [organisation-slug]
# topics: [anxiety]
# content_warning: This post talks about suicide.  # required on sensitive topics
---
Write the drop here, in Markdown.

Run hubgen check before publishing: it also points out wording that
safe-messaging guidelines advise against (docs/safe-messaging.md).
"""
    return Starter(f"content/drops/{campaign}/{at[:10]}-{slug}.md", text)


def creator(slug: str, *, name: str | None = None) -> Starter:
    slug = _slug(slug, "creator")
    name = name or _words(slug).title()
    text = f"""\
---
# A creator: their profile is /creators/{slug}/ once a campaign features them
# or a published drop credits them. Fields: docs/authoring.md, "Creators".
name: {_quoted(name)}
# handle: "@handle"  # keep the quotes: @ cannot start a plain YAML value
# pronouns: they/them
# avatar:
#   src: /media/creators/{slug}.svg
#   alt: What the picture shows.
# links:
#   - title: Videos
#     url: https://example.com/
# topics: [peer-support]
---
A short bio, in Markdown.
"""
    return Starter(f"content/creators/{slug}.md", text)


def organisation(slug: str, *, website: str, name: str | None = None) -> Starter:
    slug = _slug(slug, "organisation")
    problem = url_problem(website.strip(), site_paths=False, web_only=True)
    if problem:
        raise UsageError(f"--website: {problem}")
    name = name or _words(slug).title()
    text = f"""\
---
# An organisation: /organisations/{slug}/ shows it with its current helplines.
# Fields: docs/authoring.md, "Organisations and helplines".
name: {_quoted(name)}
website: {website.strip()}
# summary: One or two sentences about what it does.
# regions: [US]  # two-letter country codes; a helpline's regions must be among them
# topics: [suicide-prevention]
# helplines:  # copy the details from the organisation's own website
#   - name: Name of the line
#     phone: "988"  # and/or sms, text (keyword and number), chat, url
#     hours: "24/7"
#     crisis: true  # only for a line that answers people in crisis
#     regions: [US]
#     last_verified: 2023-05-01  # the day you checked these details
---
What the organisation does, in Markdown.
"""
    return Starter(f"content/organisations/{slug}.md", text)


def page(slug: str, *, title: str | None = None) -> Starter:
    slug = _slug(slug, "page")
    title = title or _words(slug).capitalize()
    text = f"""\
---
# A page at /{slug}/. Fields: docs/authoring.md, "Pages".
title: {_quoted(title)}
# summary: One sentence for search engines and link previews.
# nav: true  # add the page to the site menu
# order: 1  # its place in the menu, lowest first
# topics: [peer-support]
# content_warning: This page talks about suicide.  # required on sensitive topics
---
Write the page here, in Markdown.
"""
    return Starter(f"content/pages/{slug}.md", text)


def campaign_exists(site: Path, slug: str) -> bool:
    return any((site / "campaigns" / f"{slug}{suffix}").is_file() for suffix in YAML_SUFFIXES)


def write_starter(site: Path, starter: Starter) -> Path:
    """Create the file; never replace one (exit 2 via UsageError)."""
    path = site / starter.path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8", newline="\n") as f:
            f.write(starter.text)
    except FileExistsError:
        raise UsageError(
            f"{path} already exists; hubgen new never replaces a file: edit it, "
            "or choose another name"
        ) from None
    return path


def _date(text: str, option: str) -> date:
    try:
        return parse_date(text)
    except TimeError as exc:
        raise UsageError(f"{option}: {exc}") from None
