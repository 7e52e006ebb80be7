"""The file formats: every field each kind of file may hold, declared once.

`validate` converts documents with these records; docs/authoring.md describes
the same fields for authors. Cross-field rules that concern one record only
(an event that ends before it starts, a helpline with no way to reach it) are
the records' `check`s; rules that involve other files live in `resolve`.
"""

from __future__ import annotations

from hubgen.fieldtypes import (
    LANGUAGE,
    PHONE,
    REGION,
    Bool,
    Choice,
    Ctx,
    Day,
    Field,
    Fields,
    Int,
    ListOf,
    Markdown,
    MediaPath,
    Moment,
    Record,
    Slug,
    SlugRef,
    Text,
    Timezone,
    Url,
    check_order,
)
from hubgen.model import DROP_KINDS

SENSITIVE_TOPICS = ("suicide", "self-harm", "eating-disorders")
# Campaign colours of the default theme; each passes WCAG AA in light and dark.
COLOURS = ("teal", "blue", "violet", "rose", "orange")
DEFAULT_EXIT_URL = "https://www.google.com/"

LINK = Record(
    name="a link",
    fields={
        "title": Field(Text(), required=True),
        "url": Field(Url(site_paths=True), required=True),
        "description": Field(Text()),
    },
)

IMAGE = Record(
    name="an image",
    fields={
        "src": Field(MediaPath(), required=True),
        "alt": Field(
            Text(),
            required=True,
            missing="image without alt text: add 'alt' describing what the image shows",
        ),
    },
)

HELP = Record(
    name="help",
    fields={
        "title": Field(Text(), default="Get help now"),
        "organisations": Field(ListOf(SlugRef())),
    },
)

QUICK_EXIT = Record(
    name="quick_exit",
    fields={
        "url": Field(Url(web_only=True), default=DEFAULT_EXIT_URL),
        "key": Field(Bool(), default=False),
    },
)

SITE = Record(
    name="site.yaml",
    fields={
        "title": Field(Text(), required=True),
        "base_url": Field(Url(web_only=True)),
        "language": Field(LANGUAGE, default="en"),
        "timezone": Field(Timezone()),
        "theme": Field(Slug(), default="default"),
        "description": Field(Text()),
        "help": Field(HELP),
        "nav": Field(ListOf(LINK), default=()),
        "allow_html": Field(Bool(), default=False),
        "headers": Field(Bool(), default=False),
        "sensitive_topics": Field(ListOf(Slug()), default=SENSITIVE_TOPICS),
        "helpline_max_age_days": Field(Int(minimum=1), default=180),
        "quick_exit": Field(QUICK_EXIT),
    },
)

ALLOW = Record(
    name="an allow entry",
    fields={
        "rule": Field(Text(), required=True),
        "reason": Field(Text(), required=True),
    },
)


def _campaign_check(fields: Fields, ctx: Ctx) -> None:
    check_order(fields, ctx, "starts", "ends")
    if "hashtag" in fields.key_spans and fields["hashtag"] is None:
        ctx.error(
            fields.key_spans["hashtag"],
            "missing-field",
            "'hashtag' is empty: an unquoted # starts a YAML comment; "
            'write it in quotes, like hashtag: "#MentalHealthAwareness"',
        )


CAMPAIGN = Record(
    name="a campaign",
    fields={
        "title": Field(Text(), required=True),
        "starts": Field(Day(), required=True),
        "ends": Field(Day(), required=True),
        "hashtag": Field(Text()),
        "summary": Field(Text()),
        "intro": Field(Markdown()),
        "timezone": Field(Timezone()),
        "theme": Field(Slug()),
        "colour": Field(Choice(options=COLOURS), default="teal"),
        "hero": Field(IMAGE),
        "creators": Field(ListOf(SlugRef()), default=()),
        "organisations": Field(ListOf(SlugRef()), default=()),
        "topics": Field(ListOf(Slug()), default=()),
        "links": Field(ListOf(LINK), default=()),
        "allow": Field(ListOf(ALLOW), default=()),
    },
    check=_campaign_check,
)


def _event_check(fields: Fields, ctx: Ctx) -> None:
    check_order(fields, ctx, "starts", "ends")


EVENT = Record(
    name="an event",
    fields={
        "starts": Field(Moment(), required=True),
        "ends": Field(Moment()),
        "location": Field(Text()),
        "url": Field(Url()),
    },
    check=_event_check,
)


def _drop_check(fields: Fields, ctx: Ctx) -> None:
    check_order(fields, ctx, "publish_at", "expires_at")
    kind_span = fields.key_spans.get("kind", fields.span)
    if fields["kind"] == "event" and fields["event"] is None:
        ctx.error(
            kind_span,
            "missing-field",
            "a drop of kind 'event' needs 'event:' with at least 'starts'",
        )
    elif fields["kind"] != "event" and fields["event"] is not None:
        ctx.error(
            fields.key_spans["event"],
            "kind",
            f"'event' details given but kind is '{fields['kind']}'; set kind: event",
        )


DROP = Record(
    name="a drop",
    fields={
        "title": Field(Text(), required=True),
        "publish_at": Field(Moment(), required=True),
        "summary": Field(Text()),
        "kind": Field(Choice(options=DROP_KINDS), default="article"),
        "creators": Field(ListOf(SlugRef()), default=()),
        "organisations": Field(ListOf(SlugRef()), default=()),
        "topics": Field(ListOf(Slug()), default=()),
        "content_warning": Field(Text()),
        "expires_at": Field(Moment()),
        "draft": Field(Bool(), default=False),
        "slug": Field(Slug()),
        "image": Field(IMAGE),
        "blur_images": Field(Bool(), default=False),
        "links": Field(ListOf(LINK), default=()),
        "event": Field(EVENT),
        "allow": Field(ListOf(ALLOW), default=()),
    },
    check=_drop_check,
)

CREATOR = Record(
    name="a creator",
    fields={
        "name": Field(Text(), required=True),
        "handle": Field(Text()),
        "pronouns": Field(Text()),
        "avatar": Field(IMAGE),
        "links": Field(ListOf(LINK), default=()),
        "topics": Field(ListOf(Slug()), default=()),
    },
)

TEXT_LINE = Record(
    name="a text line",
    fields={
        "keyword": Field(Text(), required=True),
        "number": Field(PHONE, required=True),
    },
)

CONTACTS = ("phone", "sms", "text", "chat", "url")


def _helpline_check(fields: Fields, ctx: Ctx) -> None:
    if all(fields[name] is None for name in CONTACTS):
        ctx.error(
            fields.span,
            "missing-field",
            "a helpline needs at least one of phone, sms, text, chat or url",
        )


HELPLINE = Record(
    name="a helpline",
    fields={
        "name": Field(Text(), required=True),
        "phone": Field(PHONE),
        "sms": Field(PHONE),
        "text": Field(TEXT_LINE),
        "chat": Field(Url(web_only=True)),
        "url": Field(Url(web_only=True)),
        "hours": Field(Text()),
        "regions": Field(ListOf(REGION), default=()),
        "languages": Field(ListOf(LANGUAGE), default=()),
        "crisis": Field(Bool(), default=False),
        "last_verified": Field(Day()),
        "until": Field(Moment()),
    },
    check=_helpline_check,
)

ORGANISATION = Record(
    name="an organisation",
    fields={
        "name": Field(Text(), required=True),
        "website": Field(Url(web_only=True), required=True),
        "summary": Field(Text()),
        "logo": Field(IMAGE),
        "topics": Field(ListOf(Slug()), default=()),
        "regions": Field(ListOf(REGION), default=()),
        "helplines": Field(ListOf(HELPLINE), default=()),
    },
)

PAGE = Record(
    name="a page",
    fields={
        "title": Field(Text(), required=True),
        "summary": Field(Text()),
        "topics": Field(ListOf(Slug()), default=()),
        "content_warning": Field(Text()),
        "nav": Field(Bool(), default=False),
        "order": Field(Int()),
        "allow": Field(ListOf(ALLOW), default=()),
    },
)
