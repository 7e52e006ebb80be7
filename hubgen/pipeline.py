"""The build as a recipe: load, validate, resolve, publish, render, write.

This module only calls the stages in order and stops between them when the
content has errors; each stage lives in the module of its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hubgen.diagnostics import Diagnostic, Diagnostics, Span
from hubgen.errors import ContentErrors
from hubgen.load import Theme, load_site
from hubgen.publish import Published, publish
from hubgen.render import Output, TemplateProblem, render_site
from hubgen.resolve import SiteGraph, resolve_site
from hubgen.timeparse import localize
from hubgen.validate import validate_site
from hubgen.write import claim_output, write_output


@dataclass(frozen=True)
class Checked:
    graph: SiteGraph
    themes: dict[str, Theme]
    diagnostics: list[Diagnostic]  # warnings only: errors raise ContentErrors
    now: datetime  # aware: a naive --now is read in the site's time zone


@dataclass(frozen=True)
class Built:
    checked: Checked
    published: Published
    output: Output


def check(
    site_dir: Path,
    *,
    now: datetime,
    strict: bool = False,
    base_url: str | None = None,
    need_base_url: bool = False,
) -> Checked:
    """Load and check every file, published or not."""
    diags = Diagnostics()
    tree = load_site(site_dir, diags)
    validated = validate_site(tree, diags, base_url=base_url, need_base_url=need_base_url)
    graph = resolve_site(tree, validated, diags)
    if diags.has_errors(strict=strict):
        raise ContentErrors(diags.sorted(strict=strict))
    if now.tzinfo is None:
        now = localize(now, graph.site.timezone).instant
    return Checked(graph=graph, themes=tree.themes, diagnostics=diags.sorted(), now=now)


def build(
    site_dir: Path,
    out_dir: Path,
    *,
    now: datetime,
    preview: bool = False,
    strict: bool = False,
    base_url: str | None = None,
    force: bool = False,
) -> Built:
    with claim_output(out_dir, site_dir, force=force) as keep:
        checked = check(site_dir, now=now, strict=strict, base_url=base_url, need_base_url=True)
        published = publish(checked.graph, checked.now, preview=preview)
        try:
            output = render_site(published, checked.themes)
        except TemplateProblem as exc:
            span = Span(_relative(exc.filename, site_dir), exc.line, 1)
            raise ContentErrors([Diagnostic(span, "error", "template", exc.message)]) from None
        write_output(out_dir, output, keep=keep)
    return Built(checked=checked, published=published, output=output)


def _relative(filename: str, site_dir: Path) -> str:
    path = Path(filename).resolve()
    try:
        return path.relative_to(site_dir.resolve()).as_posix()
    except ValueError:
        return str(path)
