"""The build as a recipe: load, validate, resolve, publish, render, produce, write.

This module only calls the stages in order and stops between them when the
content has errors; each stage lives in the module of its name. The build
cache (`.hubgen-cache/` beside the site) and the worker processes make the
same build faster, never different.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hubgen import unchanged
from hubgen.cache import Cache, Warm, cache_for
from hubgen.collector import during_build, paused, settle
from hubgen.diagnostics import Diagnostic, Diagnostics, Span
from hubgen.errors import ContentErrors, UsageError
from hubgen.workers import default_jobs
from hubgen.write import Surveyed, claim_output, finish_output, staging_for

if TYPE_CHECKING:
    from hubgen.produce import Destination, Produced
    from hubgen.publish import Published
    from hubgen.resolve import SiteGraph


@dataclass(frozen=True)
class Checked:
    """A site that passed every check, and what its output holds."""

    graph: SiteGraph
    diagnostics: list[Diagnostic]  # warnings only: errors raise ContentErrors
    now: datetime  # aware: a naive --now is read in the site's time zone
    published: Published
    produced: Produced


def check(
    site_dir: Path,
    *,
    now: datetime,
    strict: bool = False,
    preview: bool = False,
    base_url: str | None = None,
    jobs: int | None = None,
    cache: bool = True,
) -> Checked:
    """Check every file, published or not (`now` decides time-based checks), then
    render the site in memory and link-check it.

    `jobs` worker processes render (default: one per CPU); `cache` keeps work
    for the next run in `.hubgen-cache/` beside the site.
    """
    with during_build(), cache_for(site_dir, enabled=cache) as store:
        return _check(
            site_dir,
            now=now,
            strict=strict,
            preview=preview,
            base_url=base_url,
            need_base_url=False,
            jobs=jobs or default_jobs(),
            cache=store,
            sources=unchanged.Sources(site_dir),
            dest=None,
        )


def _check(
    site_dir: Path,
    *,
    now: datetime,
    strict: bool,
    preview: bool,
    base_url: str | None,
    need_base_url: bool,
    jobs: int,
    cache: Cache,
    sources: unchanged.Sources,
    dest: Destination | None,
) -> Checked:
    # The stages are imported here, not at the top: a build whose output is
    # still right (`unchanged`) needs none of them, and importing them all took
    # a third of such a run. What they make lives as long as the process.
    with paused():
        from hubgen import reads
        from hubgen.helpcheck import check_helplines
        from hubgen.linkcheck import check_links
        from hubgen.load import MAX_TEXT_BYTES, ScriptFree, load_site
        from hubgen.produce import produce
        from hubgen.publish import publish
        from hubgen.render import TemplateProblem, render_site
        from hubgen.resolve import resolve_site
        from hubgen.safemessaging import DropReviews, review_content
        from hubgen.timeparse import TimeError, localize
        from hubgen.validate import DropBodies, validate_site

    diags = Diagnostics()
    sources.read_hashes(cache)
    checked = ScriptFree(cache, sources.known_hash)
    tree = load_site(site_dir, diags, remember=cache.warm, checked=checked)
    validated = validate_site(
        tree,
        diags,
        base_url=base_url,
        need_base_url=need_base_url,
        cache=cache,
        jobs=jobs,
        file_hash=lambda path: sources.file_hash(path, limit=MAX_TEXT_BYTES),
        hashed=sources.read_as,
        recorded=sources.recorded_hash,
    )
    # The drops parsed now are reviewed while the build goes on (`aside`), from
    # here: the site is resolved on one CPU, and a cold build's review began
    # 0.15 s later at 10,000 drops. What it finds is told before the output is.
    drop_reviews = DropReviews(tree.root, validated, cache, diags, jobs)
    try:
        sources.keep_hashes(cache)
        sources.taken_by_hash(validated.kept)  # the drops the cache knew: never read back unchecked
        graph = resolve_site(tree, validated, diags, cache=cache)
        settle()  # the records and the graph live till the end: never scan them again
        if now.tzinfo is None:
            try:
                now = localize(now, graph.site.timezone).instant
            except TimeError as exc:
                raise UsageError(f"--now: {exc}") from None
        check_helplines(tree, validated, diags, now=now)
        review_content(tree, validated, diags, now=now, cache=cache, jobs=jobs, drops=drop_reviews)
        if diags.has_errors(strict=strict):
            drop_reviews.finish()  # every problem in one run
            raise ContentErrors(diags.sorted(strict=strict))
        themes, drop_keys, before = tree.themes, validated.keys, validated.before
        bodies = DropBodies(site_dir, cache, validated.kept)
        del tree, validated  # the parsed files: only the graph is needed from here on
        published = publish(graph, now, preview=preview)
        # What each page reads is only worth hashing for a later build to find.
        inputs = reads.inputs(sources, drop_keys, published, before) if cache.lasting else None
        settle()
        try:
            with paused():  # its page jobs and views are kept till the pages are made
                rendered = render_site(
                    published,
                    themes,
                    cache=cache,
                    jobs=jobs,
                    inputs=inputs,
                    bodies=bodies,
                )
            produced = produce(rendered, cache=cache, jobs=jobs, dest=dest)
        except TemplateProblem as exc:
            drop_reviews.finish()
            if diags.has_errors(strict=strict):  # told as if reviewed with the parse: alone
                raise ContentErrors(diags.sorted(strict=strict)) from None
            span = Span(_relative(exc.filename, site_dir), exc.line, 1)
            raise ContentErrors([Diagnostic(span, "error", "template", exc.message)]) from None
        # What is left for this process alone, done while the review beside it
        # still has the other CPU (a cold build's last 0.3 s ran on one). Not
        # otherwise: `serve` shows a rebuild before the cache is saved.
        problems = check_links(
            produced.links, produced.files, rendered.sources, graph.urls, produced.unreadable
        )
        if drop_reviews.beside:
            cache.send_held()
        drop_reviews.finish()
    finally:
        drop_reviews.close()
    if diags.has_errors(strict=strict):  # told as if reviewed with the parse: alone
        raise ContentErrors(diags.sorted(strict=strict))
    for problem in problems:
        diags.error(Span(_relative(problem.span.path, site_dir)), problem.code, problem.message)
    if diags.has_errors(strict=strict):
        raise ContentErrors(diags.sorted(strict=strict))
    return Checked(graph, diags.sorted(), now, published, produced)


@dataclass(frozen=True)
class Built:
    """What a build reports: its warnings, what the output holds, what comes next."""

    diagnostics: list[Diagnostic]  # warnings only: errors raise ContentErrors
    files: int  # files in the output
    summary: str  # "6 drops published, 8 scheduled, next change at ..."
    next_change: datetime | None  # when the output changes with no file changing
    rendered: int  # pages this build rendered (the others were known unchanged)
    unchanged: bool  # the previous output was still exactly right: nothing was written


def build(
    site_dir: Path,
    out_dir: Path,
    *,
    now: datetime,
    preview: bool = False,
    strict: bool = False,
    base_url: str | None = None,
    force: bool = False,
    jobs: int | None = None,
    cache: bool = True,
    previous: Path | None = None,
    spare: Path | Surveyed | None = None,
    warm: Warm | None = None,
    record: bool = True,
    ready: Callable[[Built], None] | None = None,
    hold: list[object] | None = None,
) -> Built:
    """Check, then write the site; the output folder is only swapped on success.

    When the last build of this output is still right (see `unchanged`), it
    is left as it is. Otherwise files that did not change are taken from
    `previous` (by default the output being replaced), keeping their
    modification time. `spare` is an earlier output that nothing reads any
    more (or that folder surveyed while nothing happened: `write.survey`),
    brought up to date rather than starting from an empty folder, and
    `warm` keeps decoded and compiled work in memory for the next build in this
    process (both for `serve`). Without `record`, the build is neither looked up
    nor recorded for the up-to-date check (`serve` builds each folder once, and
    leaves `hubgen build`'s record of its output as it was). `ready` is told
    the result as soon as the output is in place, before the cache is saved and
    the build's work let go (`serve` shows the new site then: 10 % of a
    rebuild at 1,000 drops). `hold` is handed that work (the site graph, its
    pages, the listings of the sources and of the output) instead: `hubgen
    build` as a command ends its process right after, without freeing its
    heap (`cli.console`), and letting it go object by object took 40 ms of a
    1.3 s rebuild at 10,000 drops.
    """
    surveyed = previous is None and spare is None  # the spare beside the output is used
    with during_build(), claim_output(out_dir, site_dir, force=force, spare=surveyed) as claim:
        keep = claim.keep
        # The cache is opened only once the output is ours to write.
        with cache_for(site_dir, enabled=cache, warm=warm) as store:
            options = (preview, strict, base_url, tuple(keep))
            key = unchanged.build_key(site_dir, out_dir, options)
            sources = unchanged.Sources(site_dir)  # as they are before the build reads them
            known = (
                unchanged.recall(store, key, sources, claim.listing, now)
                if previous is None and record
                else None
            )
            if known is not None:
                built = Built(
                    known.diagnostics, known.files, known.summary, known.next_change, 0, True
                )
                if ready is not None:
                    ready(built)
                if hold is not None:
                    hold.append((sources, known, claim))
                return built
            from hubgen import schedule  # see _check: not needed when up to date
            from hubgen.produce import Destination
            from hubgen.publish import around

            with staging_for(out_dir, spare=previous is None, reuse=spare, claim=claim) as staging:
                try:
                    checked = _check(
                        site_dir,
                        now=now,
                        strict=strict,
                        preview=preview,
                        base_url=base_url,
                        need_base_url=True,
                        jobs=jobs or default_jobs(),
                        cache=store,
                        sources=sources,
                        dest=Destination(
                            staging,
                            (previous or out_dir).resolve(),
                            sources,
                            listing=claim.files if previous is None else None,
                        ),
                    )
                except ContentErrors:
                    claim.confirm()  # a refused output is told first
                    raise
                output = finish_output(out_dir, staging, checked.produced.files, keep=keep)
            last, following = around(checked.graph, checked.now)
            report = unchanged.Previous(
                checked.diagnostics,
                len(checked.produced.files),
                schedule.summary(checked.published, following),
                following.at if following else None,
            )
            # A file saved while the build read it may have given the output bytes
            # other than those hashed: the next build must not find it up to date
            # (even once the file is put back as it was when hashed).
            steady = checked.produced.steady
            if record and (steady if steady is not None else sources.all_steady()):
                unchanged.remember(
                    store,
                    key,
                    output,
                    sources=sources,
                    zone=checked.graph.site.timezone,
                    since=last,
                    until=following.at if following else None,
                    dated=any(
                        h.last_verified
                        for o in checked.graph.organisations.values()
                        for h in o.helplines
                    ),
                    now=checked.now,
                    report=report,
                )
            else:
                sources.keep_hashes(store)  # the files' hashes still spare the next build
            built = Built(
                report.diagnostics,
                report.files,
                report.summary,
                report.next_change,
                checked.produced.rendered,
                False,
            )
            if ready is not None:
                ready(built)
            if hold is not None:
                hold.append((checked, sources, claim, output, store))
    return built


def _relative(filename: str, site_dir: Path) -> str:
    """A template's absolute path as the site-relative path authors know, if it is one."""
    path = Path(filename)
    if not path.is_absolute():
        return filename
    try:
        return path.resolve().relative_to(site_dir.resolve()).as_posix()
    except ValueError:
        return str(path)
