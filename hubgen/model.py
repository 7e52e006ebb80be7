"""The content model: immutable records that validation produces.

Each record carries the `Span` it was written at, so any later stage can point
an author at their own file. Relations are slugs (`Ref`), looked up in the
`SiteGraph` built by `resolve`, never object pointers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import overload
from zoneinfo import ZoneInfo

from hubgen.diagnostics import Span
from hubgen.packed import PackedHtml

DROP_KINDS = ("article", "video", "resource", "spotlight", "event", "announcement")


@dataclass(frozen=True, slots=True)
class Ref:
    """A slug written in one file that names something defined in another."""

    slug: str
    span: Span


@dataclass(frozen=True, slots=True)
class Image:
    src: str  # site path, "/media/..."
    alt: str
    span: Span


@dataclass(frozen=True, slots=True)
class Link:
    title: str
    url: str
    description: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class LinkRef:
    """A link or image source found in a Markdown body, with its position."""

    url: str
    span: Span
    image: bool
    alt: str = ""


class LinkRefs(Sequence[LinkRef]):
    """The links of one Markdown body, all in its file `home`, held as one flat
    tuple: each link's url, line, column, whether it is an image, and its alt
    text. A large site's bodies hold 58,000 links; an object and a span apiece
    were most of what the rebuild after a one-drop edit decoded, where the
    link check reads only their targets (`targets`) and makes a span only for
    a link it reports (`span`). Iterated, they are `LinkRef`s."""

    __slots__ = ("flat", "home")

    def __init__(self, flat: tuple[str | int | bool, ...], home: str) -> None:
        self.flat = flat
        self.home = home

    @classmethod
    def of(cls, refs: Sequence[LinkRef], home: str) -> LinkRefs:
        """These links, each of which must be in `home`."""
        if any(ref.span.path != home for ref in refs):
            raise ValueError(f"a link outside {home}")
        return cls(
            tuple(x for r in refs for x in (r.url, r.span.line, r.span.col, r.image, r.alt)), home
        )

    def targets(self) -> Iterator[tuple[int, str, bool, str]]:
        """Each link's index, url, whether it is an image, and its alt text."""
        flat = self.flat
        return zip(range(len(self)), flat[0::5], flat[3::5], flat[4::5], strict=True)  # type: ignore[arg-type]

    def urls(self) -> Sequence[str]:
        return self.flat[0::5]  # type: ignore[return-value]

    def span(self, index: int) -> Span:
        """Where the link at `index` is written."""
        return Span(self.home, self.flat[5 * index + 1], self.flat[5 * index + 2])  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.flat) // 5

    @overload
    def __getitem__(self, index: int) -> LinkRef: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[LinkRef]: ...
    def __getitem__(self, index: int | slice) -> LinkRef | Sequence[LinkRef]:
        if isinstance(index, slice):
            return tuple(self)[index]
        if not -len(self) <= index < len(self):
            raise IndexError("link index out of range")
        index %= len(self)
        url, _line, _col, image, alt = self.flat[5 * index : 5 * index + 5]
        return LinkRef(url, self.span(index), image, alt)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[LinkRef]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LinkRefs):
            return self.flat == other.flat and (not self.flat or self.home == other.home)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.flat)

    def __repr__(self) -> str:
        return f"LinkRefs({list(self)!r})"

    def __reduce__(self) -> tuple[type[LinkRefs], tuple[tuple[str | int | bool, ...], str]]:
        return LinkRefs, (self.flat, self.home)


NO_LINKS = LinkRefs((), "")


@dataclass(frozen=True, slots=True)
class Markup:
    """A Markdown text rendered once, with the site links it contains.

    A drop's record kept in the build cache holds no `source` (None): the text
    is only needed to render a body again with other links (`views`), seldom,
    and it was a third of what a large site's records held in memory.
    `source_hash` names the text either way, and lets the file be read back.
    Nor does it hold its `html` (None), kept beside it in the cache: only the
    pages a build renders need it, and it was most of the text a rebuild of a
    large site read and decoded (see `validate.DropBodies`). A record this
    build parsed keeps its HTML (compressed, `PackedHtml`, outside `serve`),
    and in `serve` its text too: the file the author is saving right now is
    never read back.
    """

    source: str | None
    source_hash: str
    html: str | PackedHtml | None
    refs: LinkRefs
    # Raw HTML shown as text (allow_html is off): the first tag of each line.
    raw_html: tuple[tuple[str, Span], ...] = ()


@dataclass(frozen=True, slots=True)
class HelpSettings:
    title: str
    organisations: tuple[Ref, ...] | None  # None: every organisation with a crisis line


@dataclass(frozen=True, slots=True)
class QuickExit:
    url: str
    key: bool


@dataclass(frozen=True, slots=True)
class Site:
    title: str
    base_url: str | None
    language: str
    timezone: ZoneInfo
    theme: str
    description: str | None
    help: HelpSettings
    nav: tuple[Link, ...]
    allow_html: bool
    sensitive_topics: tuple[str, ...]
    helpline_max_age_days: int
    quick_exit: QuickExit
    span: Span
    headers: bool = False  # write a _headers file for the host


@dataclass(frozen=True, slots=True)
class Campaign:
    slug: str
    title: str
    starts: date
    ends: date
    timezone: ZoneInfo
    hashtag: str | None
    summary: str | None
    intro: Markup | None
    theme: str
    colour: str
    hero: Image | None
    creators: tuple[Ref, ...]
    organisations: tuple[Ref, ...]
    topics: tuple[str, ...]
    links: tuple[Link, ...]
    allow: tuple[Allow, ...]
    span: Span

    @property
    def opens(self) -> datetime:
        """The first instant of the campaign: 00:00 on `starts`, local time."""
        return datetime.combine(self.starts, datetime.min.time(), self.timezone)

    @property
    def closes(self) -> datetime:
        """The instant after the campaign: 00:00 on the day after `ends`."""
        return datetime.fromordinal(self.ends.toordinal() + 1).replace(tzinfo=self.timezone)


@dataclass(frozen=True, slots=True)
class Allow:
    rule: str
    reason: str
    span: Span


@dataclass(frozen=True, slots=True)
class Event:
    starts: datetime
    ends: datetime | None
    location: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class Drop:
    campaign: str
    slug: str
    title: str
    publish_at: datetime
    expires_at: datetime | None
    draft: bool
    summary: str | None
    kind: str
    creators: tuple[Ref, ...]
    organisations: tuple[Ref, ...]
    topics: tuple[str, ...]
    content_warning: str | None
    image: Image | None
    blur_images: bool
    links: tuple[Link, ...]
    event: Event | None
    allow: tuple[Allow, ...]
    body: Markup
    span: Span

    def __hash__(self) -> int:
        # Drops key the published site's dicts; hashing every field (the body's
        # HTML, all the tuples) on each lookup was a large part of a build.
        # Equal drops have equal campaigns and slugs: the contract holds (and
        # two drops of one campaign never share a slug, so few ever collide).
        return hash((self.campaign, self.slug))


@dataclass(frozen=True, slots=True)
class Creator:
    slug: str
    name: str
    handle: str | None
    pronouns: str | None
    avatar: Image | None
    links: tuple[Link, ...]
    topics: tuple[str, ...]
    bio: Markup
    span: Span


@dataclass(frozen=True, slots=True)
class TextLine:
    keyword: str
    number: str


@dataclass(frozen=True, slots=True)
class Helpline:
    name: str
    phone: str | None
    sms: str | None
    text: TextLine | None
    chat: str | None
    url: str | None
    hours: str | None
    regions: tuple[str, ...]
    languages: tuple[str, ...]
    crisis: bool
    last_verified: date | None
    until: datetime | None
    span: Span


@dataclass(frozen=True, slots=True)
class Organisation:
    slug: str
    name: str
    website: str
    summary: str | None
    logo: Image | None
    topics: tuple[str, ...]
    regions: tuple[str, ...]
    helplines: tuple[Helpline, ...]
    description: Markup
    span: Span


@dataclass(frozen=True, slots=True)
class Page:
    slug: str
    title: str
    summary: str | None
    topics: tuple[str, ...]
    content_warning: str | None
    nav: bool
    order: int | None
    allow: tuple[Allow, ...]
    body: Markup
    span: Span
