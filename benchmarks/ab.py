"""Two versions of hubgen, alternated on the same site: which is faster here, now.

    python benchmarks/ab.py 43dddd0 HEAD                 # one-drop edits, N = 10,000, 5 runs each
    python benchmarks/ab.py main HEAD --size 1000 --runs 9
    python benchmarks/ab.py a8709fa HEAD --edit template --runs 3
    python benchmarks/ab.py 57dedf4 fa5c6a4 --edit cold --runs 4   # cold builds

The project's machine is shared and its speed drifted by a third from hour to
hour (in good part, it turned out, with how many files the runs just before
had removed: see measure.set_aside), so the seconds of two benchmark runs
(run.py) do not compare, and even their ratios to the bare loop shift.
Alternating the two versions' builds puts both under the same conditions. Each
version is a git revision, checked out in a temporary worktree and run by this
interpreter (`python -m hubgen`, in the worktree and with it on PYTHONPATH) on
its own copy of one generated site: hubgen's build cache is keyed by its code,
so two versions cannot share one. Each copy is built once (cold, not
measured), and once more after an edit (not measured either: the first build
after a cold one makes the spare folder beside the output, which every later
one finds, as run.py's first-edit row shows); then each run edits one drop
in both copies, as run.py's
one-drop-edit row does (or, with `--edit template`, the site's copy of the
default theme's drop.html, as its one-template-edit row does), and measures
the two rebuilds as whole processes (measure.py), in the order A B, then B A,
so that a drift favours neither. With `--edit cold`, each run instead moves
the copy's output and build cache aside (removed at the end: see
measure.set_aside) and measures a cold build, as run.py's cold row does, and
the versions swap copies at each run (one copy's folders can be slower to
write than the other's). The timed runs' memory is not sampled (that takes
CPU time from a run, more from one with more memory: see measure.py); one
more run of each version, made as the next would be, gives its peak. It
prints each version's median wall time, CPU time and peak memory, the runs,
and B's median over A's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from generate import NOW, generate
from measure import Sample, measure, set_aside
from run import (
    CACHE_DIR,
    OVERRIDDEN,
    TRASH,
    add_override,
    drop_to_edit,
    edit_drop,
    edit_template,
)

REPO = Path(__file__).resolve().parent.parent
# --edit: what run.py's row of the same build says
EDITS = {
    "drop": "one-drop-edit rebuild",
    "template": "one-template-edit rebuild",
    "cold": "cold build",
}


@dataclass
class Version:
    label: str  # as given on the command line
    commit: str
    tree: Path  # its worktree
    site: Path  # its copy of the site
    samples: list[Sample] = field(default_factory=list)
    peak_mb: float = 0.0  # sampled, in a run of its own

    def build(self, out: Path, *, sample: bool = False) -> Sample:
        """A build by this version's code: run in its worktree, since `python -m`
        puts the folder it runs in before PYTHONPATH (from the project's folder,
        both versions would be the checkout's code)."""
        argv = [sys.executable, "-m", "hubgen", "build", "--site", self.site, "--out", out]
        env = {**os.environ, "PYTHONPATH": str(self.tree)}
        return measure([*argv, "--now", NOW], cwd=self.tree, env=env, sample=sample)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", help="the first version: a git revision (commit, branch, tag)")
    parser.add_argument("b", help="the second version")
    parser.add_argument("--size", type=int, default=10_000, help="drops (default 10,000)")
    parser.add_argument("--runs", type=int, default=5, help="edits timed per version (default 5)")
    parser.add_argument(
        "--edit",
        choices=EDITS,
        default="drop",
        help="what each run edits (default: one drop); cold: nothing, each build is cold",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hubgen-ab-") as tmp:
        work = Path(tmp)
        versions: list[Version] = []
        try:
            for label, name in ((args.a, "a"), (args.b, "b")):
                versions.append(_checkout(label, work / name))
            _progress(f"generating {args.size:,} drops")
            generate(args.size, work / "site")
            add_override(work / "site")
            edited = _edited(work / "site", args.edit)
            for v in versions:
                shutil.copytree(work / "site", v.site)
                if args.edit != "cold":
                    _progress(f"{v.label}: a cold build, then an edit's (neither timed)")
                    v.build(v.site.parent / "out")
                    _prepare(v, args.edit, edited, args.runs + 1)
                    v.build(v.site.parent / "out")
            for k in range(args.runs):
                if args.edit == "cold" and k > 0:
                    _swap_copies(versions)
                for v in versions if k % 2 == 0 else reversed(versions):
                    _prepare(v, args.edit, edited, k)
                    sample = v.build(v.site.parent / "out")
                    v.samples.append(sample)
                    _progress(f"{v.label} {k + 1}/{args.runs}: {sample.wall:.2f} s")
            for v in versions:  # memory, in one more run each (not timed)
                _prepare(v, args.edit, edited, args.runs)
                v.peak_mb = v.build(v.site.parent / "out", sample=True).peak_mb
                _progress(f"{v.label}, memory run: {v.peak_mb:.0f} MB")
        finally:
            for v in versions:
                subprocess.run(["git", "-C", REPO, "worktree", "remove", "--force", v.tree])
    print(report(versions, args.size, EDITS[args.edit]))
    return 0


def _swap_copies(versions: list[Version]) -> None:
    """Each version builds in the other's copy of the site from now on: cold
    builds leave nothing in a copy for the next, and one copy's folders can be
    slower to write than the other's (the same code, cold, alternated between
    two copies of the 2,000-drop site with one process: 6.17 against 6.48 s).
    Swapped at each run, neither version has the faster copy."""
    first, second = versions
    first.site, second.site = second.site, first.site


def _checkout(label: str, folder: Path) -> Version:
    """`label` checked out (detached) in a worktree inside `folder`."""
    commit = _git("rev-parse", "--verify", f"{label}^{{commit}}")
    folder.mkdir()
    tree = folder / "hubgen"
    _git("worktree", "add", "--detach", "--quiet", str(tree), commit)
    return Version(label, commit, tree, folder / "site")


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"ab.py: git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def _edited(site: Path, edit: str) -> Path:
    """The file each run edits, relative to the site."""
    if edit == "drop":
        return drop_to_edit(site).relative_to(site)
    return Path("themes", "default", "templates", OVERRIDDEN)


def _prepare(v: Version, edit: str, edited: Path, k: int) -> None:
    """Make the `k`th run's change to `v`'s copy of the site."""
    if edit == "drop":
        edit_drop(v.site / edited, k)
    elif edit == "template":
        edit_template(v.site / edited, k)
    else:  # a cold build: nothing built before, nothing cached (moved aside, see `set_aside`)
        trash = v.site.parent.parent / TRASH
        set_aside(v.site.parent / "out", trash)
        set_aside(v.site / CACHE_DIR, trash)


def report(versions: list[Version], size: int, row: str) -> str:
    lines = [f"hubgen {row}, {size:,} drops, versions alternated:"]
    medians = []
    for v in versions:
        wall = statistics.median(s.wall for s in v.samples)
        cpu = statistics.median(s.cpu for s in v.samples)
        peak = max(v.peak_mb, *(s.peak_mb for s in v.samples))
        runs = ", ".join(f"{s.wall:.2f}" for s in v.samples)
        lines.append(
            f"  {v.label} ({v.commit[:7]}): median {wall:.2f} s wall, {cpu:.2f} s CPU, "
            f"peak {peak:.0f} MB (runs: {runs} s)"
        )
        medians.append(wall)
    lines.append(f"  {versions[1].label} / {versions[0].label}: {medians[1] / medians[0]:.2f}")
    return "\n".join(lines)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
