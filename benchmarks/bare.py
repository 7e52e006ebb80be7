"""The bare-minimum build loop that hubgen's times are measured against.

    python benchmarks/bare.py SITE OUT [--jobs 2] [--skip-unchanged STATE]

For every Markdown file under SITE/content: read it, `yaml.safe_load` its front
matter, `markdown.markdown` its body, render one Jinja template, write
OUT/<path>/index.html. That is the least any generator built on these
libraries must do, so "hubgen takes 1.1x the bare loop" means the same on a
fast machine and a busy one. `--jobs` spreads the files over processes;
`--skip-unchanged` keeps a content hash per file in STATE and skips files whose
hash has not changed since the last run (the least an incremental build does).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import sys
from collections.abc import Iterable
from pathlib import Path

import jinja2
import markdown
import markupsafe
import yaml

TEMPLATE = jinja2.Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ title }}</title>
<meta name="description" content="{{ summary }}"></head>
<body><main><h1>{{ title }}</h1>
{% if date %}<p><time>{{ date }}</time></p>{% endif %}
<div class="prose">{{ body }}</div>
</main></body>
</html>
"""
)


def build_one(job: tuple[Path, Path]) -> int:
    """Read, parse, render and write one file; returns 1 for the count."""
    source, target = job
    text = source.read_text("utf-8")
    _, front, body = text.split("---\n", 2)
    meta = yaml.safe_load(front) or {}
    html = TEMPLATE.render(
        title=meta.get("title") or meta.get("name") or source.stem,
        summary=meta.get("summary", ""),
        date=meta.get("publish_at", ""),
        body=markupsafe.Markup(markdown.markdown(body)),
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, "utf-8")
    return 1


def jobs_for(site: Path, out: Path) -> list[tuple[Path, Path]]:
    content = site / "content"
    return [
        (path, out / path.relative_to(content).with_suffix("") / "index.html")
        for path in sorted(content.rglob("*.md"))
    ]


def unchanged_skipped(jobs: list[tuple[Path, Path]], state: Path) -> Iterable[tuple[Path, Path]]:
    """The jobs whose source bytes changed since the last run; updates STATE."""
    seen = json.loads(state.read_text("utf-8")) if state.is_file() else {}
    hashes = {}
    changed = []
    for source, target in jobs:
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        hashes[str(source)] = digest
        if seen.get(str(source)) != digest or not target.is_file():
            changed.append((source, target))
    state.write_text(json.dumps(hashes), "utf-8")
    return changed


def run(site: Path, out: Path, *, jobs: int = 1, state: Path | None = None) -> int:
    """Build every (changed) file; returns how many pages were written."""
    todo = jobs_for(site, out)
    if state is not None:
        todo = list(unchanged_skipped(todo, state))
    if jobs <= 1 or len(todo) < 2:
        return sum(build_one(job) for job in todo)
    with multiprocessing.Pool(jobs) as pool:
        return sum(pool.imap_unordered(build_one, todo, chunksize=32))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--jobs", type=int, default=1, help="processes (default 1)")
    parser.add_argument(
        "--skip-unchanged",
        type=Path,
        metavar="STATE",
        help="skip files whose content hash is the one recorded in STATE",
    )
    args = parser.parse_args(argv)
    pages = run(args.site, args.out, jobs=args.jobs, state=args.skip_unchanged)
    print(f"wrote {pages} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
