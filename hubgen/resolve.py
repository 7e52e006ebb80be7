"""Stage 3: join the validated records into one site graph, checking relations.

Everything that involves more than one file is checked here: references to
creators, organisations and campaigns; drops folders without a campaign; two
things claiming one URL; links and media that point at nothing. Relations stay
slugs; the graph answers lookups by key.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hubgen import urls
from hubgen.cache import Cache, digest
from hubgen.diagnostics import Diagnostics, Span
from hubgen.fieldtypes import url_problem
from hubgen.load import SourceTree
from hubgen.model import Campaign, Creator, Drop, Image, Link, Markup, Organisation, Page, Ref, Site
from hubgen.timeparse import format_local
from hubgen.validate import Validated

# Files hubgen writes at the top of the output, whatever the content.
BUILTIN_FILES = {
    "index.html": "the home page",
    "404.html": "the not-found page",
    "feed.xml": "the site feed",
    "sitemap.xml": "the sitemap",
    "robots.txt": "robots.txt",
    ".hubgen-manifest": "hubgen's list of written files",
}
# Written too when site.yaml says `headers: true`; otherwise a static file may be it.
HEADERS_FILE = "_headers"
# The site's paths and media files -> the drops (by their records' keys) whose links are right
_CLEAN = "clean-links"
_Verdict = Callable[
    ..., tuple[str, str] | None
]  # what is wrong with a link (url, image), if anything


@dataclass(frozen=True)
class SiteGraph:
    site: Site
    urls: urls.Urls
    campaigns: dict[str, Campaign]  # in order of start date
    drops: tuple[Drop, ...]  # oldest first
    creators: dict[str, Creator]
    organisations: dict[str, Organisation]
    pages: dict[str, Page]
    media: dict[str, Path]
    static: dict[str, Path]

    def campaign_of(self, drop: Drop) -> Campaign:
        return self.campaigns[drop.campaign]


def resolve_site(
    tree: SourceTree, v: Validated, diags: Diagnostics, *, cache: Cache | None = None
) -> SiteGraph:
    """The site as one graph, every reference and link in it checked. With
    `cache`, a drop whose links were all right against the same site is not
    checked again (see `_Checker.links`)."""
    campaigns = {c.slug: c for c in sorted(v.campaigns, key=lambda c: (c.starts, c.slug))}
    for folder, span in tree.drop_folders:
        if folder not in v.known["campaign"]:
            diags.error(
                span,
                "orphan-drops",
                f"drops folder '{folder}' has no campaign: add campaigns/{folder}.yaml "
                "or move the drops",
            )
    graph = SiteGraph(
        site=v.site,
        urls=v.urls,
        campaigns=campaigns,
        drops=tuple(
            sorted(
                (d for d in v.drops if d.campaign in campaigns),
                key=lambda d: (d.publish_at, d.campaign, d.slug),
            )
        ),
        creators={c.slug: c for c in v.creators},
        organisations={o.slug: o for o in v.organisations},
        pages={p.slug: p for p in sorted(v.pages, key=lambda p: p.slug)},
        media=tree.media,
        static=tree.static,
    )
    checker = _Checker(graph, v, diags)
    checker.references()
    checker.help_lines()
    paths = checker.claims(tree)
    checker.links(paths, cache or Cache.none())
    checker.schedule()
    checker.themes(set(tree.themes))
    return graph


class _Checker:
    def __init__(self, graph: SiteGraph, v: Validated, diags: Diagnostics) -> None:
        self.g = graph
        self.known = v.known
        # Check every validated record, also drops whose campaign is broken or
        # missing, so that fixing one file never reveals errors in another.
        self.campaigns = sorted(v.campaigns, key=lambda c: c.span)
        self.drops = sorted(v.drops, key=lambda d: d.span)
        self.keys = v.keys  # drop path -> its record's key
        self.diags = diags

    def references(self) -> None:
        g = self.g
        help_orgs = g.site.help.organisations or ()
        for c in self.campaigns:
            self._refs("creator", c.creators)
            self._refs("organisation", c.organisations)
        for d in self.drops:
            self._refs("creator", d.creators)
            self._refs("organisation", d.organisations)
        self._refs("organisation", help_orgs)

    def help_lines(self) -> None:
        """The help block must be able to show a crisis line, never only others."""
        chosen = self.g.site.help.organisations
        if not chosen:
            return
        orgs = [self.g.organisations[r.slug] for r in chosen if r.slug in self.g.organisations]
        if orgs and not any(h.crisis for o in orgs for h in o.helplines):
            self.diags.error(
                chosen[0].span,
                "no-crisis-line",
                "the help block would show no crisis line: add an organisation with a "
                "helpline marked crisis: true to help.organisations",
            )

    def _refs(self, kind: str, refs: tuple[Ref, ...]) -> None:
        known = self.known[kind]
        for ref in refs:
            if ref.slug not in known:
                close = difflib.get_close_matches(ref.slug, sorted(known), n=1)
                hint = f" — did you mean '{close[0]}'?" if close else ""
                folder = "content/creators" if kind == "creator" else "content/organisations"
                self.diags.error(
                    ref.span,
                    "unknown-ref",
                    f"unknown {kind} '{ref.slug}': no {folder}/{ref.slug}.md{hint}",
                )

    def claims(self, tree: SourceTree) -> set[str]:
        """Report output files claimed twice; return every site path that will exist."""
        owners: dict[str, tuple[Span | None, str]] = {
            name: (None, what) for name, what in BUILTIN_FILES.items()
        }
        for name, what in urls.RESERVED.items():
            owners[f"{name}/index.html"] = (None, what)
        if self.g.site.headers:
            owners[HEADERS_FILE] = (None, "the _headers file hubgen writes (headers: true)")
        for path, span, what in self._claimants(tree):
            out = urls.output_file(path)
            first = owners.get(out)
            if first is None:
                owners[out] = (span, what)
                continue
            first_span, first_what = first
            where = f" ({first_span})" if first_span else ""
            self.diags.error(
                span,
                "url-collision",
                f"{what} wants the URL {path}, which is already {first_what}{where}; "
                "rename one of them",
            )
        return self._site_paths(owners)

    def _claimants(self, tree: SourceTree) -> Iterator[tuple[str, Span, str]]:
        for c in self.campaigns:
            yield urls.campaign(c.slug), c.span, f"campaign '{c.slug}'"
        for d in self.drops:
            yield urls.drop(d.campaign, d.slug), d.span, f"drop '{d.slug}'"
        for p in self.g.pages.values():
            yield urls.page(p.slug), p.span, f"page '{p.slug}'"
        for rel in sorted(tree.static):
            span = Span(f"content/static/{rel}")
            yield "/" + rel, span, f"static file '{rel}'"

    def _site_paths(self, owners: dict[str, tuple[Span | None, str]]) -> set[str]:
        g = self.g
        claimed = [out for out, (span, _) in owners.items() if span is not None]
        paths = {"/" + out.removesuffix("index.html") for out in claimed}
        paths |= {"/" + out for out in claimed}
        paths |= set(urls.BUILTIN_PAGES)
        paths |= set(g.media)
        paths |= {urls.creator(s) for s in g.creators}
        paths |= {urls.organisation(s) for s in g.organisations}
        topics = {t for d in self.drops for t in d.topics}
        paths |= {urls.topic(t) for t in topics}
        return paths

    def links(self, paths: set[str], cache: Cache) -> None:
        """Every link and image. What a drop's links are judged by is its record
        and the site's paths and media files, nothing else: the drops whose
        links were all right against the same paths and media are kept in the
        cache by their records' keys ("clean-links"), and not judged again
        (a large site's 58,000 links were most of resolving it on every build)."""
        # Pages link to the same few pages again and again (a large site's
        # 60,000 links name 9,000 targets): each target is judged once.
        verdicts: dict[tuple[str, bool], tuple[str, str] | None] = {}

        def verdict(url: str, image: bool = False) -> tuple[str, str] | None:
            if (url, image) not in verdicts:
                verdicts[url, image] = self._verdict(url, paths, image=image)
            return verdicts[url, image]

        g = self.g
        for image in (*(c.hero for c in self.campaigns), *(c.avatar for c in g.creators.values())):
            self._image(image)
        for image in (o.logo for o in g.organisations.values()):
            self._image(image)
        for link in (*g.site.nav, *(x for c in self.campaigns for x in c.links)):
            self._link(link, verdict)
        for cr in g.creators.values():
            for link in cr.links:
                self._link(link, verdict)
        for markup in (c.intro for c in self.campaigns if c.intro is not None):
            self._markup(markup, verdict)
        for markup in (
            *(c.bio for c in g.creators.values()),
            *(o.description for o in g.organisations.values()),
            *(p.body for p in g.pages.values()),
        ):
            self._markup(markup, verdict)
        site = digest(_CLEAN, "\n".join(sorted(paths)), "\n".join(sorted(g.media)))
        known = cache.get(_CLEAN, site)
        shaped = isinstance(known, list) and all(type(k) is str for k in known)
        clean: set[str] = set(known) if shaped else set()  # type: ignore[arg-type]
        found = []
        for d in self.drops:
            key = self.keys.get(d.span.path)
            if key is not None and key in clean:
                found.append(key)
                continue
            right = self._image(d.image)
            right = all([self._link(link, verdict) for link in d.links]) and right
            if self._markup(d.body, verdict) and right and key is not None:
                found.append(key)
        if set(found) != clean:
            cache.put(_CLEAN, site, found)

    def _image(self, image: Image | None) -> bool:
        """Whether the image's file is there (else it is reported)."""
        if image is not None and (missing := self._missing_media(image.src)) is not None:
            self.diags.error(image.span, *missing)
            return False
        return True

    def _link(self, link: Link, verdict: _Verdict) -> bool:
        """Whether the link is right (else it is reported)."""
        if (found := verdict(link.url)) is not None:
            self.diags.error(link.span, *found)
            return False
        return True

    def _markup(self, markup: Markup, verdict: _Verdict) -> bool:
        """Whether every link and image of a body is right (else each wrong one is reported)."""
        right = True
        refs = markup.refs
        for i, url, image, alt in refs.targets():  # a span only for a link reported
            if image and not alt.strip():
                self.diags.error(
                    refs.span(i),
                    "alt-text",
                    f"image without alt text: write ![what it shows]({url})",
                )
                right = False
            if (found := verdict(url, image)) is not None:
                self.diags.error(refs.span(i), *found)
                right = False
        return right

    def _verdict(self, url: str, paths: set[str], *, image: bool) -> tuple[str, str] | None:
        """What is wrong with a link to `url` (its rule and message), if anything."""
        if not url or url.startswith("#"):
            return None
        problem = url_problem(url, site_paths=True)
        if problem:
            return "url", problem
        if not url.startswith("/"):
            return None
        path = urls.path_of(url)
        if image and not path.startswith("/media/"):
            return "media", f"an image must be a media file, /media/<file>, not {url}"
        if path.startswith("/media/") or image:
            return self._missing_media(path)
        if path not in paths:
            hint = f" — did you mean '{path}/'?" if path + "/" in paths else ""
            return "broken-link", f"link to a page that does not exist: {url}{hint}"
        return None

    def _missing_media(self, src: str) -> tuple[str, str] | None:
        if src not in self.g.media:
            return "missing-media", f"missing media file: {src} (expected content{src})"
        return None

    def themes(self, available: set[str]) -> None:
        site = self.g.site
        wanted = [(site.theme, site.span)] + [(c.theme, c.span) for c in self.campaigns]
        for name, span in wanted:
            if name not in available:
                self.diags.error(
                    span,
                    "unknown-theme",
                    f"unknown theme '{name}': no themes/{name}/ folder here or in hubgen; "
                    f"available: {', '.join(sorted(available))}",
                )

    def schedule(self) -> None:
        # Each campaign's instants made once, not twice for each of its drops.
        windows = {slug: (c.opens, c.closes) for slug, c in self.g.campaigns.items()}
        for d in self.g.drops:
            opens, closes = windows[d.campaign]
            if not opens <= d.publish_at < closes:
                c = self.g.campaign_of(d)
                self.diags.warning(
                    d.span,
                    "outside-campaign",
                    f"drop '{d.slug}' publishes at {format_local(d.publish_at, c.timezone)}, "
                    f"outside its campaign ({c.starts} to {c.ends})",
                )
