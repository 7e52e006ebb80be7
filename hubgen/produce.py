"""Stage 6: the rendered plan as files, each page rendered at most once per change.

A page is a template and a context of views (`render.PageJob`), and nothing
else: its fingerprint hashes the context's values, the template with every
template and asset it can reach, and base_url (hubgen's version is in every
cache key). Equal fingerprints mean equal bytes. So a page whose fingerprint the
build cache knows, and whose previous output file is still the one hubgen
wrote, is not rendered: the previous file is linked into the new output, and
its links (for the link check) come from the cache. Every other page is
rendered over worker processes, written straight into the new output by the
worker, and read back there only for its links.

Making every page's views to fingerprint them is most of a rebuild of a large
site, so each fingerprint is also recorded under the page's reads (see
`reads`): the drops it shows, one hash of what every page reads, and the
published set, whole (`Inputs.now`) or as the facts the page's views read of
it, with what they said. A page whose reads the cache knows, or whose facts
say what they said, is found unchanged without making its views.

Files whose bytes did not change keep their previous file, and so their
modification time, however they were made (see `write.place`).
"""

from __future__ import annotations

import copyreg
import io
import operator
import os
import pickle
import stat
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field, fields, is_dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any, TypeGuard

from jinja2 import TemplateError

from hubgen import bodyread, feeds, linkcheck, model, render, views, workers
from hubgen.bodyread import Body, unwrap
from hubgen.cache import Cache, CachedFile, Encoded, digest, encode
from hubgen.diagnostics import Diagnostic, Span
from hubgen.errors import ContentErrors
from hubgen.model import Drop
from hubgen.packed import AS_MARKUP, markup_reduced
from hubgen.reads import Inputs
from hubgen.render import PageJob, Rendered, SiteInfo, TemplateProblem
from hubgen.theme import Themes
from hubgen.unchanged import Sources
from hubgen.urls import Urls
from hubgen.views import CampaignCard, DropView, Facts, Read
from hubgen.write import MANIFEST, Listed, Placed, Staging, place

_SHARED_VIEWS = (DropView, SiteInfo, CampaignCard)
# Pages whose contexts are made, then rendered, at a time. A context is most of
# what a page costs in memory, and a worker forked for each chunk starts afresh:
# each page rendered after a fork, here or in the worker, copies about 100 KB
# of the memory the two shared (the objects it touched, the slots its
# allocations took), so a long-lived worker ends up with its own copy of most
# of it. But each chunk costs a fork, and after each fork this process faults
# on every page of memory it writes again (the kernel write-protects them
# all): at 10,000 drops, a cold build's rendering faulted 570,000 times in
# chunks of 250 pages (2.2 s of system time), 250,000 in chunks of 1,000
# (1.5 s); the whole build's CPU time fell by 2.9 s, the rest in user time.
# Cold builds there (alternated, three each, the output moved aside): chunks of
# 250, 1,000 and 2,000 pages took 18.75, 17.04 and 16.74 s (CPU 31.4, 28.5,
# 28.1 s) and peaked at 210, 226 and 237 MB; one-template edits (two each)
# 7.08, 7.59 (500) and 6.29 s (1,000), peaking at 207, 213 and 218 MB.
CHUNK = 1000
# At most this many chunks: a larger site's are larger. Each chunk costs a
# fork, and what a fork costs grows with the building process's memory, which
# grows with the site: at 100,000 drops, 104 chunks of 1,000 pages faulted 5.3
# million times (48 s of system time over both processes) and took 80 s to
# produce; ten chunks of 10,400 pages 2.0 million times (30 s) and 71 s, and
# the build peaked at 1,818 MB instead of 1,733. Eleven: a site of up to
# 11,000 pages (10,568 at 10,000 drops) keeps chunks of 1,000.
CHUNKS = 11


@dataclass(frozen=True)
class Destination:
    """Where a build writes: a new output folder, replacing `previous`; the
    site's files as the build found them (for the files it copies); and what
    gives the files of `previous` as listed before the build wrote anything,
    if it did (`write.Claim.files`), so that each page's file need not be
    looked at again."""

    staging: Staging
    previous: Path
    sources: Sources | None = None
    listing: Callable[[], Mapping[str, Listed]] | None = None

    @cached_property
    def listed(self) -> Mapping[str, Listed] | None:
        """The files `listing` gives, asked for when the first page is taken:
        a forked process lists them while the build reads the site, and
        waiting for it before was 0.13 s of a one-drop rebuild at 10,000 drops."""
        return self.listing() if self.listing is not None else None

    @cached_property
    def device(self) -> int:
        """Of `previous`, whose files' inodes `listed` gives."""
        return os.stat(self.previous).st_dev


@dataclass
class Produced:
    """What the output holds, for the link check, the manifest and the summary."""

    files: list[str] = field(default_factory=list)  # every output path, sorted
    # Output path -> the links the link check judges at the end: a page's, only
    # those that name no page or other file (`_Output`); another file's, all.
    links: dict[str, list[str]] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)  # output path -> why not
    rendered: int = 0  # pages rendered by this build (the others were known unchanged)
    made: int = 0  # pages whose views this build made (the others were known by their reads)
    # Whether every source file was as hashed once the last was read (see
    # `_keep_made`); None: not looked at.
    steady: bool | None = None


@dataclass(frozen=True)
class _Page:
    """A page's record in the cache: its file, and the theme assets it uses.
    Its links are kept apart ("page-links"; see `_Output`)."""

    size: int
    mtime: int | None  # of the written file; None when nothing was written
    assets: list[str]


@dataclass(frozen=True)
class _Done:
    """A page a worker rendered: its record and its links."""

    page: _Page
    links: Encoded  # all of them, as the cache keeps them
    # Those that name none of the pages and other files: for the link check,
    # which knows the theme assets too (most pages have none).
    unresolved: list[str]
    read_bodies: bool  # whether it read any drop's body (see `bodyread`)


def produce(rendered: Rendered, *, cache: Cache, jobs: int, dest: Destination | None) -> Produced:
    """Render or reuse every page, and write every file when there is a `dest`.

    A page whose reads (`reads.Inputs.key`) the cache knows is taken as it was
    without making its views. The others' views are made, and a page whose
    fingerprint the cache knows is taken as it was too; the rest are rendered.
    The page jobs are taken from `rendered`, and each context let go once its
    page is known unchanged or rendered.
    """
    result = Produced()
    if dest is not None:  # first, so that no old file or folder stands in a new file's way
        dest.staging.keep_only({*rendered.files, *rendered.themes.assets, MANIFEST})
    pages = rendered.take_pages()
    result.files += [out for out, _job in pages]
    blind = _Blind(cache, rendered.themes, {(job.theme, job.template) for _out, job in pages})
    # The other files first (feeds, calendars, the sitemap, media), each let go
    # once written: not megabytes of feeds held while the pages are made.
    others = list(rendered.files)
    # A page's links are judged where it is rendered, against every file but
    # the theme assets (known once the pages are): this process, which also
    # takes each page in, neither holds nor judges 400,000 links.
    targets = linkcheck.Targets([*result.files, *others], Urls(rendered.base_url))
    output = _Output(cache, dest, result, targets)
    kept: dict[str, bytes | CachedFile] = {}  # the others: the previous output's files as they were
    _write_others(_taken(rendered.files), cache, dest, result, kept, rendered.read_links)
    firsts = _read_keys(rendered, pages)
    table = _Table(cache, rendered.inputs, dest)
    rest = [
        (page, first)
        for page, first in zip(pages, firsts, strict=True)
        if not (first and table.reused(output, page[0], first))
    ]
    # After an edit of a drop's text alone: the pages that show it but read no body.
    rest = [
        (page, first)
        for page, first in rest
        if not (first and table.unread(output, *page, rendered.themes))
    ]
    seconds, by_facts = _known_reads(rendered, cache, rest)
    records = output.records(set(seconds.values()))
    looked = [
        (out, job, first)
        for (out, job), first in rest
        if not (first in seconds and output.reused(out, seconds[first], records))
    ]
    table.known({first: key for first, key in seconds.items() if first not in by_facts})
    table.known(_keep_reads(rendered, cache, firsts, {**by_facts, **table.unread_taken}))
    del pages, firsts, records, rest
    # reads key -> fingerprint, the drops the page shows and the facts it read
    # (`views.Read`), of the pages looked at
    fingerprinted: dict[str, tuple[str, tuple[Drop, ...], Read]] = {}
    values = _Values(cache)  # holds every shared view while it lives
    looked.reverse()  # each chunk's jobs taken off the end, and let go once done
    size = max(CHUNK, -(-len(looked) // CHUNKS))
    while looked:
        chunk = [looked.pop() for _ in range(min(size, len(looked)))]
        rendered.views.prefetch_html({d for _out, job, _first in chunk for d in job.shows})
        made = [(out, job, first, *rendered.context(out, job)) for out, job, first in chunk]
        del chunk
        # Each page's fingerprint, and without the bodies it holds where its
        # template's pages read none when last rendered (see `bodyread`); once
        # it is rendered, beside the workers, when no page can be taken (a cold
        # build: 0.4 s of fingerprints at 10,000 drops, in this process alone).
        keys = [
            (
                _fingerprint(rendered, out, job, ctx, values),
                _fingerprint(rendered, out, job, ctx, values, bodies=False)
                if blind.tried(job)
                else None,
            )
            if output.reusable
            else (None, None)
            for out, job, _, ctx, _ in made
        ]
        records = output.records({key for pair in keys for key in pair if key})
        todo: list[tuple[str, PageJob, dict[str, Any]]] = []
        todo_keys: list[tuple[str | None, str | None]] = []
        for (out, job, _first, context, _asked), (key, unread) in zip(made, keys, strict=True):
            if unread and output.reused(out, unread, records):
                output.unread.add(unread)
                continue  # the same page whatever its bodies say: it read none
            if not (key and output.reused(out, key, records)):
                todo.append((out, job, context))
                todo_keys.append((key, unread))
        result.made += len(made)
        # What to record under the key each page is taken by, once rendered.
        shown = [(out, first, job.shows, Read.of(asked)) for out, job, first, _, asked in made]
        del made, keys, records  # the unchanged pages' contexts go
        output.render(todo, todo_keys, rendered, values, blind, jobs)
        result.rendered += len(todo)
        del todo
        for out, first, shows, read in shown:
            if first and out in output.taken:
                fingerprinted[first] = (output.taken[out][0], shows, read)
    blind.save()
    result.steady = _keep_made(rendered, cache, fingerprinted, table)
    table.save(output.taken, output.unread)
    assets = {out: rendered.themes.assets[out] for out in output.assets}
    _write_others(assets.items(), cache, dest, result, kept)
    result.files = sorted(result.files + others + list(assets))
    output.check_reused(result.files, kept)
    return result


def _taken(files: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Each item of `files`, taken out of it."""
    while files:
        out = next(iter(files))
        yield out, files.pop(out)


def _write_others(
    files: Iterable[tuple[str, bytes | Path | CachedFile]],
    cache: Cache,
    dest: Destination | None,
    result: Produced,
    kept: dict[str, bytes | CachedFile],
    read: Mapping[str, list[str] | None] | None = None,
) -> None:
    """Write the files that are not pages, and note their links (`read`:
    those read already, where the file was made; None: not read); those of a file that is the
    previous output's as it was (a feed, a calendar, the sitemap) only if the
    link check needs them, as for pages reused: into `kept`
    (`_Output.check_reused`)."""
    for out, content in files:
        written = content if isinstance(content, CachedFile) else None
        placed_key: str | None = None  # of a file the cache gives: a feed, a calendar, the sitemap
        if written is not None:
            # The previous output's file, never read, if the cache records it
            # (by its size and time) as the one written from these very bytes.
            placed_key = _placed_key(out, written)
            if dest is not None and _taken_as_recorded(dest, cache, out, "placed", placed_key):
                kept[out] = written
                continue
            content = _contents(cache, out, written, building=dest is not None)
        if dest is not None:
            if isinstance(content, Path):
                _copy(dest, cache, out, content)
                continue
            placed = place(dest.staging, out, content, previous=dest.previous / out)
            if placed_key is not None:  # the file that holds these bytes, for a later build
                _recorded(cache, "placed", placed_key, placed)
            if placed.kept:
                kept[out] = content
                continue
        if isinstance(content, bytes):
            _note_links(out, content, cache, result, read.get(out) if read else None)


def _placed_key(out: str, written: CachedFile) -> str:
    return digest("placed", out, written.kind, written.key)


def _taken_as_recorded(dest: Destination, cache: Cache, out: str, kind: str, key: str) -> bool:
    """Take the previous output's file at `out` as it is, if the cache records
    it under `key` (`[size, mtime]`, see `_recorded`) and it is still that file."""
    known = cache.get(kind, key)
    shaped = isinstance(known, list) and len(known) == 2 and all(type(x) is int for x in known)
    return shaped and _reuse(dest, out, *known)


def _recorded(cache: Cache, kind: str, key: str, placed: Placed) -> None:
    """Record the file just placed, by its size and time, for `_taken_as_recorded`."""
    cache.put(kind, key, [placed.size, placed.mtime])


def _contents(cache: Cache, out: str, written: CachedFile, *, building: bool) -> bytes:
    data = cache.contents(written)
    if data is None:  # lost since the build found it (another hubgen saved the cache)
        message = _CACHE_LOST if building else _CACHE_CHANGED
        raise ContentErrors([Diagnostic(Span(out), "error", "changed-during-build", message)])
    return data


def _note_links(
    out: str, content: bytes, cache: Cache, result: Produced, read: list[str] | None = None
) -> None:
    """A file's links, for the link check (feeds and calendars: slow to parse);
    `read`: as read already."""
    key = digest("links", out, content)
    if read is not None:
        result.links[out] = read
        cache.put("links", key, read)
        return
    links = cache.get("links", key)
    if _strings(links):
        result.links[out] = links
        return
    try:
        result.links[out] = linkcheck.links_of(out, content)
    except (ET.ParseError, ValueError) as exc:
        result.unreadable[out] = str(exc)
        return
    cache.put("links", key, result.links[out])


def _copy(dest: Destination, cache: Cache, out: str, source: Path) -> None:
    """Copy a media or static file. When the cache knows that the previous
    output's file (by its size and time) is a copy of these bytes (by the
    source's hash, vouched for by its stats), it is taken without reading
    either: comparing a large site's 2,000 media files byte for byte was a
    fiftieth of a rebuild."""
    found = dest.sources.known_hash(source) if dest.sources is not None else None
    key = digest("copied", out, found) if found else None
    if key is not None and _taken_as_recorded(dest, cache, out, "copied", key):
        return
    placed = place(dest.staging, out, source, previous=dest.previous / out)
    if key is not None and dest.sources is not None and dest.sources.as_walked(source):
        _recorded(cache, "copied", key, placed)  # the bytes hashed, copied


_CACHE_CHANGED = "the build cache changed while the site was being checked; check again"
_CACHE_LOST = "the build cache changed while the site was being built; build again"


class _Output:
    """What the output's pages hold, noted as each is reused or rendered: the
    links the link check must still judge once the theme assets are known
    (those that name none of the pages and other files, `targets`: judged
    where a page is rendered, and for a reused page when they must be) and
    the theme assets it uses, in `result`; and each rendered page's record,
    in the cache.

    A page's record is kept in two parts: its file's size and time and the
    assets it uses ("page"), and its links ("page-links"), which only the link
    check reads, and only when it must (`check_reused`): they were nine tenths
    of the records' text.
    """

    def __init__(
        self, cache: Cache, dest: Destination | None, result: Produced, targets: linkcheck.Targets
    ) -> None:
        self.cache, self.dest, self.result, self.targets = cache, dest, result, targets
        self.assets: set[str] = set()
        self._with_links = cache.holding("page-links")
        # Whether any page can be taken as it was: not without a record of one.
        self.reusable = bool(self._with_links)
        self._reused: dict[str, str] = {}  # output path -> fingerprint, of the pages reused
        self.taken: dict[str, tuple[str, _Page]] = {}  # output path -> fingerprint, record
        self.unread: set[str] = set()  # the fingerprints taken that leave out bodies read by none

    def records(self, keys: set[str]) -> dict[str, _Page]:
        """The cached records of these fingerprints, each only with its links beside it."""
        return self.cache.decoded("page", keys & self._with_links, _record)

    def reused(self, out: str, key: str, records: dict[str, _Page]) -> bool:
        """Take the page as the record of `key` says it was made, if its previous
        file is still that one."""
        known = records.get(key)
        if known is None or not (
            self.dest is None or _reuse(self.dest, out, known.size, known.mtime)
        ):
            return False
        self._reused[out] = key
        self.taken[out] = (key, known)
        self.assets.update(known.assets)
        return True

    def check_reused(self, files: list[str], kept: dict[str, bytes | CachedFile]) -> None:
        """Give the link check the links of the pages reused, and of the other
        files `kept` as they were, unless it needs none of them: each is the
        very file of the previous output, whose links all named files of that
        output (it was checked, or it would not be there), and this output
        holds every one of those files still. A build that writes nothing
        (`check`) has no previous output to go by."""
        self.cache.keep("page-links", self._reused.values())
        if self.dest is not None and self._previous_files() <= set(files):
            return  # (the kept files' links, unread, go from the cache: rarely read again)
        for out, data in kept.items():
            if isinstance(data, CachedFile):  # taken unread: the very file in the output
                assert self.dest is not None  # (nothing is taken without one)
                data = (self.dest.staging.root / out).read_bytes()
            _note_links(out, data, self.cache, self.result)
        links = self.cache.decoded("page-links", set(self._reused.values()), _links)
        for out, key in self._reused.items():
            if key in links:
                found = links[key]
            elif self.dest is not None:  # lost meanwhile (another hubgen saved the cache)
                found = linkcheck.links_of(out, (self.dest.staging.root / out).read_bytes())
            else:
                raise ContentErrors(
                    [Diagnostic(Span(out), "error", "changed-during-build", _CACHE_CHANGED)]
                )
            if unresolved := self.targets.dangling(found):
                self.result.links[out] = unresolved

    def _previous_files(self) -> set[str]:
        """The files of the previous output, as its manifest lists them; every
        file it might name when there is none (so all links are checked)."""
        assert self.dest is not None
        try:
            listing = (self.dest.previous / MANIFEST).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            return {"/"}  # never an output file: no superset
        return set(listing.splitlines())

    def render(
        self,
        todo: list[tuple[str, PageJob, dict[str, Any]]],
        keys: list[tuple[str | None, str | None]],
        rendered: Rendered,
        values: _Values,
        blind: _Blind,
        jobs: int,
    ) -> None:
        """Render these pages over worker processes; `keys`: their fingerprints,
        with and without the bodies they hold (None: not worked out).

        Each page is noted as it comes back, while the workers render the
        next, and its record goes to the cache file as it comes (`Cache.write`),
        not held till the save: noted after the last, the records of a cold
        build's pages were a twentieth of it spent in this process alone. A
        page that read no body is recorded under the fingerprint without them
        (see `bodyread`): worked out then if it was not."""
        global _work
        themes = rendered.themes
        for theme, template in {(job.theme, job.template) for _out, job, _context in todo}:
            try:  # here, not in each worker forked: they start from what is compiled here
                themes.env(theme).get_template(template)
            except (TemplateError, LookupError):
                pass  # told by the page that uses it
        _work = (todo, themes, self.dest, self.targets)
        try:
            with closing(workers.each(_render_page, range(len(todo)), jobs=jobs)) as done:
                for (out, job, context), (key, unread), outcome in zip(
                    todo, keys, done, strict=True
                ):
                    if isinstance(outcome, TemplateProblem):
                        raise outcome
                    read = outcome.read_bodies
                    blind.rendered(job, read)
                    # Not fingerprinted before if no page could be taken (`reusable`).
                    if read and not self.reusable:
                        key = _fingerprint(rendered, out, job, context, values)
                    elif not read and (key or not self.reusable):
                        if found := unread or _fingerprint(
                            rendered, out, job, context, values, bodies=False
                        ):
                            key = found
                            self.unread.add(found)
                    self._note(out, key, outcome)
        finally:
            _work = None

    def _note(self, out: str, key: str | None, done: _Done) -> None:
        """Note a page rendered, and write its record (`key`: its fingerprint)."""
        page = done.page
        if self.dest is not None and page.mtime is not None:  # placed by a worker, maybe
            self.dest.staging.placed[out] = (page.size, page.mtime)
        if done.unresolved:
            self.result.links[out] = done.unresolved
        self.assets.update(page.assets)
        if key:
            self.taken[out] = (key, page)
            self.cache.write("page", key, Encoded(encode(_as_json(page))))
            self.cache.write("page-links", key, done.links)


class _Blind:
    """The templates (by `Themes.digest`: with all they can reach) whose pages
    read no drop's body when last rendered, kept in the cache ("blind"): a
    page of one of them is looked up by its fingerprint without the bodies
    before it is rendered (see `bodyread`). Only a hint: a page is taken by
    that fingerprint only if it was recorded under it, having read no body."""

    KIND = "blind"

    def __init__(self, cache: Cache, themes: Themes, used: set[tuple[str | None, str]]) -> None:
        self._cache, self._themes = cache, themes
        self._used = {d for theme, name in used if (d := themes.digest(theme, name))}
        known = cache.get(self.KIND, _BLIND)
        self._known = set(known) & self._used if _strings(known) else set()
        self._unread: set[str] = set()  # of the pages rendered now, those of pages that read none
        self._read: set[str] = set()  # and of those that read one

    def tried(self, job: PageJob) -> bool:
        return self._themes.digest(job.theme, job.template) in self._known

    def rendered(self, job: PageJob, read_bodies: bool) -> None:
        found = self._themes.digest(job.theme, job.template)
        if found:
            (self._read if read_bodies else self._unread).add(found)

    def save(self) -> None:
        """Keep those of this build's templates whose pages rendered now read no
        body, or that none of its pages rendered now read one of."""
        blind = (self._known | self._unread) - (self._read - self._unread)
        self._cache.put(self.KIND, _BLIND, sorted(blind & self._used))


_BLIND = digest(_Blind.KIND)


class _Table:
    """The pages of the last output written with this cache, each with its
    reads key, its fingerprint and its record ("page-table"): what the "reads"
    and "page" entries said of it, in entries by the first two characters of
    the reads key (see `save`). After an edit that leaves the
    published set as it was, a page whose reads key and previous file are
    still those is taken as it was without looking up either entry: those two
    lookups, one per page each, were 0.1 s of the 1.8 s rebuild after a
    one-drop edit at 10,000 drops.
    Any other page is looked up as before; both entries are kept for that.

    A page is put in the table only as its "reads" entry says (the one it was
    found by, or the one this build recorded: only for steady files, see
    `_keep_made`), so the table never names a fingerprint its reads did not
    give. One table per cache: a build of another output finds its files
    differ (their sizes and times), and looks its pages up.

    Each page's entry also says whether its fingerprint leaves out the drops'
    bodies (see `bodyread`): a page that read none. After an edit of a drop's
    text alone, such a page is the same page, and is found by the key its reads
    had before the edit (`unread`), without making its views.
    """

    KIND = "page-table"

    def __init__(self, cache: Cache, inputs: Inputs | None, dest: Destination | None) -> None:
        self._cache, self._inputs = cache, inputs if dest is not None else None
        self._firsts: dict[str, str] = {}  # output path -> reads key, of each page asked of
        self._known: dict[str, str] = {}  # reads key -> the fingerprint its "reads" entry holds
        self._taken: list[tuple[str, str]] = []  # (reads key, fingerprint) of each page taken
        # reads key -> fingerprint, shown drops: of the pages taken by `unread`
        self.unread_taken: dict[str, tuple[str, tuple[Drop, ...]]] = {}
        # Each entry as found, by the start of its pages' reads keys: reads key
        # (it names the page) -> fingerprint, size, mtime, assets (a place in
        # the entry's list of them), whether the fingerprint leaves bodies out
        # (0 or 1); and each list of assets its pages use, once.
        self._found: dict[str, dict[str, Any]] = {}
        if self._inputs is not None:
            published = self._inputs.published
            found = cache.decoded(self.KIND, _SHARDS, _table_entry)
            self._found = {k: v for k, v in found.items() if v["published"] == published}

    def reused(self, output: _Output, out: str, first: str) -> bool:
        """Take the page as the table has it, if its reads key and file are still those."""
        self._firsts[out] = first
        return self._take(output, out, first, first)

    def unread(self, output: _Output, out: str, job: PageJob, themes: Themes) -> bool:
        """Take a page that read no body as the table has it under the key its
        reads had before the text alone of a drop it shows changed (see
        `reads.Inputs.before`), if its file is still that one: the same page."""
        inputs = self._inputs
        if inputs is None or not inputs.before:
            return False
        templates = themes.digest(job.theme, job.template)
        before = inputs.key_before(out, templates, job.shows) if templates else None
        first = self._firsts[out]
        if before is None or not self._take(output, out, before, first, unread=True):
            return False
        # Recorded under its reads now as the others found by their facts are
        # (`_keep_reads`: only if the files it shows were steady), and so put in the table.
        self.unread_taken[first] = (output.taken[out][0], job.shows)
        return True

    def _take(
        self, output: _Output, out: str, found: str, first: str, *, unread: bool = False
    ) -> bool:
        """Take the page as the table's entry `found` has it (only one whose
        fingerprint leaves bodies out, if `unread`), its reads key now `first`."""
        shard = self._found.get(found[:2])
        entry = shard["pages"].get(found) if shard is not None else None
        if not (type(entry) is list and len(entry) == 5):
            return False
        key, size, mtime, assets, blind = entry
        shaped = type(key) is str and type(size) is int and type(mtime) is int
        if not (shaped and type(assets) is int and 0 <= assets < len(shard["assets"])):
            return False
        if blind not in (0, 1) or (unread and not blind):
            return False
        used = shard["assets"][assets]
        if not output.reused(out, key, {key: _Page(size, mtime, used)}):
            return False
        if blind:
            output.unread.add(key)
        if not unread:
            self._known[first] = key
        self._taken.append((first, key))
        return True

    def known(self, fingerprints: dict[str, str]) -> None:
        """Note the fingerprint that each of these reads keys' entries holds."""
        self._known.update(fingerprints)

    def save(self, taken: dict[str, tuple[str, _Page]], unread: set[str]) -> None:
        """Keep the entries the pages taken from the table stand for, and put
        the table of this output's pages (`taken`: each one's fingerprint and
        record; `unread`: the fingerprints that leave bodies out)."""
        inputs = self._inputs
        if inputs is None:
            return
        self._cache.keep("reads", [inputs.now(first) for first, _key in self._taken])
        self._cache.keep("page", [key for _first, key in self._taken])
        shards: dict[str, tuple[dict[str, list[Any]], dict[tuple[str, ...], int]]] = {}
        for out, (key, page) in taken.items():
            first = self._firsts.get(out)
            if first is not None and self._known.get(first) == key and page.mtime is not None:
                pages, assets = shards.setdefault(first[:2], ({}, {}))
                used = assets.setdefault(tuple(page.assets), len(assets))
                pages[first] = [key, page.size, page.mtime, used, int(key in unread)]
        # Only the entries whose pages changed are written again: after a
        # one-drop edit at 10,000 drops, 8 of 256 (about 35 KB), not all of the
        # table (1 MB, 16 ms to encode).
        for start in _SHARDS:
            pages, assets = shards.get(start, ({}, {}))
            value = {
                "published": inputs.published,
                "assets": list(map(list, assets)),
                "pages": pages,
            }
            if value == self._found.get(start):
                self._cache.keep(self.KIND, [start])
            else:
                self._cache.put(self.KIND, start, value)


def _table_entry(value: object) -> dict[str, Any] | None:
    """An entry of the page table as `_Table.save` puts it; None for any other shape."""
    if not isinstance(value, dict) or type(value.get("published")) is not str:
        return None
    pages, assets = value.get("pages"), value.get("assets")
    if isinstance(pages, dict) and type(assets) is list and all(map(_strings, assets)):
        return value
    return None


# The table's entries: the first two characters of the reads keys (hashes) of
# their pages. Not a hash: that was a call for each page of a large site, twice.
_SHARDS = [f"{i:02x}" for i in range(256)]


def _read_keys(rendered: Rendered, pages: list[tuple[str, PageJob]]) -> list[str | None]:
    """Each page's `reads.Inputs.key`; None: it is known by its views only."""
    inputs = rendered.inputs
    if inputs is None:
        return [None] * len(pages)
    keys: list[str | None] = []
    for out, job in pages:
        templates = rendered.themes.digest(job.theme, job.template)
        keys.append(inputs.key(out, templates, job.shows) if templates else None)
    return keys


def _known_reads(
    rendered: Rendered, cache: Cache, pages: list[tuple[tuple[str, PageJob], str | None]]
) -> tuple[dict[str, str], dict[str, tuple[str, tuple[Drop, ...]]]]:
    """The fingerprints of the pages (each with its reads key) whose reads the
    cache knows, by reads key; and of those, the ones known by the facts they
    read (see `reads`), with the drops they show."""
    inputs = rendered.inputs
    if inputs is None:
        return {}, {}
    nows = {first: inputs.now(first) for _page, first in pages if first}
    known = cache.decoded("reads", set(nows.values()), _text)
    found = {first: known[now] for first, now in nows.items() if now in known}
    rest = [(job, first) for (_out, job), first in pages if first]
    by_facts = _known_by_facts(rendered, inputs, cache, [(j, f) for j, f in rest if f not in found])
    found.update((first, key) for first, (key, _shows) in by_facts.items())
    return found, by_facts


def _known_by_facts(
    rendered: Rendered, inputs: Inputs, cache: Cache, pages: list[tuple[PageJob, str]]
) -> dict[str, tuple[str, tuple[Drop, ...]]]:
    """Of these pages (each with its reads key), those whose facts of the
    published set say now what they said when the page was made: reads key ->
    its fingerprint, and the drops it shows."""
    entries = cache.decoded("asked", [first for _job, first in pages], _asked_entry)
    if not entries:
        return {}
    views = rendered.views
    shown = {d for job, first in pages if first in entries for d in job.shows}
    drop_keys = {d: inputs.drop_key(d) for d in shown}
    lists = cache.decoded("drop-asked", {k for k in drop_keys.values() if k}, _facts)
    drop_answers: dict[str, str | None] = {}

    def drop_answer(d: Drop) -> str | None:
        key = drop_keys[d]
        if key is None or key not in lists:
            return None
        if key not in drop_answers:
            drop_answers[key] = views.answers(lists[key])
        return drop_answers[key]

    found = {}
    for job, first in pages:
        entry = entries.get(first)
        if entry is None:
            continue
        asked, answers, key = entry
        parts = [views.answers(asked), *(drop_answer(d) for d in job.shows)]
        if None not in parts and digest("page-asked", *parts) == answers:  # type: ignore[arg-type]
            found[first] = (key, job.shows)
    return found


def _keep_reads(
    rendered: Rendered,
    cache: Cache,
    firsts: list[str | None],
    by_facts: dict[str, tuple[str, tuple[Drop, ...]]],
) -> dict[str, str]:
    """Keep every page's record of its facts, and every drop's, for a later
    build (the cache forgets what a build does not use); and record the pages
    known by their facts under their reads with this published set. Returns
    the fingerprints recorded, by reads key."""
    inputs = rendered.inputs
    if inputs is None:
        return {}
    cache.keep("asked", [first for first in firsts if first])
    cache.keep("drop-asked", inputs.drops.values())
    steady = inputs.steady() if by_facts else None
    if steady is None:
        return {}
    recorded = {}
    for first, (key, shows) in by_facts.items():
        if all(d.span.path in steady for d in shows):
            cache.put("reads", inputs.now(first), key)
            recorded[first] = key
    return recorded


def _keep_made(
    rendered: Rendered,
    cache: Cache,
    fingerprinted: dict[str, tuple[str, tuple[Drop, ...], Read]],
    table: _Table,
) -> bool | None:
    """Record which fingerprint each page's reads gave, and the facts it read
    with their answers: only for pages whose files were steady
    (`unchanged.Sources.steady`), so a file saved while the build read it cannot
    leave a key that names bytes the page was not made from; likewise the
    reads of the feeds worked out (`feeds.FeedReads`). Returns whether every
    file was steady (None: not looked at)."""
    inputs = rendered.inputs
    if inputs is None or not (fingerprinted or rendered.feed_reads):
        return None
    steady = inputs.steady()
    if steady is None:
        return False
    for feed in rendered.feed_reads:
        if all(path in steady for path in feed.drops):
            cache.put(feeds.READS, feed.key, feed.value)
    views = rendered.views
    drop_answers: dict[int, str | None] = {}
    for d, made in views.made_drops():
        drop_answers[id(d)] = made.read.answers
        key = inputs.drop_key(d)
        if key and d.span.path in steady:
            cache.put("drop-asked", key, made.read.facts)
    for first, (key, shows, read) in fingerprinted.items():
        if not all(d.span.path in steady for d in shows):
            continue
        cache.put("reads", inputs.now(first), key)
        table.known({first: key})
        parts = [read.answers, *(drop_answers.get(id(d)) for d in shows)]
        if None not in parts:
            answers = digest("page-asked", *parts)  # type: ignore[arg-type]
            rest = encode({"answers": answers, "page": key})  # and the facts, as text:
            cache.put("asked", first, Encoded(f'{{"asked":{read.facts},{rest[1:]}'))
    return all(path in steady for path in inputs.drops)


def _asked_entry(value: object) -> tuple[Facts, str, str] | None:
    """A page's record of its facts: what it read, a hash of the answers, and
    its fingerprint; None for a value of another shape."""
    if not isinstance(value, dict):
        return None
    asked, answers, key = value.get("asked"), value.get("answers"), value.get("page")
    facts = _facts(asked)
    if facts is None or not (isinstance(answers, str) and isinstance(key, str)):
        return None
    return facts, answers, key


def _facts(value: object) -> Facts | None:
    if not isinstance(value, dict):
        return None
    if not all(type(keys) is list and all(type(k) is str for k in keys) for keys in value.values()):
        return None
    return value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


# What the forked workers render: set before they start.
_work: (
    tuple[list[tuple[str, PageJob, dict[str, Any]]], Themes, Destination | None, linkcheck.Targets]
    | None
) = None


def _render_page(i: int) -> _Done | TemplateProblem:
    assert _work is not None
    pages, themes, dest, targets = _work
    out, job, context = pages[i]
    themes.used.clear()
    bodyread.start()
    try:
        template = themes.env(job.theme).get_template(job.template)
        html = template.render(url=themes.href, **context)
    except Exception as exc:
        if (problem := TemplateProblem.raised_by_template(exc, job.template)) is None:
            raise
        return problem
    read_bodies = bodyread.read()
    data = html.encode("utf-8")
    mtime = None
    if dest is not None:
        mtime = place(dest.staging, out, data, previous=dest.previous / out).mtime
    links = linkcheck.links_of(out, data)
    page = _Page(len(data), mtime, sorted(themes.used))
    return _Done(page, Encoded(encode(links)), targets.dangling(links), read_bodies)


def _fingerprint(
    rendered: Rendered,
    out: str,
    job: PageJob,
    context: dict[str, Any],
    values: _Values,
    *,
    bodies: bool = True,
) -> str | None:
    """Everything the page's bytes depend on, hashed; None: always render it.
    Without `bodies`, all but the drops' bodies it holds: what a page that
    reads none depends on (see `bodyread`)."""
    templates = rendered.themes.digest(job.theme, job.template)
    if templates is None:
        return None
    try:
        dumped = values.dumps(context, bodies=bodies)
    except (pickle.PicklingError, TypeError, ValueError, RecursionError):
        return None
    unread = () if bodies else ("read no body",)
    return digest("page", out, rendered.base_url, templates, *unread, dumped)


class _Values:
    """Pickles contexts to bytes that are equal exactly when their values are.

    No memo (`fast`), so what happens to be shared does not matter. Views that
    many pages show (a drop on its page and in every list; the header and help
    block on every page; a campaign's card on each of its drops' pages) are
    pickled once and then written as their hash. The
    pickler's `dispatch_table` does that, so Python code runs only for those
    views, not for every value (as `persistent_id` would).
    """

    def __init__(self, cache: Cache) -> None:
        self._cache = cache
        # id -> (view, kept alive; its hash; its hash without the bodies it holds)
        self._shared: dict[int, tuple[object, str, str]] = {}
        self._tables = {True: dict(_PLAIN_TABLE), False: dict(_PLAIN_TABLE)}
        for kind in _SHARED_VIEWS:
            self._tables[True][kind] = self._by_hash
            self._tables[False][kind] = self._by_hash_unread

    def dumps(self, value: object, *, bodies: bool = True) -> bytes:
        """`value` pickled, each body held by its views left out without `bodies`."""
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=5)
        pickler.fast = True
        pickler.dispatch_table = self._tables[bodies]
        pickler.dump(value)
        return buffer.getvalue()

    def _hashes(self, view: object) -> tuple[object, str, str]:
        known = self._shared.get(id(view))
        if known is None or known[0] is not view:
            # Or as an earlier build in this process hashed it (`serve` takes
            # drop views again): the same object, kept alive, so the same id.
            known = self._shared[id(view)] = self._cache.made(
                "view-hash",
                lambda: str(id(view)),
                lambda: (view, *_view_hashes(view)),
                holds=lambda kept: kept[0] is view,
            )
        return known

    def _by_hash(self, view: object) -> tuple[type[str], tuple[str]]:
        return str, (self._hashes(view)[1],)

    def _by_hash_unread(self, view: object) -> tuple[type[str], tuple[str]]:
        return str, (self._hashes(view)[2],)


def _view_hashes(view: object) -> tuple[str, str]:
    """A view's hash, and its hash without the bodies it holds: one pickling,
    each body left out and noted (`_unread_body`), then hashed after."""
    buffer = io.BytesIO()
    plain = pickle.Pickler(buffer, protocol=5)
    plain.fast = True
    plain.dispatch_table = _UNREAD_TABLE
    _BODIES.clear()
    plain.dump(view)  # its own fields hold no shared views
    unread = buffer.getvalue()
    return digest("view", unread, *_BODIES), digest("view", unread)


# The bodies `_view_hashes` left out of the view it pickles (one at a time, in
# the building process), each as its text or hash (`packed.AS_MARKUP`).
_BODIES: list[str | bytes] = []


def _unread_body(body: Body) -> tuple[type[str], tuple[str]]:
    _BODIES.append(_body_part(body))
    return str, ("(a body)",)


def _body_part(body: Body) -> str | bytes:
    """A body as a fingerprint holds it: its text, or the hash of long HTML."""
    _make, (part,) = markup_reduced(unwrap(body))
    return b"#" + part if isinstance(part, bytes) else "=" + part


def _by_fields(cls: type) -> Callable[[object], tuple[type, tuple[Any, ...]]]:
    """Pickle a slotted dataclass as its class and its fields' values, taken
    by one C call: its own `__getstate__` is Python that lists its fields
    again for each of the hundreds of views a page holds."""
    values = operator.attrgetter(*(f.name for f in fields(cls)))
    return lambda value: (cls, values(value))


def _slotted_dataclasses(*modules: ModuleType) -> list[type]:
    """Of at least two fields (`attrgetter` of one name gives no tuple)."""
    return [
        kind
        for module in modules
        for kind in vars(module).values()
        if isinstance(kind, type)
        and is_dataclass(kind)
        and "__slots__" in vars(kind)
        and len(fields(kind)) > 1
    ]


# Views and the records they hold by their fields; a body held compressed as
# the HTML it stands for (see `packed`).
_PLAIN_TABLE = {
    **copyreg.dispatch_table,
    **{kind: _by_fields(kind) for kind in _slotted_dataclasses(views, render, model)},
    **AS_MARKUP,
    Body: lambda body: (str, (_body_part(body),)),
}
_UNREAD_TABLE = {**_PLAIN_TABLE, Body: _unread_body}


def _record(value: object) -> _Page | None:
    """A cached page record (its links are kept apart), or None for anything
    of another shape."""
    if not isinstance(value, dict):
        return None
    size, mtime, assets = value.get("size"), value.get("mtime"), value.get("assets")
    if not (type(size) is int and (mtime is None or type(mtime) is int)):
        return None
    if not _strings(assets):
        return None
    return _Page(size, mtime, assets)


def _links(value: object) -> list[str] | None:
    return value if _strings(value) else None


def _strings(value: object) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


def _as_json(page: _Page) -> dict[str, object]:
    return {"size": page.size, "mtime": page.mtime, "assets": page.assets}


def _reuse(dest: Destination, out: str, size: int, mtime: int | None) -> bool:
    """Link the previous file into the new output if it is still the one written
    (of this size and modification time)."""
    previous = f"{dest.previous}/{out}"  # a str: a Path per page was a tenth of this
    if dest.listed is not None:  # as listed: not a stat per page
        listed = dest.listed.get(out)
        if listed is None or listed[2] < 0 or listed[:2] != (size, mtime):
            return False  # not there, not a plain file, or not the one written
        try:
            dest.staging.adopt_listed(out, previous, (size, mtime), listed[2], dest.device)
        except OSError:  # removed since it was listed: made again
            return False
        return True
    try:
        st = os.stat(previous, follow_symlinks=False)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode) or mtime is None:  # not a symlink, nor a folder
        return False
    if (st.st_size, st.st_mtime_ns) != (size, mtime):
        return False
    dest.staging.adopt(out, previous, st)
    return True
