"""Read-only views of the published site, shaped for templates.

Templates never see the model or the clock: every URL is already decided (by
`urls`), every date already formatted in the right zone, every label already
chosen. A view is a frozen dataclass, so a template cannot change what the
next page sees.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

from markupsafe import Markup as Html
from markupsafe import escape

from hubgen import urls, workers
from hubgen.bodyread import Body
from hubgen.cache import Cache, Encoded, digest, encode
from hubgen.diagnostics import Span
from hubgen.markup import Converter, absolutize
from hubgen.model import (
    Campaign,
    Creator,
    Drop,
    Helpline,
    Image,
    Link,
    Markup,
    Organisation,
    Page,
)
from hubgen.packed import PackedHtml
from hubgen.publish import Published

if TYPE_CHECKING:
    from hubgen.reads import Inputs

T = TypeVar("T")

KIND_LABELS = {
    "article": "Article",
    "video": "Video",
    "resource": "Resources",
    "spotlight": "Creator spotlight",
    "event": "Event",
    "announcement": "Announcement",
}
STATE_LABELS = {"upcoming": "Coming soon", "live": "Live now", "ended": "Ended"}


class Bodies(Protocol):
    """Reads back what a drop's record from the build cache does not hold (see
    `Markup`; `validate.DropBodies`)."""

    def text(self, d: Drop) -> str: ...

    def html(self, d: Drop) -> Html: ...

    def prefetch(self, drops: Iterable[Drop]) -> None: ...


@dataclass(frozen=True, slots=True)
class Anchor:
    text: str
    href: str | None  # None: shown as text (no page to link to)
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Picture:
    src: str
    alt: str
    absolute: str


@dataclass(frozen=True, slots=True)
class Contact:
    label: str  # "Call", "Text", "Chat online"
    text: str  # what is shown: "988", "HOME to 741741"
    href: str


@dataclass(frozen=True, slots=True)
class HelplineView:
    name: str
    organisation: Anchor
    contacts: tuple[Contact, ...]
    hours: str | None
    regions: tuple[str, ...]
    languages: tuple[str, ...]
    crisis: bool


@dataclass(frozen=True, slots=True)
class EventView:
    when: str
    starts_iso: str
    location: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class DropView:
    title: str
    href: str
    summary: str | None
    kind: str
    kind_label: str
    date: str
    date_iso: str
    campaign: Anchor
    creators: tuple[Anchor, ...]
    organisations: tuple[Anchor, ...]
    topics: tuple[Anchor, ...]
    content_warning: str | None
    image: Picture | None
    blur_images: bool
    links: tuple[Anchor, ...]
    event: EventView | None
    body: Body  # noting whether a page reads it (see `bodyread`)
    label: str | None  # preview only: "Draft", "Scheduled for ...", "Expired"


@dataclass(frozen=True, slots=True)
class CampaignCard:
    title: str
    href: str
    hashtag: str | None
    summary: str | None
    dates: str
    state: str
    state_label: str
    hero: Picture | None


@dataclass(frozen=True, slots=True)
class CreatorView:
    name: str
    href: str
    handle: str | None
    pronouns: str | None
    avatar: Picture | None
    links: tuple[Anchor, ...]
    topics: tuple[Anchor, ...]
    bio: Html
    drops: tuple[DropView, ...]  # empty in lists of creators: see `updates`
    updates: int  # how many drops the site shows crediting them


@dataclass(frozen=True, slots=True)
class OrganisationView:
    name: str
    href: str
    website: str
    summary: str | None
    logo: Picture | None
    regions: tuple[str, ...]
    topics: tuple[Anchor, ...]
    helplines: tuple[HelplineView, ...]
    description: Html


@dataclass(frozen=True, slots=True)
class CampaignView:
    card: CampaignCard
    intro: Html | None
    drops: tuple[DropView, ...]
    next_drop: str | None
    creators: tuple[CreatorView, ...]
    organisations: tuple[OrganisationView, ...]
    topics: tuple[Anchor, ...]
    links: tuple[Anchor, ...]


@dataclass(frozen=True, slots=True)
class PageView:
    title: str
    summary: str | None
    content_warning: str | None
    topics: tuple[Anchor, ...]
    body: Html


def topic_name(slug: str) -> str:
    return slug.replace("-", " ").capitalize()


def day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


# A day has many drops: each day's text made once (strftime's month name is
# slow), and held once however many views show it.
_day = lru_cache(maxsize=4096)(day)
_iso_day = lru_cache(maxsize=4096)(date.isoformat)


def moment(value: datetime, zone: ZoneInfo) -> str:
    local = value.astimezone(zone)
    return f"{local:%A} {day(local)}, {local:%H:%M %Z}"


def tel(number: str) -> str:
    return "tel:" + re.sub(r"[^0-9+]", "", number)


def sms(number: str, body: str | None = None) -> str:
    href = "sms:" + re.sub(r"[^0-9+]", "", number)
    return f"{href}?body={quote(body)}" if body else href


Fact = tuple[str, str]  # (kind, key): one thing a page read of the published set
Asked = dict[Fact, str]  # each fact read, and the text of what it was
Facts = dict[str, list[str]]  # the keys of the facts read, by kind: as the cache keeps them


class Read(NamedTuple):
    """The facts views read, as a later build's records keep them: the texts of
    what each said, for every page and drop view of a large site, were a tenth
    of its memory at the end of a cold build."""

    answers: str  # `digest_asked`
    facts: Encoded  # `facts_of`, as the cache's JSON text

    @classmethod
    def of(cls, asked: Asked) -> Read:
        return cls(digest_asked(asked), Encoded(encode(facts_of(asked))))


class MadeView:
    """A drop's view, with what it read of the published set; that as a later
    build keeps it (`Read`) is worked out when first asked for, and kept with
    the view between `serve`'s rebuilds. Outside `serve`, `settle` lets go of
    what each fact said once it is: every drop's view is held till a build's
    last page."""

    __slots__ = ("view", "_asked", "_read")

    def __init__(self, view: DropView, asked: Asked) -> None:
        self.view = view
        self._asked: Asked | None = asked
        self._read: Read | None = None

    @property
    def asked(self) -> Asked:
        """What it read, and what each fact said (until `settle`)."""
        if self._asked is None:
            raise RuntimeError("a settled view's facts were asked for what they said")
        return self._asked

    @property
    def read(self) -> Read:
        if self._read is None:
            self._read = Read.of(self.asked)
        return self._read

    def settle(self) -> None:
        """Work out `read` now, and let go of `asked`."""
        _ = self.read
        self._asked = None


class Views:
    """Builds views for one published site; cheap to call repeatedly.

    While a page's views are made (`showing`), what they read of the published
    set goes through `fact`, which notes it: the page's own reads, and for each
    drop view its own (`made_drops`). So a later build can tell, without making
    the views, whether what a page read is still so (`answers`), and a drop
    going live makes only the pages that read something about it look again.
    Reading `pub` itself while showing raises, so no read goes unnoted.
    """

    def __init__(
        self,
        pub: Published,
        *,
        cache: Cache | None = None,
        bodies: Bodies | None = None,
        inputs: Inputs | None = None,
    ) -> None:
        """`bodies` reads a drop's body text or HTML back, for a record that
        holds none (see `Markup`): only for the pages made, and the rare body
        rendered again.
        With `inputs`, a drop's view made by an earlier build in this process
        (`serve`) is taken again when its file, every other source and the
        facts it read are the same (`Cache.made`)."""
        self._pub = pub
        self._inputs = inputs
        self.preview = pub.preview
        self.g = pub.graph
        self.u = pub.graph.urls
        self._pages = self._existing_pages()
        self.cache = cache or Cache.none()
        self._converter: Converter | None = None  # only for the rare re-render
        self._bodies = bodies
        self._owners: dict[int, Drop] | None = None  # id of a drop's body -> the drop
        # By id: a drop looks the same on every page; and what its view read.
        self._drops: dict[int, DropView] = {}
        self._drop_facts: dict[int, tuple[Drop, MadeView]] = {}
        # By slug: shown on each of its drops' pages; and what the card read.
        self._cards: dict[str, tuple[CampaignCard, Asked]] = {}
        self._relinked: dict[str, str] = {}
        self._anchors: dict[tuple[str, bool], Anchor] = {}  # by site path, and if it exists
        self._shown: set[int] | None = None  # ids of the drops shown, while `showing`
        self._asked: Asked | None = None  # what the views being made read, while `showing`
        self._by_path: dict[str, Drop] | None = None

    @property
    def pub(self) -> Published:
        """The published set, for planning pages; not while their views are made."""
        if self._asked is not None:
            raise RuntimeError("a page's views read the published set through Views.fact only")
        return self._pub

    def fact(self, kind: str, key: str) -> Any:
        """One thing the published set says (see `_FACTS`), noted while `showing`."""
        value, text = _FACTS[kind](self, key)
        if self._asked is not None:
            self._asked[kind, key] = text
        return value

    def answers(self, facts: Facts) -> str | None:
        """A hash of what each fact says now, to compare with `digest_asked` of
        what a page read when it was made; None for a fact of an unknown kind."""
        if any(kind not in _FACTS for kind in facts):
            return None
        return _digest_texts(facts, lambda kind, key: _FACTS[kind](self, key)[1])

    def made_drops(self) -> list[tuple[Drop, MadeView]]:
        """Each drop whose view this build made or took again, with what the view read."""
        return list(self._drop_facts.values())

    def asking(self, make: Callable[[], T]) -> tuple[T, Asked]:
        """What `make` returns, and the facts it read (not noted for the page)."""
        outer, self._asked = self._asked, {}
        try:
            return make(), self._asked
        finally:
            self._asked = outer

    def _exists(self, path: str) -> bool:
        return bool(self.fact("page", path))

    def _drop_at(self, path: str) -> Drop | None:
        if self._by_path is None:
            self._by_path = {d.span.path: d for d in self.g.drops}
        return self._by_path.get(path)

    def listed_creators(self) -> tuple[str, ...]:
        """The creators the creators page lists."""
        return tuple(self.fact("creators", ""))

    def topic_counts(self) -> tuple[tuple[str, int], ...]:
        """Each topic with a page, and how many drops it shows."""
        return tuple(self.fact("topics", ""))

    def _existing_pages(self) -> set[str]:
        """Every site path the output will hold; links to anything else are dropped."""
        p, g = self._pub, self.g
        pages = {"/", urls.creators(), urls.organisations(), urls.topics(), urls.help_page()}
        pages |= {urls.campaign(c) for c in g.campaigns}
        pages |= {urls.drop(d.campaign, d.slug) for d in p.drops}
        pages |= {urls.creator(s) for s in p.creators}
        pages |= {urls.organisation(s) for s in g.organisations}
        pages |= {urls.topic(t) for t in p.topics}
        pages |= {urls.page(s) for s in g.pages}
        pages |= {"/" + rel for rel in g.static}
        return pages | p.media

    def html(self, markup: Markup) -> Html:
        """A body's HTML, re-rendered without links to pages that are not published."""
        dangling = self._dangling(markup)
        if dangling:
            return Html(self._convert(markup, dangling, self.u.href))
        return self._as_rendered(markup)

    def _as_rendered(self, markup: Markup) -> Html:
        """A body's HTML as validation rendered it, every site link kept."""
        if markup.html is None:  # a record from the cache: its HTML is kept beside it
            return self._read_back(markup).html(self._owner(markup))
        # the common case: the HTML as rendered (or held compressed), not copied
        if isinstance(markup.html, (Html, PackedHtml)):
            return markup.html  # type: ignore[return-value]  # the same to templates
        return Html(markup.html)

    def absolute_html(self, markup: Markup) -> str:
        """A body's HTML with absolute URLs, for feed readers that have no page address."""
        return self._convert(markup, self._dangling(markup), self.u.absolute)

    def absolute_key(self, markup: Markup) -> str:
        """What `absolute_html` of this body is made from, hashed: the same key,
        the same HTML. A feed is known by these, not by its bodies' text."""
        return self._relink_key(markup, self._dangling(markup), self.u.absolute)

    def _dangling(self, markup: Markup) -> set[str]:
        return {
            url
            for _i, url, image, _alt in markup.refs.targets()
            if url.startswith("/") and not image and not self._exists(urls.path_of(url))
        }

    def _convert(self, markup: Markup, dangling: set[str], link: Callable[[str], str]) -> str:
        """Render again with other link targets (cached: feeds do this on every build)."""
        key = self._relink_key(markup, dangling, link)
        known = self._relinked_as(key)
        if known is None:
            known = self._absolutized(markup, dangling, link)
            if known is None:
                known = self._relink(self._text(markup), dangling, link)
            self._keep_relinked(key, known)
        return known

    def _absolutized(
        self, markup: Markup, dangling: set[str], link: Callable[[str], str]
    ) -> str | None:
        """The body's HTML with absolute links made from its page HTML, without
        its Markdown (`markup.absolutize`), when that gives the very same: with
        raw HTML off and no link left out (dangling); None otherwise."""
        if link != self.u.absolute or dangling or self.g.site.allow_html:
            return None
        return absolutize(str(self._as_rendered(markup)), self.u.origin)

    def _text(self, markup: Markup) -> str:
        """A body's Markdown text, read back from its drop's file if its record holds none."""
        if markup.source is not None:
            return markup.source
        return self._read_back(markup).text(self._owner(markup))

    def _read_back(self, markup: Markup) -> Bodies:
        if self._bodies is None:
            raise RuntimeError("a body without its text or HTML, and no way to read it back")
        return self._bodies

    def _owner(self, markup: Markup) -> Drop:
        if self._owners is None:
            self._owners = {id(d.body): d for d in self.g.drops}
        if id(markup) not in self._owners:
            raise RuntimeError("a body without its text or HTML, and no drop holding it")
        return self._owners[id(markup)]

    def _relinked_as(self, key: str) -> str | None:
        """A body rendered again, from this build (a drop is in two feeds) or the cache."""
        if key not in self._relinked:
            cached = self.cache.get("relink", key)
            if not isinstance(cached, str):
                return None
            self._relinked[key] = cached
        return self._relinked[key]

    def _keep_relinked(self, key: str, html: str) -> None:
        self.cache.put("relink", key, html)
        self._relinked[key] = html

    def _relink_key(self, markup: Markup, dangling: set[str], link: Callable[[str], str]) -> str:
        return digest(
            "relink",
            self.u.base_url,
            str(self.g.site.allow_html),
            link.__name__,
            markup.source_hash,
            *sorted(dangling),
        )

    def _relink(self, text: str, dangling: set[str], link: Callable[[str], str]) -> str:
        if self._converter is None:
            self._converter = Converter(
                allow_html=self.g.site.allow_html, external=self.u.is_external
            )
        return self._converter.convert(
            text,
            origin=Span("", 1, 1),
            rewrite=lambda p: None if p in dangling else link(p),
        ).html

    def prefetch_html(self, drops: Iterable[Drop]) -> None:
        """Read back now the HTML of these drops' bodies that their records do not
        hold, for the views about to be made (see `Bodies`)."""
        if self._bodies is not None:
            self._bodies.prefetch(d for d in drops if id(d) not in self._drops)

    def prefetch_absolute(self, markups: list[Markup], jobs: int) -> None:
        """Render these bodies for `absolute_html` now, over `jobs` processes: a
        cold build renders every feed entry's body a second time."""
        link = self.u.absolute
        todo: dict[str, tuple[str, set[str]]] = {}
        for markup in markups:
            dangling = self._dangling(markup)
            key = self._relink_key(markup, dangling, link)
            if key in todo or self._relinked_as(key) is not None:
                continue
            made = self._absolutized(markup, dangling, link)
            if made is not None:  # no Markdown again: not worth a worker
                self._keep_relinked(key, made)
            else:
                todo[key] = (self._text(markup), dangling)  # read here, not in a worker
        jobs_todo = list(todo.values())
        done = workers.run(lambda i: self._relink(*jobs_todo[i], link), range(len(todo)), jobs=jobs)
        for key, html in zip(todo, done, strict=True):
            self._keep_relinked(key, html)

    def feed_lead(self, d: Drop) -> tuple[str, ...]:
        """What a drop's feed entry shows before its body (`absolute_html`), as
        HTML: its image, its event's time."""
        c = self.g.campaign_of(d)
        parts = []
        if d.image is not None:
            src, alt = escape(self.u.absolute(d.image.src)), escape(d.image.alt)
            parts.append(f'<p><img src="{src}" alt="{alt}"></p>')
        event = self._event(d, c)
        if event is not None:
            where = f", {escape(event.location)}" if event.location else ""
            parts.append(f"<p><strong>When:</strong> {escape(event.when)}{where}</p>")
        return tuple(parts)

    def link(self, site_path: str) -> str:
        return self.u.href(site_path)

    def picture(self, image: Image | None) -> Picture | None:
        if image is None:
            return None
        return Picture(self.u.href(image.src), image.alt, self.u.absolute(image.src))

    def anchor_link(self, link: Link) -> Anchor:
        """A YAML link; a site path that is not (yet) published is shown as text."""
        if not link.url.startswith("/"):
            return Anchor(link.title, link.url, link.description)
        href = self.u.href(link.url) if self._exists(urls.path_of(link.url)) else None
        return Anchor(link.title, href, link.description)

    def topic(self, slug: str) -> Anchor:
        path = urls.topic(slug)
        return self._anchor(path, self._exists(path), lambda: topic_name(slug))

    def creator_anchor(self, slug: str) -> Anchor:
        path = urls.creator(slug)
        return self._anchor(path, self._exists(path), lambda: self.g.creators[slug].name)

    def organisation_anchor(self, slug: str) -> Anchor:
        path = urls.organisation(slug)
        return self._anchor(path, True, lambda: self.g.organisations[slug].name)

    def _anchor(self, path: str, exists: bool, name: Callable[[], str]) -> Anchor:
        """The link to a page of the site, one object for all the views that
        show it: every drop's view links to its campaign, topics and creators,
        and a large site's views are held till its last page."""
        found = self._anchors.get((path, exists))
        if found is None:
            found = Anchor(name(), self.u.href(path) if exists else None)
            self._anchors[path, exists] = found
        return found

    def showing(self, make: Callable[[], T]) -> tuple[T, set[int], Asked]:
        """What `make` returns, the ids of the drops whose views it took, and
        the facts it read itself (the drop views' are `made_drops`)."""
        self._shown = set()
        try:
            value, asked = self.asking(make)
            return value, self._shown, asked
        finally:
            self._shown = None

    def drop(self, d: Drop) -> DropView:
        if self._shown is not None:
            self._shown.add(id(d))
        view = self._drops.get(id(d))
        if view is None:
            made = self._drop_view(d)
            if not self.cache.warm:  # no later build in this process asks again
                made.settle()
            view = self._drops[id(d)] = made.view
            self._drop_facts[id(d)] = (d, made)
        return view

    def _drop_view(self, d: Drop) -> MadeView:
        """A drop's view and what it read, as an earlier build made them if
        what the view depends on is the same. A view is made from the drop's
        file, the other sources (its campaign, creators, the site's settings)
        and the facts it read, so `serve` need not make again the hundreds of
        views a campaign page lists after an edit of one drop."""
        return self.cache.made(
            "drop-view",
            lambda: self._drop_view_key(d),
            lambda: MadeView(*self.asking(lambda: self._drop(d))),
            holds=lambda known: isinstance(known, MadeView) and self._still_so(known.asked),
        )

    def _drop_view_key(self, d: Drop) -> str | None:
        found = self._inputs.drops.get(d.span.path) if self._inputs is not None else None
        if self._inputs is None or found is None:
            return None
        return digest("drop-view", self._inputs.site, d.span.path, found)

    def _still_so(self, asked: Asked) -> bool:
        """Whether every fact read says now what it said then."""
        return all(_FACTS[kind](self, key)[1] == text for (kind, key), text in asked.items())

    def _status(self, d: Drop) -> str:
        return str(self.fact("status", d.span.path))

    def _drop(self, d: Drop) -> DropView:
        c = self.g.campaign_of(d)
        status = self._status(d)
        local = d.publish_at.astimezone(c.timezone).date()
        return DropView(
            title=d.title,
            href=self.u.href(urls.drop(d.campaign, d.slug)),
            summary=d.summary,
            kind=d.kind,
            kind_label=KIND_LABELS[d.kind],
            date=_day(local),
            date_iso=_iso_day(local),
            campaign=self._anchor(urls.campaign(c.slug), True, lambda: c.title),
            creators=tuple(self.creator_anchor(r.slug) for r in d.creators),
            organisations=tuple(self.organisation_anchor(r.slug) for r in d.organisations),
            topics=tuple(self.topic(t) for t in d.topics),
            content_warning=d.content_warning,
            image=self.picture(d.image),
            blur_images=d.blur_images,
            links=tuple(self.anchor_link(link) for link in d.links),
            event=self._event(d, c),
            body=Body(self.html(d.body)),
            label=self._label(d, c) if status != "published" else None,
        )

    def _label(self, d: Drop, c: Campaign) -> str:
        status = self._status(d)
        if status == "scheduled":
            return f"Scheduled for {moment(d.publish_at, c.timezone)}"
        return status.capitalize()

    def _event(self, d: Drop, c: Campaign) -> EventView | None:
        e = d.event
        if e is None:
            return None
        when = moment(e.starts, c.timezone)
        if e.ends is not None:
            ends = e.ends.astimezone(c.timezone)
            same_day = ends.date() == e.starts.astimezone(c.timezone).date()
            when += f" to {ends:%H:%M %Z}" if same_day else f" to {moment(e.ends, c.timezone)}"
        return EventView(when, e.starts.isoformat(), e.location, e.url)

    def campaign_card(self, c: Campaign) -> CampaignCard:
        known = self._cards.get(c.slug)
        if known is None:
            known = self._cards[c.slug] = self.asking(lambda: self._campaign_card(c))
        card, asked = known
        if self._asked is not None:
            self._asked.update(asked)  # read by each page that shows the card
        return card

    def _campaign_card(self, c: Campaign) -> CampaignCard:
        state = self.fact("state", c.slug)
        return CampaignCard(
            title=c.title,
            href=self.u.href(urls.campaign(c.slug)),
            hashtag=c.hashtag,
            summary=c.summary,
            dates=f"{day(c.starts)} to {day(c.ends)}",
            state=state,
            state_label=STATE_LABELS[state],
            hero=self.picture(c.hero),
        )

    def campaign(self, c: Campaign) -> CampaignView:
        next_drop = self.fact("next", c.slug)
        return CampaignView(
            card=self.campaign_card(c),
            intro=self.html(c.intro) if c.intro else None,
            drops=tuple(self.drop(d) for d in self.fact("campaign", c.slug)),
            next_drop=day(next_drop) if next_drop else None,
            creators=tuple(self.creator(r.slug, with_drops=False) for r in c.creators),
            organisations=tuple(self.organisation(r.slug) for r in c.organisations),
            topics=tuple(self.topic(t) for t in c.topics),
            links=tuple(self.anchor_link(link) for link in c.links),
        )

    def creator(self, slug: str, *, with_drops: bool = True) -> CreatorView:
        cr: Creator = self.g.creators[slug]
        credited: tuple[Drop, ...] = self.fact("credited", slug)
        drops = credited if with_drops else ()
        return CreatorView(
            name=cr.name,
            href=self.u.href(urls.creator(slug)),
            handle=cr.handle,
            pronouns=cr.pronouns,
            avatar=self.picture(cr.avatar),
            links=tuple(self.anchor_link(link) for link in cr.links),
            topics=tuple(self.topic(t) for t in cr.topics),
            bio=self.html(cr.bio),
            drops=tuple(self.drop(d) for d in drops),
            updates=len(credited),
        )

    def organisation(self, slug: str) -> OrganisationView:
        o: Organisation = self.g.organisations[slug]
        return OrganisationView(
            name=o.name,
            href=self.u.href(urls.organisation(slug)),
            website=o.website,
            summary=o.summary,
            logo=self.picture(o.logo),
            regions=o.regions,
            topics=tuple(self.topic(t) for t in o.topics),
            helplines=tuple(self.helpline(slug, h) for h in self.fact("helplines", slug)),
            description=self.html(o.description),
        )

    def helpline(self, org_slug: str, h: Helpline) -> HelplineView:
        contacts = []
        if h.phone:
            contacts.append(Contact("Call", h.phone, tel(h.phone)))
        if h.sms:
            contacts.append(Contact("Text", h.sms, sms(h.sms)))
        if h.text:
            shown = f"{h.text.keyword} to {h.text.number}"
            contacts.append(Contact("Text", shown, sms(h.text.number, h.text.keyword)))
        if h.chat:
            contacts.append(Contact("Chat online", _host(h.chat), h.chat))
        if h.url:
            contacts.append(Contact("Website", _host(h.url), h.url))
        return HelplineView(
            name=h.name,
            organisation=self.organisation_anchor(org_slug),
            contacts=tuple(contacts),
            hours=h.hours,
            regions=h.regions or self.g.organisations[org_slug].regions,
            languages=h.languages,
            crisis=h.crisis,
        )

    def help_block(self) -> tuple[HelplineView, ...]:
        """The lines of the always-visible "Get help now" block, crisis lines first."""
        return tuple(self.helpline(slug, line) for slug, line in self.fact("help", ""))

    def all_helplines(self) -> dict[str, tuple[HelplineView, ...]]:
        """Every current line grouped by region ("Everywhere" for lines with none)."""
        groups: dict[str, list[HelplineView]] = {}
        for slug in self.g.organisations:
            for h in self.fact("helplines", slug):
                view = self.helpline(slug, h)
                for region in view.regions or ("Everywhere",):
                    groups.setdefault(region, []).append(view)
        return {r: tuple(sorted(v, key=lambda x: not x.crisis)) for r, v in sorted(groups.items())}

    def page(self, p: Page) -> PageView:
        return PageView(
            title=p.title,
            summary=p.summary,
            content_warning=p.content_warning,
            topics=tuple(self.topic(t) for t in p.topics),
            body=self.html(p.body),
        )


def _host(url: str) -> str:
    return re.sub(r"^https?://(www\.)?", "", url).rstrip("/")


def facts_of(asked: Asked) -> Facts:
    """The facts read, without what they said."""
    facts: Facts = {}
    for kind, key in asked:
        facts.setdefault(kind, []).append(key)
    return facts


def digest_asked(asked: Asked) -> str:
    """A hash of what a page's views read, as `Views.answers` makes of them later."""
    return _digest_texts(facts_of(asked), lambda kind, key: asked[kind, key])


def _digest_texts(facts: Facts, text: Callable[[str, str], str]) -> str:
    """A hash of each fact with its `text`: one function for the answers a page
    was made from and for those asked again, so they hash alike."""
    texts = [(kind, keys, [text(kind, key) for key in keys]) for kind, keys in facts.items()]
    return digest("asked", repr(texts))


# What views may read of the published set: for each kind of fact, its value
# for a key, and that value as text (what a later build compares).


def _page_fact(v: Views, path: str) -> tuple[bool, str]:
    found = path in v._pages
    return found, "1" if found else "0"


def _status_fact(v: Views, path: str) -> tuple[str | None, str]:
    d = v._drop_at(path)
    status = v._pub.status.get(d) if d is not None else None
    return status, str(status)


def _drops_text(drops: tuple[Drop, ...]) -> str:
    return repr(tuple(d.span.path for d in drops))


def _next_fact(v: Views, slug: str) -> tuple[date | None, str]:
    found = v._pub.next_drop.get(slug)
    return found, str(found)


def _campaign_fact(v: Views, slug: str) -> tuple[tuple[Drop, ...], str]:
    drops = v._pub.by_campaign.get(slug, ())
    return drops, _drops_text(drops)


def _credited_fact(v: Views, slug: str) -> tuple[tuple[Drop, ...], str]:
    drops = v._pub.credited.get(slug, ())
    return drops, _drops_text(drops)


def _topics_fact(v: Views, _key: str) -> tuple[tuple[tuple[str, int], ...], str]:
    counts = tuple((slug, len(drops)) for slug, drops in v._pub.topics.items())
    return counts, repr(counts)


def _shown(value: Any) -> tuple[Any, str]:
    return value, repr(value)


_FACTS: dict[str, Callable[[Views, str], tuple[Any, str]]] = {
    "page": _page_fact,  # a site path the output holds (links to others are dropped)
    "status": _status_fact,  # a drop's, by its file
    "state": lambda v, slug: _shown(v._pub.states.get(slug)),
    "next": _next_fact,  # the date of a campaign's next drop
    "campaign": _campaign_fact,  # the drops a campaign's page lists
    "credited": _credited_fact,  # the drops that credit a creator
    "creators": lambda v, _key: _shown(v._pub.creators),
    "topics": _topics_fact,
    "helplines": lambda v, slug: _shown(v._pub.helplines.get(slug, ())),  # an organisation's
    "help": lambda v, _key: _shown(v._pub.help_lines),  # the help block's lines
}
