"""Stage 2: turn each loaded document into a model record, or say why not.

Each file is checked on its own against `schema`: types, unknown keys, dates,
slugs, URLs, alt text. Markdown is rendered here, once, because the links it
contains must be validated too; the bodies are rendered first, over worker
processes, and each rendering is kept in the build cache under a hash of its
text, so an unchanged body is never rendered again. Files that cannot become a record are left
out; their problems are already in the diagnostics. Relations between files
are checked later, in `resolve`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from sys import intern
from typing import Any, NamedTuple, Protocol, TypeVar
from zoneinfo import ZoneInfo

from markupsafe import Markup as Html

from hubgen import aside, collector, markup, records, workers
from hubgen.cache import Cache, Encoded, digest, encode
from hubgen.diagnostics import Diagnostic, Diagnostics, Span
from hubgen.errors import ContentErrors
from hubgen.fieldtypes import INVALID, SLUG, Ctx, Fields, Record, slug_problem
from hubgen.load import CreatorFile, Document, DropFile, SourceTree, read_drop, read_markdown
from hubgen.markup import Converter, TooDeep
from hubgen.model import (
    NO_LINKS,
    Allow,
    Campaign,
    Creator,
    Drop,
    Event,
    Helpline,
    HelpSettings,
    Image,
    Link,
    LinkRefs,
    Markup,
    Organisation,
    Page,
    QuickExit,
    Ref,
    Site,
    TextLine,
)
from hubgen.packed import PackedHtml
from hubgen.records import replaced
from hubgen.ruleset import safe_messaging
from hubgen.schema import (
    CAMPAIGN,
    CREATOR,
    DEFAULT_EXIT_URL,
    DROP,
    ORGANISATION,
    PAGE,
    SENSITIVE_TOPICS,
    SITE,
)
from hubgen.textreview import DROP_REVIEW, Item, Marks, drop_subject, review_file
from hubgen.urls import Urls

Rows = list[list[str | int]]  # diagnostics as cache data (`Diagnostic.as_row`)
_DATE_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}-")
UTC = ZoneInfo("UTC")
T = TypeVar("T")


@dataclass(frozen=True)
class Validated:
    site: Site
    urls: Urls
    campaigns: tuple[Campaign, ...]
    drops: tuple[Drop, ...]
    creators: tuple[Creator, ...]
    organisations: tuple[Organisation, ...]
    pages: tuple[Page, ...]
    # Slugs of every file of a kind, valid or not, so that a reference to a
    # broken file is not reported a second time as a reference to nothing.
    known: dict[str, frozenset[str]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # drop path -> hash of its bytes
    # drop path -> its record's key: a hash of its bytes and of the settings it was made with
    keys: dict[str, str] = field(default_factory=dict)
    kept: dict[str, str] = field(default_factory=dict)  # drop path -> its record's key, if cached
    # drop path -> what the safe-messaging review found in its own text
    # (`textreview.review_file`), kept in the cache with its record
    reviewed: dict[str, list[Diagnostic]] = field(default_factory=dict)
    # drop path -> its record's key and what reviewing it needs, for each drop
    # parsed now: reviewed once the rest of the build is under way (`aside`)
    unreviewed: dict[str, tuple[str, Item]] = field(default_factory=dict)
    # drop path -> the key of its record in the last build, for each drop whose
    # text alone changed since (its new record is the same but for its body)
    before: dict[str, str] = field(default_factory=dict)


def validate_site(
    tree: SourceTree,
    diags: Diagnostics,
    *,
    base_url: str | None,
    need_base_url: bool = False,
    cache: Cache | None = None,
    jobs: int = 1,
    file_hash: Callable[[str], str | None] | None = None,
    hashed: Callable[[str, str], None] | None = None,
    recorded: Callable[[str], str | None] | None = None,
) -> Validated:
    """Validate every file; `need_base_url` (for builds) requires a base_url somewhere.

    `file_hash` gives a file's hash (by its path) without reading it when it
    can (`unchanged.Sources.file_hash`): drops and creators the cache knows by
    it are not parsed. When the cache knows no drop, no drop file is hashed
    before it is parsed: `hashed` is told each one's hash as it was read.
    `recorded` gives the hash the last build recorded of a file: a drop parsed
    now whose record then differs from its new one in its body alone is in
    `Validated.before`.
    """
    site = _site(tree.site, diags)
    if site is not None and need_base_url and not (base_url or site.base_url):
        diags.error(
            site.span,
            "missing-field",
            "missing base_url: set base_url in site.yaml or pass --base-url",
        )
    site = site or _fallback_site()
    urls = Urls.for_base(base_url or site.base_url)
    v = _Validator(site, urls, diags, cache or Cache.none())
    campaigns = [c for doc in tree.campaigns if (c := v.campaign(doc))]
    zones = {c.slug: c.timezone for c in campaigns}
    drops = _Drops(v, tree, zones, file_hash or _unknown, hashed or _ignored, recorded or _unknown)
    creators = _Creators(v, tree.root, tree.creators, file_hash or _unknown)
    # Many drops to parse: their review waits for CPU the build leaves idle
    # (not in `serve`, whose drops are read once: a file saved meanwhile is the norm).
    drops.review_later = not v.cache.warm and aside.worth(len(drops.todo), jobs)
    _parse(drops, creators, _Bodies(v, [*tree.organisations, *tree.pages]), jobs=jobs)
    drops.finish()
    return Validated(
        site=site,
        urls=urls,
        campaigns=tuple(campaigns),
        drops=tuple(drops.records),
        creators=creators.records(),
        organisations=tuple(o for doc in tree.organisations if (o := v.organisation(doc))),
        pages=tuple(p for doc in tree.pages if (p := v.page(doc))),
        known={
            "campaign": frozenset(d.stem for d in tree.campaigns),
            "creator": frozenset(d.stem for d in tree.creators),
            "organisation": frozenset(d.stem for d in tree.organisations),
        },
        sources=drops.sources,
        keys=drops.keys,
        kept=drops.kept,
        reviewed=drops.reviewed,
        unreviewed=drops.unreviewed,
        before=drops.before(),
    )


def _unknown(path: str) -> None:
    return None


def _ignored(path: str, found: str) -> None:
    pass


class _Files(Protocol):
    """Files of one kind, each made into a record by a job (in a worker, maybe)
    and kept by `take` (in the building process)."""

    todo: list[int]  # the files the cache did not know

    def job(self, i: int) -> Any: ...

    def take(self, i: int, made: Any) -> None: ...


def _parse(*kinds: _Files, jobs: int) -> None:
    """Every file still to parse, of every kind, over one pool of `jobs`
    processes, kind after kind in the order given (the few creators after the
    many drops): parsed alone once the drops were done, 400 creators were a
    serial stretch of 0.14 s in a cold build of 10,000 drops, and the
    organisations' and pages' bodies, rendered over a pool of their own before
    the drops, 30 ms of one CPU at its start."""
    work = [(kind, i) for kind in kinds for i in kind.todo]

    def task(item: tuple[_Files, int]) -> Any:
        kind, i = item
        return kind.job(i)

    with collector.paused():  # the records are kept: none is garbage
        for (kind, i), made in zip(work, workers.each(task, work, jobs=jobs), strict=True):
            kind.take(i, made)


class _Creators:
    """Every creator file as a record, each parsed at most once per change of
    its bytes, like a drop (see `_Drops`): the record (its bio's text and HTML
    with it: bios are short) and the file's diagnostics are kept in the build
    cache under a hash of its bytes and of the settings they depend on. Those
    the cache does not know are parsed by the drops' workers (`_parse`)."""

    def __init__(
        self,
        v: _Validator,
        root: Path,
        files: tuple[CreatorFile, ...],
        file_hash: Callable[[str], str | None],
    ) -> None:
        self.v, self.root, self.files = v, root, files
        self._settings = repr((str(v.site.timezone), v.site.allow_html, v.urls.base_url))
        keys = [self._key(f, h) if (h := file_hash(f.path)) else None for f in files]
        cached = v.cache.decoded("creator", [k for k in keys if k], _known_creator)
        self._found: list[Creator | None] = []
        self.todo: list[int] = []  # the files to parse
        for i, k in enumerate(keys):
            known = cached.get(k) if k else None
            if known is None:
                self.todo.append(i)
            else:
                v.diags.extend(known[1])
            self._found.append(known[0] if known else None)

    def _key(self, f: CreatorFile, source: str) -> str:
        return digest("creator", f.path, source, self._settings)

    def job(self, i: int) -> _MadeCreator:
        """One creator file, made into a record here in the worker."""
        own = Diagnostics()
        doc, source = read_markdown(self.root, self.files[i].path, own)
        record = self.v.alone(own).creator(doc)
        rows = [d.as_row() for d in own.sorted()]
        value = None
        if source is not None:  # what it said of its bytes is worth keeping
            kept = records.encode(record, doc.path) if record is not None else None
            value = Encoded(encode({"record": kept, "home": doc.path, "diagnostics": rows}))
        return _MadeCreator(record, rows, source, value)

    def take(self, i: int, made: _MadeCreator) -> None:
        """Keep what a worker made of the `i`th file, here in the building process."""
        told = Diagnostic.from_rows(made.rows) or []
        self._found[i] = made.record
        if made.source is not None:
            key = self._key(self.files[i], made.source)
            self.v.cache.write_decoded("creator", key, made.value, (made.record, told))
        self.v.diags.extend(told)

    def records(self) -> tuple[Creator, ...]:
        return tuple(c for c in self._found if c is not None)


class _Bodies:
    """The Markdown bodies of organisations and pages the cache does not hold
    yet, rendered by the drops' workers after the drops (`_parse`) and kept in
    the cache, where `_Validator.markdown` finds them."""

    def __init__(self, v: _Validator, docs: list[Document]) -> None:
        self.v = v
        self._bodies: dict[str, tuple[str, Span]] = {}  # cache key -> text, where it starts
        for doc in docs:
            origin = Span(doc.path, doc.body_line, 1)
            key = v._key(doc.body, origin, None)
            if doc.meta is not None and not v.cache.has("markdown", key):
                self._bodies[key] = (doc.body, origin)
        self._keys = list(self._bodies)
        self.todo = list(range(len(self._keys)))

    def job(self, i: int) -> dict[str, object] | None:
        return self.v._render(self._bodies[self._keys[i]])

    def take(self, i: int, made: dict[str, object] | None) -> None:
        self.v.cache.put("markdown", self._keys[i], made)


class _MadeCreator(NamedTuple):
    """A creator file made into a record by a worker."""

    record: Creator | None
    rows: Rows  # its diagnostics
    source: str | None  # the hash of the bytes it was made from
    value: Encoded | None  # the cache's value (None: the file could not be read)


class _Drops:
    """Every drop file as a record, each parsed at most once per change of its bytes.

    Drops are most of a site. Each is read, parsed, validated and its body
    rendered in one job, over worker processes; the record and the file's
    diagnostics are kept in the build cache (`records`) under a hash of the
    file's bytes and of the settings they depend on, and so is what the
    safe-messaging review finds in its text, once it is reviewed (`aside`:
    after the parse, from where the job found its parts). A drop the cache
    knows is not even read.
    """

    def __init__(
        self,
        v: _Validator,
        tree: SourceTree,
        zones: dict[str, ZoneInfo],
        file_hash: Callable[[str], str | None],
        hashed: Callable[[str, str], None],
        recorded: Callable[[str], str | None],
    ) -> None:
        self.v = v
        self.tree = tree
        self.zones = zones
        self.file_hash = file_hash
        self.hashed = hashed
        self.recorded = recorded
        self.records: list[Drop] = []
        self.sources: dict[str, str] = {}  # path -> hash, of each record's file
        self.keys: dict[str, str] = {}  # path -> key, of each record
        self.kept: dict[str, str] = {}  # path -> key, of each record read from the cache
        self.reviewed: dict[str, list[Diagnostic]] = {}  # path -> the review's findings
        self.unreviewed: dict[str, tuple[str, Item]] = {}  # see `Validated`
        self.review_later = False  # whether `job` leaves the review to `aside`
        self._settings_of: dict[str, str] = {}
        self._strings: dict[object, Any] = {}  # see `_shared`
        self.todo: list[int] = []  # the files to parse
        self._found: list[tuple[Drop | None, str | None, str | None]] = []  # record, key, hash
        self._looked_up = False  # whether any drop was hashed to be looked up
        self._look_up()

    def key(self, drop: DropFile, source: str) -> str:
        return digest("drop", drop.path, drop.folder, source, self._settings(drop.folder))

    def _settings(self, folder: str) -> str:
        """What a drop's record depends on besides its bytes, as text (once per folder)."""
        if folder not in self._settings_of:
            zone = self.zones.get(folder, self.v.site.timezone)
            site = self.v.site
            settings = (
                str(zone),
                str(site.timezone),
                site.allow_html,
                self.v.urls.base_url,
                site.sensitive_topics,  # the review kept with each record depends on them
            )
            self._settings_of[folder] = repr(settings)
        return self._settings_of[folder]

    def _look_up(self) -> None:
        """The records the cache knows; the rest are `todo`."""
        # Hashed to look the records up by: not when none can be found (a cold
        # build), where the workers hash each file as they read it anyway.
        # Reading every drop file twice was a fiftieth of a cold build.
        drops = self.tree.drops
        self._looked_up = self.v.cache.knows_any("drop")
        hashes = [self.file_hash(d.path) for d in drops] if self._looked_up else [None] * len(drops)
        keys = [self.key(d, h) if h else None for d, h in zip(drops, hashes, strict=True)]
        cached = self.v.cache.decoded("drop", [k for k in keys if k], _known)
        with_html = self.v.cache.holding("drop-html")
        reviews = self.v.cache.decoded_mostly(  # nearly all none: `[]`
            DROP_REVIEW,
            [k for k, known in cached.items() if known[0]],
            Diagnostic.from_rows,
            usual="[]",
        )
        for i, key in enumerate(keys):
            known = cached.get(key) if key else None
            if known is None or (
                known[0] is not None and (key not in with_html or key not in reviews)
            ):
                # A record is only known with its body's HTML and its review beside it.
                self.todo.append(i)
                known = None
            else:
                self.v.diags.extend(known[1])
                if known[0] is not None and key:
                    self.kept[known[0].span.path] = key
                    self.reviewed[known[0].span.path] = reviews[key]
            self._found.append((known[0] if known else None, key, hashes[i]))
        del with_html, reviews
        self.v.cache.keep("drop-html", self.kept.values())

    def take(self, i: int, made: _Made) -> None:
        """Keep what a worker made of the `i`th drop, here in the building process."""
        drop = self.tree.drops[i]
        record, source = made.record, made.source
        diagnostics = Diagnostic.from_rows(made.rows) or []
        key = self.key(drop, source) if source is not None else None
        if source is not None and not self._looked_up:
            self.hashed(drop.path, source)
        if record is not None:
            record = _shared(record, self._strings)
        if key is not None:
            self.v.cache.write_decoded("drop", key, made.value, (record, diagnostics))
            if made.html is not None:
                self.v.cache.write("drop-html", key, made.html)
        if record is not None and source is not None and key is not None:
            path = record.span.path
            if made.review is not None:
                found = Diagnostic.from_rows(made.review) or []
                self.v.cache.write_decoded(DROP_REVIEW, key, made.review, found)
                self.reviewed[path] = found
            elif made.marks is not None:
                self.unreviewed[path] = (key, (drop_subject(record, source), made.marks))
        self.v.diags.extend(diagnostics)
        self._found[i] = (record, key, source)

    def finish(self) -> None:
        """Note every drop made into a record, known or parsed, in file order,
        with its key and the hash of its file (after `_parse`)."""
        for record, key, source in self._found:
            if record is not None and key is not None and source is not None:
                self.records.append(record)
                self.keys[record.span.path] = key
                self.sources[record.span.path] = source

    def before(self) -> dict[str, str]:
        """Of the drops parsed now (after `finish`), those whose record in the
        last build (by the hash it recorded of the file) the cache still holds
        and is the same but for its body: path -> that record's key. A page
        that shows such a drop and read no body is the same page (`produce`)."""
        earlier: dict[str, tuple[str, Drop]] = {}  # its key then -> path, record now
        for i in self.todo:
            drop = self.tree.drops[i]
            record, _key, source = self._found[i]
            then = self.recorded(drop.path)
            if record is not None and source is not None and then and then != source:
                earlier[self.key(drop, then)] = (drop.path, record)
        if not earlier:
            return {}
        known = self.v.cache.decoded("drop", earlier, _known)
        found = {}
        for key, (path, record) in earlier.items():
            then_record = known[key][0] if key in known else None
            if then_record is not None and _head(then_record) == _head(record):
                found[path] = key
        return found

    def job(self, i: int) -> _Made:
        """One drop file, made into a record here in the worker."""
        from hubgen.safemessaging import marks_of  # which imports this module

        drop = self.tree.drops[i]
        diags = Diagnostics()
        doc, source = read_drop(self.tree.root, drop, diags)
        record = self.v.alone(diags).drop(doc, drop.folder, self.zones)
        review = marks = None
        if record is not None and source is not None:
            marks = marks_of(doc, "drop")  # where the review finds what it reads
            if not self.review_later:
                subject = drop_subject(record, source)
                sensitive = self.v.site.sensitive_topics
                review = review_file(subject, doc.text, marks, safe_messaging(), sensitive)
                marks = None
        rows = [d.as_row() for d in diags.sorted()]
        # Kept without the body's text and HTML (see `Markup`); `DropBodies` reads them back.
        kept = record and replaced(record, body=replaced(record.body, source=None, html=None))
        home = drop.path  # the file most of its spans point into
        value = {
            "record": records.encode(kept, home) if kept is not None else None,
            "home": home,
            "diagnostics": rows,
        }
        html = Encoded(encode(record.body.html)) if record is not None else None
        if record is not None and not self.v.cache.warm:
            # Nor does this build's record hold its text: a cold build of a
            # large site held every drop's text and HTML till its end (a tenth
            # of its peak), and only the few bodies rendered again read it
            # back. `serve` keeps it, so the file being saved is never read back.
            # Its HTML is held compressed till the last page is rendered (`packed`).
            body = replaced(record.body, source=None, html=PackedHtml(record.body.html))
            record = replaced(record, body=body)
        return _Made(Encoded(encode(value)), html, record, rows, source, review, marks)


def _shared(d: Drop, known: dict[object, Any]) -> Drop:
    """The record with each string that other drops' records hold too (its
    campaign's slug, its kind, a topic, a creator's slug, a help link's URL) as
    the one object in `known`.

    Each record a worker made comes pickled, every string in it a copy of its
    own, and each file parsed here holds its own too: the benchmark's records
    held 35,500 strings per 2,000 drops, of 12,100 values. Shared, a record
    was 3,220 bytes instead of 4,060, and a cold build at 10,000 drops peaked
    at 223 MB instead of 236 (its CPU time 24.4 s instead of 25.0: fewer pages
    to copy after each fork). A look-up apiece, done as each record is kept.
    """
    one = known.setdefault
    refs, image, event = d.body.refs, d.image, d.event
    topics = tuple(one(t, t) for t in d.topics)
    return replaced(
        d,
        campaign=one(d.campaign, d.campaign),
        kind=one(d.kind, d.kind),
        topics=one(topics, topics),  # a tuple that many drops share too
        content_warning=d.content_warning and one(d.content_warning, d.content_warning),
        creators=tuple(Ref(one(r.slug, r.slug), r.span) for r in d.creators),
        organisations=tuple(Ref(one(r.slug, r.slug), r.span) for r in d.organisations),
        links=tuple(
            Link(
                one(k.title, k.title),
                one(k.url, k.url),
                k.description and one(k.description, k.description),
                k.span,
            )
            for k in d.links
        ),
        image=image and Image(one(image.src, image.src), one(image.alt, image.alt), image.span),
        event=event
        and replaced(
            event,
            location=event.location and one(event.location, event.location),
            url=event.url and one(event.url, event.url),
        ),
        body=replaced(
            d.body,
            refs=LinkRefs(tuple(one(x, x) if type(x) is str else x for x in refs.flat), refs.home),
        ),
    )


class _Made(NamedTuple):
    """A drop file made into a record by a worker."""

    value: Encoded  # the cache's value: the record without its body, and its diagnostics
    html: Encoded | None  # the body's HTML, kept beside it
    record: Drop | None  # for this build (None: the file made none)
    rows: Rows  # its diagnostics
    source: str | None  # the hash of the bytes it was made from
    review: Rows | None  # what the safe-messaging review found in its text
    marks: Marks | None  # or, for it to be reviewed later, where its parse found what it reads


class DropBodies:
    """Reads back what a drop's record does not hold (see `Markup`): its body's
    text, from its file, and its HTML, from the cache. A file that no longer
    holds the text the build validated stops the build: it changed meanwhile."""

    def __init__(self, root: Path, cache: Cache, kept: dict[str, str]) -> None:
        self.root, self.cache, self.kept = root, cache, kept
        self._fetched: dict[str, Html] = {}  # key -> HTML, of the drops `prefetch` was told

    def prefetch(self, drops: Iterable[Drop]) -> None:
        """Read the HTML of these drops in one pass, for the pages about to be made
        (after a template edit, every drop's), instead of one query each."""
        keys = {key for d in drops if d.body.html is None and (key := self.kept.get(d.span.path))}
        self._fetched = self.cache.decoded("drop-html", keys, _html) if keys else {}

    def text(self, d: Drop) -> str:
        path = d.span.path
        doc, _ = read_drop(self.root, DropFile(d.campaign, path, Path(path).stem), Diagnostics())
        if doc.meta is None or markup.text_hash(doc.body) != d.body.source_hash:
            raise _changed(path)
        return doc.body

    def html(self, d: Drop) -> Html:
        """The HTML kept with the record (one query: a rebuild renders few pages)."""
        key = self.kept.get(d.span.path)
        if key in self._fetched:
            return self._fetched[key]
        found = self.cache.decoded("drop-html", [key], _html) if key else {}
        if key not in found:  # another hubgen replaced the cache file meanwhile
            raise _changed(d.span.path, "the build cache")
        return found[key]


def _head(d: Drop) -> object:
    """A drop's record but its body, as plain data."""
    return records.encode(replaced(d, body=None), d.span.path)


def _changed(path: str, what: str = "the file") -> ContentErrors:
    message = f"{what} changed while the site was being built; build again"
    return ContentErrors([Diagnostic(Span(path), "error", "changed-during-build", message)])


def _html(value: object) -> Html | None:
    return Html(value) if type(value) is str else None


def _known(value: object) -> tuple[Drop | None, list[Diagnostic]] | None:
    """A cached drop: its record (None: the file made none) and its
    diagnostics; None for a value of another shape, a miss."""
    return _kept(value, Drop)


def _known_creator(value: object) -> tuple[Creator | None, list[Diagnostic]] | None:
    return _kept(value, Creator)


def _kept(value: object, kind: type[T]) -> tuple[T | None, list[Diagnostic]] | None:
    """A cached file's record of `kind` (None: the file made none) and its
    diagnostics; None for a value of another shape, a miss."""
    if not isinstance(value, dict) or type(home := value.get("home")) is not str:
        return None
    try:
        data = value["record"]
        record = records.decode(data, intern(home)) if data is not None else None
    except (records.NotARecord, KeyError):
        return None
    rows = Diagnostic.from_rows(value.get("diagnostics"))
    if rows is None or (record is not None and type(record) is not kind):
        return None
    return record, rows


def _site(doc: Document | None, diags: Diagnostics) -> Site | None:
    if doc is None:
        diags.error(Span("site.yaml"), "missing-file", "missing site.yaml: a site needs a title")
        return None
    if doc.meta is None:
        return None
    f = SITE.convert(doc.meta, Ctx(diags, UTC))
    if f is INVALID or not f.complete:
        return None
    help_fields = f["help"]
    help_orgs = help_fields["organisations"] if help_fields else None
    quick_exit = f["quick_exit"]
    return Site(
        title=f["title"],
        base_url=f["base_url"],
        language=f["language"],
        timezone=f["timezone"] or UTC,
        theme=f["theme"],
        description=f["description"],
        help=HelpSettings(
            title=help_fields["title"] if help_fields else "Get help now",
            organisations=help_orgs,
        ),
        nav=_links(f["nav"]),
        allow_html=f["allow_html"],
        sensitive_topics=tuple(f["sensitive_topics"]),
        helpline_max_age_days=f["helpline_max_age_days"],
        quick_exit=QuickExit(
            url=quick_exit["url"] if quick_exit else DEFAULT_EXIT_URL,
            key=quick_exit["key"] if quick_exit else False,
        ),
        span=f.span,
        headers=f["headers"],
    )


def _fallback_site() -> Site:
    """Stands in for a broken site.yaml so the other files still get checked."""
    return Site(
        title="",
        base_url=None,
        language="en",
        timezone=UTC,
        theme="default",
        description=None,
        help=HelpSettings(title="Get help now", organisations=None),
        nav=(),
        allow_html=False,
        sensitive_topics=SENSITIVE_TOPICS,
        helpline_max_age_days=180,
        quick_exit=QuickExit(url=DEFAULT_EXIT_URL, key=False),
        span=Span("site.yaml"),
    )


class _Validator:
    def __init__(self, site: Site, urls: Urls, diags: Diagnostics, cache: Cache) -> None:
        self.site = site
        self.urls = urls
        self.diags = diags
        self.cache = cache
        self.converter = Converter(allow_html=site.allow_html, external=urls.is_external)

    def alone(self, diags: Diagnostics) -> _Validator:
        """This validator reporting to `diags`, without the cache (for a worker's job)."""
        other = self.reporting(diags)
        other.cache = Cache.none()
        return other

    def reporting(self, diags: Diagnostics) -> _Validator:
        """This validator reporting to `diags` (one file's, to keep with its record)."""
        other = copy.copy(self)
        other.diags = diags
        return other

    def _render(self, job: tuple[str, Span]) -> dict[str, object] | None:
        """A body as cache data; None: too deeply nested to render."""
        source, origin = job
        try:
            converted = self.converter.convert(source, origin=origin, rewrite=self.urls.href)
        except TooDeep:
            return None
        return markup.to_json(converted)

    def _key(self, source: str, origin: Span, verbatim: str | None) -> str:
        """Everything a rendering depends on: the text, where it is, and the site's settings."""
        where = f"{origin.path}:{origin.line}:{origin.col}"
        return digest(
            "markdown", self.urls.base_url, str(self.site.allow_html), where, source, verbatim or ""
        )

    def fields(self, doc: Document, record: Record, zone: ZoneInfo) -> Fields | None:
        if doc.meta is None:
            return None
        f = record.convert(doc.meta, Ctx(self.diags, zone))
        return f if f is not INVALID and f.complete else None

    def slug(self, doc: Document, stem: str) -> str | None:
        if SLUG.fullmatch(stem):
            return stem
        self.diags.error(Span(doc.path), "slug", "the file name gives an " + slug_problem(stem))
        return None

    def markdown(self, source: str, origin: Span, verbatim: str | None = None) -> Markup:
        key = self._key(source, origin, verbatim)
        cached = self.cache.get("markdown", key)
        result = markup.from_json(cached, source, origin.path) if cached is not None else None
        if result is not None and self.cache.is_new("markdown", key):
            self.cache.put("markdown", key, markup.to_json(result))  # one copy of the HTML
        try:
            if result is None:
                result = self.converter.convert(
                    source, origin=origin, rewrite=self.urls.href, verbatim=verbatim
                )
                self.cache.put("markdown", key, markup.to_json(result))
        except TooDeep:
            self.diags.error(
                origin,
                "markdown-depth",
                "the Markdown nests lists or quotes too deeply to be rendered; flatten it",
            )
            return Markup(source, markup.text_hash(source), "", NO_LINKS)
        for tag, span in result.raw_html:
            self.diags.warning(
                span,
                "raw-html",
                f"raw HTML ({tag}) is shown as text; set allow_html: true in site.yaml "
                "to use it as HTML",
            )
        return result

    def body(self, doc: Document) -> Markup:
        return self.markdown(doc.body, Span(doc.path, doc.body_line, 1))

    def campaign(self, doc: Document) -> Campaign | None:
        slug = self.slug(doc, doc.stem)
        f = self.fields(doc, CAMPAIGN, self.site.timezone)
        if f is None or slug is None:
            return None
        intro = None
        if f["intro"] is not None:
            key = f.key_spans["intro"]
            verbatim = "\n".join(doc.text.split("\n")[key.line - 1 :])
            intro = self.markdown(f["intro"], Span(doc.path, key.line, 1), verbatim)
        return Campaign(
            slug=slug,
            title=f["title"],
            starts=f["starts"],
            ends=f["ends"],
            timezone=f["timezone"] or self.site.timezone,
            hashtag=f["hashtag"],
            summary=f["summary"],
            intro=intro,
            theme=f["theme"] or self.site.theme,
            colour=f["colour"],
            hero=_image(f["hero"]),
            creators=f["creators"],
            organisations=f["organisations"],
            topics=tuple(f["topics"]),
            links=_links(f["links"]),
            allow=_allows(f["allow"]),
            span=f.span,
        )

    def drop(self, doc: Document, folder: str, zones: dict[str, ZoneInfo]) -> Drop | None:
        f = self.fields(doc, DROP, zones.get(folder, self.site.timezone))
        if f is None:
            return None
        slug = f["slug"] or self.slug(doc, _DATE_PREFIX.sub("", doc.stem, count=1))
        if slug is None:
            return None
        event = f["event"]
        return Drop(
            campaign=folder,
            slug=slug,
            title=f["title"],
            publish_at=f["publish_at"],
            expires_at=f["expires_at"],
            draft=f["draft"],
            summary=f["summary"],
            kind=f["kind"],
            creators=f["creators"],
            organisations=f["organisations"],
            topics=tuple(f["topics"]),
            content_warning=f["content_warning"],
            image=_image(f["image"]),
            blur_images=f["blur_images"],
            links=_links(f["links"]),
            event=Event(event["starts"], event["ends"], event["location"], event["url"])
            if event
            else None,
            allow=_allows(f["allow"]),
            body=self.body(doc),
            span=f.span,
        )

    def creator(self, doc: Document) -> Creator | None:
        slug = self.slug(doc, doc.stem)
        f = self.fields(doc, CREATOR, self.site.timezone)
        if f is None or slug is None:
            return None
        return Creator(
            slug=slug,
            name=f["name"],
            handle=f["handle"],
            pronouns=f["pronouns"],
            avatar=_image(f["avatar"]),
            links=_links(f["links"]),
            topics=tuple(f["topics"]),
            bio=self.body(doc),
            span=f.span,
        )

    def organisation(self, doc: Document) -> Organisation | None:
        slug = self.slug(doc, doc.stem)
        f = self.fields(doc, ORGANISATION, self.site.timezone)
        if f is None or slug is None:
            return None
        return Organisation(
            slug=slug,
            name=f["name"],
            website=f["website"],
            summary=f["summary"],
            logo=_image(f["logo"]),
            topics=tuple(f["topics"]),
            regions=tuple(f["regions"]),
            helplines=tuple(_helpline(h) for h in f["helplines"] if h.complete),
            description=self.body(doc),
            span=f.span,
        )

    def page(self, doc: Document) -> Page | None:
        slug = self.slug(doc, doc.stem)
        f = self.fields(doc, PAGE, self.site.timezone)
        if f is None or slug is None:
            return None
        return Page(
            slug=slug,
            title=f["title"],
            summary=f["summary"],
            topics=tuple(f["topics"]),
            content_warning=f["content_warning"],
            nav=f["nav"],
            order=f["order"],
            allow=_allows(f["allow"]),
            body=self.body(doc),
            span=f.span,
        )


def _image(f: Fields | None) -> Image | None:
    return Image(f["src"], f["alt"], f.span) if f is not None and f.complete else None


def _allows(items: tuple[Fields, ...]) -> tuple[Allow, ...]:
    return tuple(Allow(a["rule"], a["reason"], a.span) for a in items if a.complete)


def _links(items: tuple[Fields, ...]) -> tuple[Link, ...]:
    return tuple(Link(i["title"], i["url"], i["description"], i.span) for i in items if i.complete)


def _helpline(h: Fields) -> Helpline:
    text = h["text"]
    return Helpline(
        name=h["name"],
        phone=h["phone"],
        sms=h["sms"],
        text=TextLine(text["keyword"], text["number"]) if text and text.complete else None,
        chat=h["chat"],
        url=h["url"],
        hours=h["hours"],
        regions=tuple(h["regions"]),
        languages=tuple(h["languages"]),
        crisis=h["crisis"],
        last_verified=h["last_verified"],
        until=h["until"],
        span=h.span,
    )
