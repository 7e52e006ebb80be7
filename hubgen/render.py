"""Stage 5: render the published site to a mapping of output path to content.

Nothing is written here, and no page is rendered yet: each page is a
`PageJob`, a template from the page's theme, the drops the page shows, and a
function that makes its context of read-only views, which `produce` calls
only for pages it cannot find unchanged by what they read (`reads`). Feeds,
calendars and the sitemap are small and rendered here; files to copy (media,
static) are given as their source paths, so large media are never held in
memory.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError
from markupsafe import Markup as Html

from hubgen import feeds, ical, linkcheck, sitemap, structured, urls
from hubgen.cache import Cache, CachedFile
from hubgen.headers import render_headers
from hubgen.load import Theme
from hubgen.meanwhile import Meanwhile
from hubgen.model import Campaign, Drop, Organisation, Page
from hubgen.publish import Published
from hubgen.reads import Inputs
from hubgen.theme import Themes, themes_key
from hubgen.views import (
    Anchor,
    Asked,
    Bodies,
    CampaignCard,
    HelplineView,
    Picture,
    Views,
    digest_asked,
    topic_name,
)

Output = dict[str, bytes | Path]


@dataclass(frozen=True, slots=True)
class PageJob:
    """One HTML page to render: `make` makes its context, everything it shows;
    `shows` lists the drops among that, every one (see `reads`)."""

    theme: str | None
    template: str
    shows: tuple[Drop, ...]
    make: Callable[[], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Rendered:
    """The output files (pages still as jobs), and for each page its source file."""

    files: dict[str, bytes | Path | CachedFile | PageJob]
    sources: dict[str, str]  # output path -> site-relative source path or template
    themes: Themes  # renders the page jobs, and knows the theme assets they use
    base_url: str  # templates read it too: url() and rel() depend on it
    views: Views  # what the page jobs' contexts are made of
    inputs: Inputs | None  # what every page reads; None: pages are known by their views only
    feed_reads: list[feeds.FeedReads]  # of the feeds worked out, to record (`produce`)
    # Of files read where they were made (the calendars); None: unreadable there,
    # read again where the links are noted, which reports it.
    read_links: dict[str, list[str] | None]

    def take_pages(self) -> list[tuple[str, PageJob]]:
        """The page jobs, taken out of `files` (which keeps the other files):
        their contexts are most of the memory a large site's build holds, so
        whoever renders them can let each go once its page is done."""
        pages = [(out, job) for out, job in self.files.items() if isinstance(job, PageJob)]
        for out, _job in pages:
            del self.files[out]
        return pages

    def context(self, out: str, job: PageJob) -> tuple[dict[str, Any], Asked]:
        """The page's context, made now, and the facts of the published set it
        read (see `Views`). A page that shows a drop its job does not declare
        would be taken unchanged when that drop changes: a bug, so it stops the
        build."""
        context, shown, asked = self.views.showing(job.make)
        if not shown <= {id(d) for d in job.shows}:
            raise RuntimeError(f"{out} shows a drop its PageJob.shows leaves out")
        return context, asked


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """What every page shows: the header, the help block, the footer."""

    title: str
    language: str
    home: str
    help_href: str
    help_title: str
    help_lines: tuple[HelplineView, ...]
    nav: tuple[Anchor, ...]
    quick_exit: str
    quick_exit_key: bool  # opt-in: the small script for triple-Escape and history replace
    preview: bool


@dataclass(frozen=True, slots=True)
class Meta:
    """The head of one page."""

    title: str
    description: str
    canonical: str | None
    og_type: str
    image: Picture | None
    noindex: bool
    site_path: str
    feeds: tuple[Anchor, ...]  # Atom feeds this page advertises
    jsonld: Html | None
    colour: str  # the campaign colour of the page (the site's default elsewhere)


@dataclass(frozen=True, slots=True)
class Content:
    """What one page shows: its head's values, and its template's context."""

    title: str
    description: str | None = None
    image: Picture | None = None
    og_type: str = "website"
    in_campaign: Campaign | None = None  # its colour and feed
    jsonld: dict[str, Any] | None = None
    context: dict[str, object] = field(default_factory=dict)


class TemplateProblem(Exception):
    """A theme template failed; carries where, for a `path:line` diagnostic."""

    def __init__(self, filename: str, line: int, message: str) -> None:
        super().__init__(message)
        self.filename, self.line, self.message = filename, line, message

    def __reduce__(self) -> tuple[type, tuple[str, int, str]]:  # back from a worker process
        return (TemplateProblem, (self.filename, self.line, self.message))

    @classmethod
    def from_exception(cls, exc: Exception, template: str) -> TemplateProblem:
        """Where Jinja's error (or a missing template's) arose: at the
        innermost template line in its traceback, else at `template`."""
        if isinstance(exc, TemplateSyntaxError) and exc.filename:
            return cls(exc.filename, exc.lineno, f"template syntax: {exc.message}")
        frames = traceback.extract_tb(exc.__traceback__)
        filename, line, _frame = _template_line(frames) or (template, 1, 0)
        return cls(filename, line, f"template failed: {exc}")

    @classmethod
    def raised_by_template(cls, exc: Exception, template: str) -> TemplateProblem | None:
        """Any error raised while a page renders, as the theme's problem at
        the template line it came from: Jinja's own, and also Python's when a
        template line raised it (adding text to a number, dividing by zero, a
        filter given what it cannot take), named by its type. None when it
        was raised in hubgen's own code (a view, a helper), or no template
        line is in its traceback: a bug of hubgen's, which keeps its traceback."""
        if isinstance(exc, (TemplateError, LookupError)):
            return cls.from_exception(exc, template)
        frames = traceback.extract_tb(exc.__traceback__)
        where = _template_line(frames)
        if where is None or any(f.filename.startswith(_HUBGEN) for f in frames[where[2] :]):
            return None
        return cls(where[0], where[1], f"template failed: {type(exc).__name__}: {exc}")


_HUBGEN = os.path.join(os.path.dirname(__file__), "")  # this package's folder, with its separator


def _template_line(frames: list[traceback.FrameSummary]) -> tuple[str, int, int] | None:
    """The innermost template file and line of a traceback's `frames` (Jinja
    rewrites a render's traceback to show the template's own lines), and the
    number of that frame."""
    found = None
    for i, frame in enumerate(frames):
        if frame.filename.endswith((".html", ".xml", ".txt")):
            found = frame.filename, frame.lineno or 1, i
    return found


def render_site(
    pub: Published,
    themes: dict[str, Theme],
    *,
    cache: Cache,
    jobs: int = 1,
    inputs: Inputs | None = None,
    bodies: Bodies | None = None,
) -> Rendered:
    """The site as files and page jobs; `jobs` processes re-render feed bodies.
    With `inputs`, pages can be known unchanged without making their views;
    `bodies` reads back a cached drop's body text or HTML (see `Views`)."""
    return _Renderer(pub, themes, cache, jobs, bodies, inputs).render(inputs)


class _Renderer:
    def __init__(
        self,
        pub: Published,
        themes: dict[str, Theme],
        cache: Cache,
        jobs: int,
        bodies: Bodies | None,
        inputs: Inputs | None,
    ) -> None:
        self.jobs = jobs
        self.g = pub.graph
        self.u = pub.graph.urls
        self.cache = cache
        self.views = Views(pub, cache=cache, bodies=bodies, inputs=inputs)
        self.inputs = inputs
        self.feed_reads: list[feeds.FeedReads] = []
        self.read_links: dict[str, list[str] | None] = {}
        # Compiled templates are kept between the builds of one `serve`.
        self.themes = cache.made(
            "themes",
            lambda: themes_key(themes, self.g.site.theme, self.u.base_url),
            lambda: Themes(
                themes,
                site_theme=self.g.site.theme,
                href=self.u.href,
                external=self.u.is_external,
                cache=None if cache.warm else cache,  # see `Themes`
            ),
        )
        # What every page shows, and what it read of the published set.
        self.info, self.info_asked = self.views.asking(self._site_info)
        self.out: dict[str, bytes | Path | CachedFile | PageJob] = {}
        self.sources: dict[str, str] = {}
        self.lastmods: dict[str, date | None] = {}  # published pages, for the sitemap
        self._published_days: dict[int, date] | None = None  # by id of drop: see `_days`
        self.feed_links: dict[str | None, tuple[Anchor, ...]] = {}  # by campaign slug
        self.site_feed = Anchor(
            f"{self.g.site.title} (Atom feed)", self.u.href(feeds.site_feed_path())
        )

    @property
    def pub(self) -> Published:
        """For planning pages; their contents read it through `views.fact` (see `Views`)."""
        return self.views.pub

    def _site_info(self) -> SiteInfo:
        site = self.g.site
        nav = [self.views.anchor_link(link) for link in site.nav]
        pages = sorted(
            (p for p in self.g.pages.values() if p.nav),
            key=lambda p: (p.order is None, p.order or 0, p.title),
        )
        known = {a.href for a in nav}
        nav += [
            Anchor(p.title, href)
            for p in pages
            if (href := self.u.href(urls.page(p.slug))) not in known
        ]
        return SiteInfo(
            title=site.title,
            language=site.language,
            home=self.u.href("/"),
            help_href=self.u.href(urls.help_page()),
            help_title=site.help.title,
            help_lines=self.views.help_block(),
            nav=tuple(nav),
            quick_exit=site.quick_exit.url,
            quick_exit_key=site.quick_exit.key,
            preview=self.views.preview,
        )

    def page(
        self,
        site_path: str,
        template: str,
        content: Callable[[], Content],
        *,
        theme: str | None = None,
        source: str | None = None,
        lastmod: date | None = None,
        shows: Iterable[Drop] = (),
    ) -> None:
        """Plan one page: `content` makes what it shows, once it is needed;
        `shows` declares every drop it shows (see `reads`)."""
        try:
            filename = self.themes.filename(theme, template)
        except (TemplateError, LookupError) as exc:
            raise TemplateProblem.from_exception(exc, template) from None
        out = urls.output_file(site_path)
        make = partial(self._context, site_path, content)
        self.out[out] = PageJob(theme, template, tuple(shows), make)
        self.sources[out] = source or filename or template
        if site_path != urls.NOT_FOUND:
            self.lastmods[site_path] = lastmod

    def _context(self, site_path: str, content: Callable[[], Content]) -> dict[str, Any]:
        page = content()
        site = self.g.site
        c = page.in_campaign
        meta = Meta(
            title=page.title if site_path == "/" else f"{page.title} · {site.title}",
            description=page.description or site.description or site.title,
            canonical=None if site_path == urls.NOT_FOUND else self.u.absolute(site_path),
            og_type=page.og_type,
            image=page.image,
            noindex=self.views.preview,
            site_path=site_path,
            feeds=self._feeds(c),
            jsonld=structured.embed(page.jsonld) if page.jsonld else None,
            colour=c.colour if c is not None else "teal",
        )
        return {"site": self.info, "meta": meta, **page.context}

    def _feeds(self, c: Campaign | None) -> tuple[Anchor, ...]:
        """The feeds a page advertises: its campaign's, then the site's (one
        tuple per campaign, shared by its pages)."""
        slug = c.slug if c is not None else None
        if slug not in self.feed_links:
            links = (self.site_feed,)
            if c is not None:
                href = self.u.href(feeds.campaign_feed_path(c.slug))
                links = (Anchor(f"{c.title} (Atom feed)", href), *links)
            self.feed_links[slug] = links
        return self.feed_links[slug]

    def render(self, inputs: Inputs | None) -> Rendered:
        self.home()
        self.campaigns()
        self.people_and_partners()
        self.topics()
        self.help_and_pages()
        for path in sorted(self.pub.media):
            self.out[urls.output_file(path)] = self.g.media[path]
        for rel, source in sorted(self.g.static.items()):
            self.out[rel] = source
        self.machine_readable()
        if self.g.site.headers:
            self.out["_headers"] = render_headers(self.u)
        files = dict(sorted(self.out.items()))
        # Planned: the page jobs keep this renderer alive, but not what they let go
        # (each job, once its page is made; the feeds, once written).
        self.out.clear()
        self.lastmods.clear()
        self._published_days = None
        if inputs is not None:
            inputs = inputs.reading(digest_asked(self.info_asked))
        return Rendered(
            files,
            self.sources,
            self.themes,
            self.u.base_url,
            self.views,
            inputs,
            self.feed_reads,
            self.read_links,
        )

    def machine_readable(self) -> None:
        """Feeds, calendars, sitemap and robots.txt: for readers' tools and crawlers."""
        # The calendars are written meanwhile by a process of their own, and
        # their links read there (icalendar's full parse: as slow as writing
        # them), in about the time the feeds and the sitemap take here.
        calendars = Meanwhile(
            self.cache,
            ical.calendars(self.pub, self.views),
            jobs=self.jobs,
            then=linkcheck.links_or_none,
        )
        try:
            found, self.feed_reads = feeds.render_feeds(
                self.pub, self.views, cache=self.cache, jobs=self.jobs, inputs=self.inputs
            )
            self.out.update(found)
            self.out[urls.output_file(sitemap.SITEMAP)] = sitemap.render_sitemap(
                self.lastmods, self.u, cache=self.cache
            )
            self.out.update(calendars.files())
        finally:
            calendars.close()
        self.read_links = calendars.then()
        self.sources[urls.output_file(feeds.site_feed_path())] = self.g.site.span.path
        for c in self.g.campaigns.values():
            self.sources[urls.output_file(feeds.campaign_feed_path(c.slug))] = c.span.path
            self.sources[urls.output_file(ical.calendar_path(c.slug))] = c.span.path
        robots = sitemap.render_robots(self.u, preview=self.pub.preview)
        self.out[urls.output_file(sitemap.ROBOTS)] = robots

    def home(self) -> None:
        latest = self.pub.drops[:6]
        lastmod = self._latest(self.pub.drops)
        self.page("/", "home.html", partial(self._home, latest), lastmod=lastmod, shows=latest)

    def _home(self, latest: tuple[Drop, ...]) -> Content:
        cards = [self.views.campaign_card(c) for c in self.g.campaigns.values()]
        groups: dict[str, list[CampaignCard]] = {}
        for card in cards:
            groups.setdefault(card.state, []).append(card)
        return Content(
            self.g.site.title,
            context={
                "live": groups.get("live", []),
                "upcoming": groups.get("upcoming", []),
                "ended": list(reversed(groups.get("ended", []))),
                "latest": [self.views.drop(d) for d in latest],
            },
        )

    def _latest(self, drops: Iterable[Drop]) -> date | None:
        """The local date of the newest published drop: a page's lastmod."""
        # Mapped, not a generator: a site's drops are in five or six lists.
        return max(filter(None, map(self._days().get, map(id, drops))), default=None)

    def _days(self) -> dict[int, date]:
        """Each published drop's local date, by its id: worked out once, since
        a drop is in five or six lists and has a page of its own."""
        if self._published_days is None:
            status = self.pub.status
            self._published_days = {
                id(d): self._day(d) for d in self.pub.drops if status[d] == "published"
            }
        return self._published_days

    def _day(self, d: Drop) -> date:
        return d.publish_at.astimezone(self.g.campaign_of(d).timezone).date()

    def campaigns(self) -> None:
        for c in self.g.campaigns.values():
            drops = self.pub.by_campaign[c.slug]
            self.page(
                urls.campaign(c.slug),
                "campaign.html",
                partial(self._campaign, c),
                theme=c.theme,
                source=c.span.path,
                lastmod=self._latest(drops),
                shows=drops,
            )
        days = self._days()
        for d in self.pub.drops:
            c = self.g.campaign_of(d)
            self.page(
                urls.drop(d.campaign, d.slug),
                "drop.html",
                partial(self._drop, d, c),
                theme=c.theme,
                source=d.span.path,
                lastmod=days.get(id(d)) or self._day(d),
                shows=(d,),
            )

    def _campaign(self, c: Campaign) -> Content:
        view = self.views.campaign(c)
        hero = view.card.hero
        return Content(
            c.title,
            description=c.summary,
            image=hero,
            in_campaign=c,
            jsonld=structured.campaign_event(c, self.u, hero and hero.absolute),
            context={"campaign": view, "calendar": self.u.href(ical.calendar_path(c.slug))},
        )

    def _drop(self, d: Drop, c: Campaign) -> Content:
        drop = self.views.drop(d)
        card = self.views.campaign_card(c)
        image = drop.image or card.hero
        authors = [a.text for a in drop.creators]
        calendar = self.u.href(ical.calendar_path(c.slug)) if d.event else None
        return Content(
            f"{d.title} · {c.title}",
            description=d.summary,
            image=image,
            og_type="article",
            in_campaign=c,
            jsonld=structured.drop_data(d, c, self.u, authors, image and image.absolute),
            context={"drop": drop, "campaign": card, "calendar": calendar},
        )

    def people_and_partners(self) -> None:
        self.page(urls.creators(), "creators.html", self._creators)
        for slug in self.pub.creators:
            drops = self.pub.credited.get(slug, ())
            self.page(
                urls.creator(slug),
                "creator.html",
                partial(self._creator, slug),
                source=self.g.creators[slug].span.path,
                lastmod=self._latest(drops),
                shows=drops,
            )
        self.page(urls.organisations(), "organisations.html", self._organisations)
        for o in self.g.organisations.values():
            self.page(
                urls.organisation(o.slug),
                "organisation.html",
                partial(self._organisation, o),
                source=o.span.path,
            )

    def _creators(self) -> Content:
        creators = [self.views.creator(s, with_drops=False) for s in self.views.listed_creators()]
        return Content("Creators", context={"creators": creators})

    def _creator(self, slug: str) -> Content:
        view = self.views.creator(slug)
        return Content(
            view.name,
            description=self.g.creators[slug].handle,
            image=view.avatar,
            og_type="profile",
            context={"creator": view},
        )

    def _organisations(self) -> Content:
        orgs = [self.views.organisation(s) for s in self.g.organisations]
        return Content("Organisations", context={"organisations": orgs})

    def _organisation(self, o: Organisation) -> Content:
        view = self.views.organisation(o.slug)
        return Content(
            view.name,
            description=view.summary,
            image=view.logo,
            jsonld=structured.organisation(o, self.u),
            context={"organisation": view},
        )

    def topics(self) -> None:
        self.page(urls.topics(), "topics.html", self._topics)
        for slug, drops in self.pub.topics.items():
            self.page(
                urls.topic(slug),
                "topic.html",
                partial(self._topic, slug, drops),
                lastmod=self._latest(drops),
                shows=drops,
            )

    def _topics(self) -> Content:
        index = [(self.views.topic(t), count) for t, count in self.views.topic_counts()]
        return Content("Topics", context={"topics": index})

    def _topic(self, slug: str, drops: tuple[Drop, ...]) -> Content:
        name = topic_name(slug)
        return Content(
            f"Topic: {name}",
            description=f"Updates about {name.lower()}.",
            context={"topic": name, "drops": [self.views.drop(d) for d in drops]},
        )

    def help_and_pages(self) -> None:
        self.page(urls.help_page(), "help.html", self._help)
        for slug, p in self.g.pages.items():
            self.page(urls.page(slug), "page.html", partial(self._page, p), source=p.span.path)
        self.page(urls.NOT_FOUND, "404.html", lambda: Content("Page not found"))

    def _help(self) -> Content:
        return Content(
            self.g.site.help.title,
            description="Helplines you can call, text or chat with now.",
            context={"groups": self.views.all_helplines()},
        )

    def _page(self, p: Page) -> Content:
        return Content(p.title, description=p.summary, context={"page": self.views.page(p)})
