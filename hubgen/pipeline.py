"""The build as a recipe: load, validate, resolve, publish, render, write.

This module only calls the stages in order and stops between them when the
content has errors; each stage lives in the module of its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hubgen.diagnostics import Diagnostic, Diagnostics, Span
from hubgen.errors import ContentErrors, UsageError
from hubgen.helpcheck import check_helplines
from hubgen.linkcheck import check_links
from hubgen.load import load_site
from hubgen.publish import Published, publish
from hubgen.render import Rendered, TemplateProblem, render_site
from hubgen.resolve import SiteGraph, resolve_site
from hubgen.safemessaging import review_content
from hubgen.timeparse import TimeError, localize
from hubgen.validate import validate_site
from hubgen.write import claim_output, write_output


@dataclass(frozen=True)
class Checked:
    """A site that passed every check, rendered in memory, ready to be written."""

    graph: SiteGraph
    diagnostics: list[Diagnostic]  # warnings only: errors raise ContentErrors
    now: datetime  # aware: a naive --now is read in the site's time zone
    published: Published
    rendered: Rendered


def check(
    site_dir: Path,
    *,
    now: datetime,
    strict: bool = False,
    preview: bool = False,
    base_url: str | None = None,
    need_base_url: bool = False,
) -> Checked:
    """Check every file, published or not (`now` decides time-based checks), then
    render the site in memory and link-check it."""
    diags = Diagnostics()
    tree = load_site(site_dir, diags)
    validated = validate_site(tree, diags, base_url=base_url, need_base_url=need_base_url)
    graph = resolve_site(tree, validated, diags)
    if now.tzinfo is None:
        try:
            now = localize(now, graph.site.timezone).instant
        except TimeError as exc:
            raise UsageError(f"--now: {exc}") from None
    check_helplines(tree, validated, diags, now=now)
    review_content(tree, validated, diags, now=now)
    if diags.has_errors(strict=strict):
        raise ContentErrors(diags.sorted(strict=strict))
    published = publish(graph, now, preview=preview)
    try:
        rendered = render_site(published, tree.themes)
    except TemplateProblem as exc:
        span = Span(_relative(exc.filename, site_dir), exc.line, 1)
        raise ContentErrors([Diagnostic(span, "error", "template", exc.message)]) from None
    for problem in check_links(rendered, graph.urls):
        span = Span(_relative(problem.span.path, site_dir))
        diags.error(span, problem.code, problem.message)
    if diags.has_errors(strict=strict):
        raise ContentErrors(diags.sorted(strict=strict))
    return Checked(graph, diags.sorted(), now, published, rendered)


def build(
    site_dir: Path,
    out_dir: Path,
    *,
    now: datetime,
    preview: bool = False,
    strict: bool = False,
    base_url: str | None = None,
    force: bool = False,
) -> Checked:
    """Check, then write the rendered site; the output folder is only swapped on success."""
    with claim_output(out_dir, site_dir, force=force) as keep:
        checked = check(
            site_dir, now=now, strict=strict, preview=preview, base_url=base_url, need_base_url=True
        )
        write_output(out_dir, checked.rendered.files, keep=keep)
    return checked


def _relative(filename: str, site_dir: Path) -> str:
    """A template's absolute path as the site-relative path authors know, if it is one."""
    path = Path(filename)
    if not path.is_absolute():
        return filename
    try:
        return path.resolve().relative_to(site_dir.resolve()).as_posix()
    except ValueError:
        return str(path)
