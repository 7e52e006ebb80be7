"""Field types: how one YAML value becomes a Python value, or an error.

Types turn a positioned YAML node into a Python value or report why they
cannot. Records are declarative lists of fields; converting one rejects unknown
keys (suggesting the nearest known one), reports missing required fields, and
returns a plain mapping of field name to value for `validate` to turn into a
model record. Nothing here knows about other files.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from hubgen.diagnostics import Diagnostics, Span
from hubgen.model import Ref
from hubgen.timeparse import TimeError, format_local, parse_date, parse_moment
from hubgen.yamlmarks import Mapping, Node, Scalar, Sequence, describe

SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
URL_SCHEMES = ("http", "https", "mailto", "tel", "sms")
_REGION = re.compile(r"[A-Z]{2}")
_LANGUAGE = re.compile(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*")
_PHONE = re.compile(r"(?=(?:\D*\d){3})\+?\(?[0-9][0-9 ().-]*")  # at least three digits


class Invalid:
    """The value was wrong and has been reported; the field is left out."""


INVALID = Invalid()


@dataclass
class Ctx:
    """What a conversion needs: where errors go, and the zone for wall-clock times."""

    diags: Diagnostics
    zone: ZoneInfo
    field: str = ""  # the key being converted, to name it in type errors

    def error(self, span: Span, code: str, message: str) -> Invalid:
        self.diags.error(span, code, message)
        return INVALID

    def wrong_type(self, node: Node, expected: str) -> Invalid:
        where = f"'{self.field}' expects" if self.field else "expected"
        return self.error(node.span, "type", f"{where} {expected}, found {describe(node)}")


class Type:
    label = "a value"

    def convert(self, node: Node, ctx: Ctx) -> Any:
        if not isinstance(node, Scalar):
            return ctx.wrong_type(node, self.label)
        return self.scalar(node, ctx)

    def scalar(self, node: Scalar, ctx: Ctx) -> Any:
        return node.text


class Text(Type):
    label = "text"

    def scalar(self, node: Scalar, ctx: Ctx) -> Any:
        text = node.text.strip()
        if not text:
            return ctx.error(node.span, "empty", "the text is empty")
        return text


class Markdown(Text):
    label = "Markdown text"

    def scalar(self, node: Scalar, ctx: Ctx) -> Any:
        return node.text if node.text.strip() else Text.scalar(self, node, ctx)


class Bool(Type):
    label = "true or false"
    _WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}

    def scalar(self, node: Scalar, ctx: Ctx) -> Any:
        value = self._WORDS.get(node.text.strip().lower())
        if value is None:
            return ctx.wrong_type(node, "true or false")
        return value


@dataclass
class Int(Type):
    minimum: int = 0
    label = "a whole number"

    def scalar(self, node: Scalar, ctx: Ctx) -> Any:
        text = node.text.strip()
        if not re.fullmatch(r"-?\d+", text):
            return ctx.wrong_type(node, "a whole number")
        if int(text) < self.minimum:
            return ctx.error(node.span, "type", f"expected a number of at least {self.minimum}")
        return int(text)


class Slug(Type):
    label = "a slug"

    def scalar(self, node: Scalar, ctx: Ctx) -> Any:
        text = node.text.strip()
        if not SLUG.fullmatch(text):
            return ctx.error(node.span, "slug", slug_problem(text))
        return text


class SlugRef(Slug):
    """A slug naming another file; keeps its position for "unknown ..." errors."""

    def scalar(self, node: Scalar, ctx: Ctx) -> Any:
        slug = super().scalar(node, ctx)
        return slug if slug is INVALID else Ref(slug, node.span)


def slug_problem(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    suggestion = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    hint = f"; try '{suggestion}'" if suggestion and SLUG.fullmatch(suggestion) else ""
    return (
        f"invalid slug '{text}': use lowercase letters, digits and single hyphens "
        f"(like 'world-mental-health-day'){hint}"
    )


@dataclass
class Choice(Type):
    options: tuple[str, ...] = ()

    def scalar(self, node: Scalar, ctx: Ctx) -> Any:
        text = node.text.strip()
        if text not in self.options:
            known = ", ".join(self.options)
            return ctx.error(
                node.span, "choice", f"unknown value '{text}'; expected one of {known}"
            )
        return text


class Day(Type):
    label = "a date"

    def scalar(self, node: Scalar, ctx: Ctx) -> Any:
        try:
            return parse_date(node.text)
        except TimeError as exc:
            return ctx.error(node.span, "date", str(exc))


class Moment(Type):
    """A date or date-time; wall-clock values are read in the context's zone."""

    label = "a date or date and time"

    def scalar(self, node: Scalar, ctx: Ctx) -> Any:
        try:
            resolved = parse_moment(node.text, ctx.zone)
        except TimeError as exc:
            return ctx.error(node.span, "date", str(exc))
        if resolved.ambiguous:
            ctx.diags.warning(
                node.span,
                "ambiguous-time",
                f"{node.text.strip()} happens twice in {ctx.zone.key} (clocks go back); using "
                f"the first, {format_local(resolved.instant, ctx.zone)}; add a UTC offset to "
                "choose",
            )
        return resolved.instant


@dataclass
class Url(Type):
    """An absolute URL with an allowed scheme, or (if `site_paths`) a path like /about/."""

    site_paths: bool = False
    web_only: bool = False
    label = "a URL"

    def scalar(self, node: Scalar, ctx: Ctx) -> Any:
        text = node.text.strip()
        problem = url_problem(text, site_paths=self.site_paths, web_only=self.web_only)
        return ctx.error(node.span, "url", problem) if problem else text


@lru_cache(maxsize=1 << 13)  # a site of 1,000 drops has ~1,000 distinct; memory stays small
def url_problem(text: str, *, site_paths: bool, web_only: bool = False) -> str | None:
    """Why `text` is not an acceptable link target, or None if it is (remembered:
    the same links recur on many drops, and in every build `serve` makes)."""
    if text.startswith("/") and not text.startswith("//"):
        if not site_paths:
            return f"expected a full URL like https://example.org/, not '{text}'"
        return dot_segment_problem(text)
    try:
        parts = urlsplit(text)
    except ValueError:
        return f"'{text}' is not a valid URL"
    scheme = parts.scheme.lower()
    allowed = ("http", "https") if web_only else URL_SCHEMES
    if not scheme:
        where = " or a site path starting with /" if site_paths else ""
        return f"'{text}' is not a URL; expected one starting with https://{where}"
    if scheme not in allowed:
        return f"URL scheme '{scheme}:' is not allowed; use {', '.join(allowed)}"
    if scheme in ("http", "https") and not parts.netloc:
        return f"'{text}' has no host; expected https://host/..."
    return None


def dot_segment_problem(site_path: str) -> str | None:
    """Site paths are written whole, from /: no '.' or '..' steps, which could climb out."""
    path = site_path.split("#", 1)[0].split("?", 1)[0]
    steps = [part for part in path.split("/") if part in (".", "..")]
    if steps:
        return f"'{site_path}' holds a '{steps[0]}' step; write the whole path from /"
    return None


class MediaPath(Type):
    label = "a media path"

    def scalar(self, node: Scalar, ctx: Ctx) -> Any:
        text = node.text.strip()
        if not text.startswith("/media/") or len(text) == len("/media/"):
            return ctx.error(
                node.span, "media", f"'{text}' is not a media path; expected /media/<file>"
            )
        problem = dot_segment_problem(text)
        return ctx.error(node.span, "media", problem) if problem else text


@dataclass
class Pattern(Type):
    """Text that must match a regular expression; `problem` says what is expected."""

    regex: re.Pattern[str] = re.compile(r".+")
    code: str = "pattern"
    problem: str = "'{text}' is not valid"

    def scalar(self, node: Scalar, ctx: Ctx) -> Any:
        text = node.text.strip()
        if not self.regex.fullmatch(text):
            return ctx.error(node.span, self.code, self.problem.format(text=text))
        return text


REGION = Pattern(
    _REGION, "region", "invalid region '{text}': use a two-letter ISO 3166-1 code like US, GB or NO"
)
LANGUAGE = Pattern(
    _LANGUAGE, "language", "invalid language tag '{text}': use BCP 47, like en or es-MX"
)


@dataclass
class Phone(Pattern):
    """A number to call or text: a short code like 988 or 741741, or a full number.

    Digits, spaces, hyphens, dots and brackets, with an optional leading +. At
    most 15 digits (the international limit, E.164); a number written with +
    is international, so it has a country code and at least 7 digits.
    """

    def scalar(self, node: Scalar, ctx: Ctx) -> Any:
        text = super().scalar(node, ctx)
        if text is INVALID:
            return text
        digits = sum(ch.isdigit() for ch in text)
        if digits > 15:
            return ctx.error(
                node.span,
                self.code,
                f"invalid number '{text}': {digits} digits, but a phone number has at most 15",
            )
        if text.startswith("+") and digits < 7:
            return ctx.error(
                node.span,
                self.code,
                f"invalid number '{text}': a number with + needs its country code and at "
                "least 7 digits; write a short code without +, like 988",
            )
        return text


PHONE = Phone(
    _PHONE,
    "phone",
    "invalid number '{text}': write digits, spaces and hyphens, like 1-800-950-6264",
)


class Timezone(Type):
    label = "a time zone"

    def scalar(self, node: Scalar, ctx: Ctx) -> Any:
        text = node.text.strip()
        try:
            return ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            close = difflib.get_close_matches(text, sorted(available_timezones()), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            return ctx.error(
                node.span,
                "timezone",
                f"unknown time zone '{text}': use an IANA name like America/New_York{hint}",
            )


@dataclass
class ListOf(Type):
    item: Type = field(default_factory=Type)

    def convert(self, node: Node, ctx: Ctx) -> Any:
        if isinstance(node, Scalar) and not isinstance(self.item, Record):
            node = Sequence((node,), node.span)  # `topics: anxiety` means a list of one
        if not isinstance(node, Sequence):
            return ctx.wrong_type(node, "a list")
        values = [self.item.convert(item, ctx) for item in node.items]
        return tuple(v for v in values if v is not INVALID)


@dataclass(frozen=True)
class Field:
    type: Type
    required: bool = False
    default: Any = None
    doc: str = ""
    missing: str | None = None  # a friendlier message when a required field is absent


@dataclass(frozen=True)
class Fields:
    """A converted record: its values by name, its span, and whether it is whole."""

    values: dict[str, Any]
    span: Span
    complete: bool
    key_spans: dict[str, Span]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


@dataclass
class Record(Type):
    name: str = "record"
    fields: dict[str, Field] = field(default_factory=dict)
    check: Callable[[Fields, Ctx], None] | None = None

    def convert(self, node: Node, ctx: Ctx) -> Any:
        if not isinstance(node, Mapping):
            return ctx.wrong_type(node, f"the fields of {self.name}")
        values: dict[str, Any] = {}
        key_spans: dict[str, Span] = {}
        invalid: set[str] = set()
        for key, value in node.items:
            spec = self.fields.get(key.text)
            if spec is None:
                ctx.error(key.span, "unknown-key", self.unknown_key(key.text))
                continue
            key_spans[key.text] = key.span
            if isinstance(value, Scalar) and value.is_null:
                continue
            outer, ctx.field = ctx.field, key.text
            converted = spec.type.convert(value, ctx)
            ctx.field = outer
            if converted is INVALID:
                invalid.add(key.text)
            else:
                values[key.text] = converted
        complete = not any(self.fields[name].required for name in invalid)
        for name, spec in self.fields.items():
            if name in values:
                continue
            if spec.required and name not in invalid:
                complete = False
                if name in key_spans:
                    message = spec.missing or f"'{name}' has no value"
                    ctx.error(key_spans[name], "missing-field", message)
                else:
                    ctx.error(node.span, "missing-field", spec.missing or self.missing(name))
            values[name] = spec.default
        fields = Fields(values, node.span, complete, key_spans)
        if complete and not invalid and self.check:  # cross-field rules need every field
            before = len(ctx.diags)
            self.check(fields, ctx)
            if len(ctx.diags) > before:  # a failed check leaves the record incomplete
                fields = Fields(values, node.span, False, key_spans)
        return fields

    def missing(self, name: str) -> str:
        return f"missing required field '{name}' in {self.name}"

    def unknown_key(self, key: str) -> str:
        names = list(self.fields)
        if key.strip() in names:
            return f"unknown key '{key}': remove the spaces around '{key.strip()}'"
        close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
        hint = f" — did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(names)}"
        return f"unknown key '{key}' in {self.name}{hint}"


def check_order(fields: Fields, ctx: Ctx, first: str, second: str) -> None:
    """Report `second` (a date or instant) earlier than `first`, at `second`."""
    a, b = fields[first], fields[second]
    if a is None or b is None or not b < a:
        return
    if isinstance(a, datetime) and isinstance(a.tzinfo, ZoneInfo):
        assert isinstance(b, datetime)
        shown = f": {format_local(b, b.tzinfo)} comes before {format_local(a, a.tzinfo)}"
        message = f"'{second}' is before '{first}'{shown}"
    else:
        message = f"'{second}' ({b}) is before '{first}' ({a})"
    ctx.error(fields.key_spans.get(second, fields.span), "date-order", message)
