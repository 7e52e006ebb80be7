"""Stage 5: render the published site to a mapping of output path to content.

Nothing is written here, and no page is rendered yet: each page is a
`PageJob`, a template from the page's theme and a context of read-only views,
which `produce` renders (over worker processes) or finds unchanged. Feeds,
calendars and the sitemap are small and rendered here; files to copy (media,
static) are given as their source paths, so large media are never held in
memory.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError
from markupsafe import Markup as Html

from hubgen import feeds, ical, sitemap, structured, urls
from hubgen.cache import Cache
from hubgen.headers import render_headers
from hubgen.load import Theme
from hubgen.model import Campaign, Drop
from hubgen.publish import Published
from hubgen.theme import Themes, themes_key
from hubgen.views import Anchor, HelplineView, Picture, Views, topic_name

Output = dict[str, bytes | Path]


@dataclass(frozen=True)
class PageJob:
    """One HTML page to render: everything it shows is in `context`."""

    theme: str | None
    template: str
    context: dict[str, Any]


@dataclass(frozen=True)
class Rendered:
    """The output files (pages still as jobs), and for each page its source file."""

    files: dict[str, bytes | Path | PageJob]
    sources: dict[str, str]  # output path -> site-relative source path or template
    themes: Themes  # renders the page jobs, and knows the theme assets they use
    base_url: str  # templates read it too: url() and rel() depend on it

    def take_pages(self) -> list[tuple[str, PageJob]]:
        """The page jobs, taken out of `files` (which keeps the other files):
        their contexts are most of the memory a large site's build holds, so
        whoever renders them can let each go once its page is done."""
        pages = [(out, job) for out, job in self.files.items() if isinstance(job, PageJob)]
        for out, _job in pages:
            del self.files[out]
        return pages


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


class TemplateProblem(Exception):
    """A theme template failed; carries where, for a `path:line` diagnostic."""

    def __init__(self, filename: str, line: int, message: str) -> None:
        super().__init__(message)
        self.filename, self.line, self.message = filename, line, message

    def __reduce__(self) -> tuple[type, tuple[str, int, str]]:  # back from a worker process
        return (TemplateProblem, (self.filename, self.line, self.message))

    @classmethod
    def from_exception(cls, exc: Exception, template: str) -> TemplateProblem:
        if isinstance(exc, TemplateSyntaxError) and exc.filename:
            return cls(exc.filename, exc.lineno, f"template syntax: {exc.message}")
        filename, line = template, 1
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename.endswith((".html", ".xml", ".txt")):
                filename, line = frame.filename, frame.lineno or 1
        return cls(filename, line, f"template failed: {exc}")


def render_site(
    pub: Published, themes: dict[str, Theme], *, cache: Cache, jobs: int = 1
) -> Rendered:
    """The site as files and page jobs; `jobs` processes re-render feed bodies."""
    return _Renderer(pub, themes, cache, jobs).render()


class _Renderer:
    def __init__(self, pub: Published, themes: dict[str, Theme], cache: Cache, jobs: int) -> None:
        self.pub = pub
        self.jobs = jobs
        self.g = pub.graph
        self.u = pub.graph.urls
        self.cache = cache
        self.views = Views(pub, cache=cache)
        # Compiled templates are kept between the builds of one `serve`.
        self.themes = cache.made(
            "themes",
            lambda: themes_key(themes, self.g.site.theme, self.u.base_url),
            lambda: Themes(
                themes, site_theme=self.g.site.theme, href=self.u.href, external=self.u.is_external
            ),
        )
        self.info = self._site_info()
        self.out: dict[str, bytes | Path | PageJob] = {}
        self.sources: dict[str, str] = {}
        self.lastmods: dict[str, date | None] = {}  # published pages, for the sitemap
        self.feed_links: dict[str | None, tuple[Anchor, ...]] = {}  # by campaign slug
        self.site_feed = Anchor(
            f"{self.g.site.title} (Atom feed)", self.u.href(feeds.site_feed_path())
        )

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
            preview=self.pub.preview,
        )

    def page(
        self,
        site_path: str,
        template: str,
        *,
        title: str,
        description: str | None = None,
        image: Picture | None = None,
        og_type: str = "website",
        theme: str | None = None,
        source: str | None = None,
        lastmod: date | None = None,
        in_campaign: Campaign | None = None,
        jsonld: dict[str, Any] | None = None,
        **context: object,
    ) -> None:
        site = self.g.site
        full_title = title if site_path == "/" else f"{title} · {site.title}"
        meta = Meta(
            title=full_title,
            description=description or site.description or site.title,
            canonical=None if site_path == urls.NOT_FOUND else self.u.absolute(site_path),
            og_type=og_type,
            image=image,
            noindex=self.pub.preview,
            site_path=site_path,
            feeds=self._feeds(in_campaign),
            jsonld=structured.embed(jsonld) if jsonld else None,
            colour=in_campaign.colour if in_campaign is not None else "teal",
        )
        try:
            filename = self.themes.env(theme).get_template(template).filename
        except (TemplateError, LookupError) as exc:
            raise TemplateProblem.from_exception(exc, template) from None
        out = urls.output_file(site_path)
        self.out[out] = PageJob(theme, template, {"site": self.info, "meta": meta, **context})
        self.sources[out] = source or filename or template
        if site_path != urls.NOT_FOUND:
            self.lastmods[site_path] = lastmod

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

    def render(self) -> Rendered:
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
        return Rendered(dict(sorted(self.out.items())), self.sources, self.themes, self.u.base_url)

    def machine_readable(self) -> None:
        """Feeds, calendars, sitemap and robots.txt: for readers' tools and crawlers."""
        self.out.update(feeds.render_feeds(self.pub, self.views, cache=self.cache, jobs=self.jobs))
        self.out.update(ical.render_calendars(self.pub, self.views, cache=self.cache))
        self.sources[urls.output_file(feeds.site_feed_path())] = self.g.site.span.path
        for c in self.g.campaigns.values():
            self.sources[urls.output_file(feeds.campaign_feed_path(c.slug))] = c.span.path
            self.sources[urls.output_file(ical.calendar_path(c.slug))] = c.span.path
        self.out[urls.output_file(sitemap.SITEMAP)] = sitemap.render_sitemap(
            self.lastmods, self.u, cache=self.cache
        )
        robots = sitemap.render_robots(self.u, preview=self.pub.preview)
        self.out[urls.output_file(sitemap.ROBOTS)] = robots

    def home(self) -> None:
        cards = [self.views.campaign_card(c) for c in self.g.campaigns.values()]
        groups = {
            state: [c for c in cards if c.state == state] for state in self.pub.states.values()
        }
        site = self.g.site
        self.page(
            "/",
            "home.html",
            title=site.title,
            lastmod=self._latest(self.pub.drops),
            live=groups.get("live", []),
            upcoming=groups.get("upcoming", []),
            ended=list(reversed(groups.get("ended", []))),
            latest=[self.views.drop(d) for d in self.pub.drops[:6]],
        )

    def _latest(self, drops: Iterable[Drop]) -> date | None:
        """The local date of the newest published drop: a page's lastmod."""
        return max((self._day(d) for d in drops if self.pub.status[d] == "published"), default=None)

    def _day(self, d: Drop) -> date:
        return d.publish_at.astimezone(self.g.campaign_of(d).timezone).date()

    def campaigns(self) -> None:
        for c in self.g.campaigns.values():
            view = self.views.campaign(c)
            self.page(
                urls.campaign(c.slug),
                "campaign.html",
                title=c.title,
                description=c.summary,
                image=view.card.hero,
                theme=c.theme,
                source=c.span.path,
                lastmod=self._latest(self.pub.by_campaign[c.slug]),
                in_campaign=c,
                jsonld=structured.campaign_event(
                    c, self.u, view.card.hero and view.card.hero.absolute
                ),
                campaign=view,
                calendar=self.u.href(ical.calendar_path(c.slug)),
            )
        for d in self.pub.drops:
            self.drop_page(d)

    def drop_page(self, d: Drop) -> None:
        c = self.g.campaign_of(d)
        drop = self.views.drop(d)
        card = self.views.campaign_card(c)
        image = drop.image or card.hero
        authors = [a.text for a in drop.creators]
        self.page(
            urls.drop(d.campaign, d.slug),
            "drop.html",
            title=f"{d.title} · {c.title}",
            description=d.summary,
            image=image,
            og_type="article",
            theme=c.theme,
            source=d.span.path,
            lastmod=self._day(d),
            in_campaign=c,
            jsonld=structured.drop_data(d, c, self.u, authors, image and image.absolute),
            drop=drop,
            campaign=card,
            calendar=self.u.href(ical.calendar_path(c.slug)) if d.event else None,
        )

    def people_and_partners(self) -> None:
        creators = [self.views.creator(s) for s in self.pub.creators]
        self.page(urls.creators(), "creators.html", title="Creators", creators=creators)
        for view, slug in zip(creators, self.pub.creators, strict=True):
            self.page(
                urls.creator(slug),
                "creator.html",
                title=view.name,
                description=self.g.creators[slug].handle,
                image=view.avatar,
                og_type="profile",
                source=self.g.creators[slug].span.path,
                lastmod=self._latest(self.pub.credited.get(slug, ())),
                creator=view,
            )
        orgs = [self.views.organisation(s) for s in self.g.organisations]
        self.page(
            urls.organisations(), "organisations.html", title="Organisations", organisations=orgs
        )
        for view, o in zip(orgs, self.g.organisations.values(), strict=True):
            self.page(
                urls.organisation(o.slug),
                "organisation.html",
                title=view.name,
                description=view.summary,
                image=view.logo,
                source=o.span.path,
                jsonld=structured.organisation(o, self.u),
                organisation=view,
            )

    def topics(self) -> None:
        index = [(self.views.topic(t), len(ds)) for t, ds in self.pub.topics.items()]
        self.page(urls.topics(), "topics.html", title="Topics", topics=index)
        for slug, drops in self.pub.topics.items():
            name = topic_name(slug)
            self.page(
                urls.topic(slug),
                "topic.html",
                title=f"Topic: {name}",
                description=f"Updates about {name.lower()}.",
                lastmod=self._latest(drops),
                topic=name,
                drops=[self.views.drop(d) for d in drops],
            )

    def help_and_pages(self) -> None:
        self.page(
            urls.help_page(),
            "help.html",
            title=self.g.site.help.title,
            description="Helplines you can call, text or chat with now.",
            groups=self.views.all_helplines(),
        )
        for slug, p in self.g.pages.items():
            self.page(
                urls.page(slug),
                "page.html",
                title=p.title,
                description=p.summary,
                source=p.span.path,
                page=self.views.page(p),
            )
        self.page(urls.NOT_FOUND, "404.html", title="Page not found")
