"""The benchmark: a deterministic, valid synthetic site, and a runner that reports every row."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, read_tree, run

from hubgen import write

BENCH = REPO / "benchmarks"
NOW = "2025-05-30T12:00"  # benchmarks/generate.py's NOW


def generate(n: int, out: Path) -> None:
    subprocess.run(
        [sys.executable, BENCH / "generate.py", str(n), out], check=True, capture_output=True
    )


def test_generated_site_is_deterministic_checks_clean_and_builds(tmp_path: Path) -> None:
    generate(50, tmp_path / "a")
    generate(50, tmp_path / "b")
    tree = read_tree(tmp_path / "a")
    assert tree == read_tree(tmp_path / "b")
    drops = [p for p in tree if p.startswith("content/drops/")]
    assert len(drops) == 50
    assert any(p.endswith(".png") for p in tree) and any(p.endswith(".svg") for p in tree)
    for path in drops:
        body = tree[path].decode("utf-8").split("---\n", 2)[2]
        assert 300 <= len(body.split()) <= 510, path

    # build runs every check of `hubgen check` first; --strict fails it on a warning too
    site, out = tmp_path / "a", tmp_path / "out"
    assert run("build", "--site", site, "--out", out, "--now", NOW, "--strict") == 0
    built = read_tree(tmp_path / "out")
    pages = [p for p in built if p.endswith("/index.html") and p.count("/") == 2]
    assert len([p for p in pages if p.startswith("mental-health-awareness-2025/")]) > 40


def test_generate_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "keep.txt").write_text("mine")
    done = subprocess.run(
        [sys.executable, BENCH / "generate.py", "5", tmp_path / "site"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "is not empty" in done.stderr
    assert read_tree(tmp_path / "site") == {"keep.txt": b"mine"}


def test_runner_reports_every_row_at_a_tiny_size(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, BENCH / "run.py", "--sizes", "10", "--repeat", "2", "--no-hugo"]
        + ["--work", tmp_path / "work", "--json", results],
        capture_output=True,
        text=True,
        check=True,
    )
    table = done.stdout.splitlines()
    assert table[2].startswith("N = 10 drops (")
    labels = [
        "hubgen cold build",
        "hubgen no-change rebuild",
        "hubgen first edit (makes spare)",
        "hubgen one-drop-edit rebuild",
        "hubgen one-template-edit rebuild",
        "hubgen a-drop-goes-live rebuild",
        "bare loop, 1 process",
        "bare loop, 2 processes",
        "bare loop, hash skip, no change",
    ]
    rows = table[4:15]
    assert [row[:34].rstrip() for row in rows] == [
        *labels,
        "Hugo cold build",
        "Hugo one-file-edit rebuild",
    ]
    for row in rows[:9]:
        wall, cpu, peak = row[34:].split()[:3]
        assert float(wall) > 0 and float(cpu) > 0 and float(peak) > 0, row
    assert rows[7].split()[-1] == "1.00"  # the bare loop over two processes is the yardstick
    assert rows[9].endswith("not measured: skipped (--no-hugo)")

    report = json.loads(results.read_text("utf-8"))
    size = report["sizes"][0]
    assert size["n"] == 10 and size["hubgen_pages"] > 10
    assert size["rows"]["hubgen_cold"]["written"] == size["hubgen_files"]
    assert 0 <= size["rows"]["hubgen_nochange"]["written"] <= size["hubgen_files"]
    assert size["rows"]["hubgen_drop_live"]["written"] > 0  # the new drop's page, at least
    for key in ("hubgen_first_edit", "hubgen_drop_edit"):  # the edited drop's page, at least
        assert size["rows"][key]["written"] >= 1, key
    assert report["hugo_missing"] == "skipped (--no-hugo)"
    # Each repeated row's second run moved the first's output aside: gone at the end.
    # The first edit's runs each moved aside the spare folder that hubgen
    # leaves beside the output (this one, left by the last build).
    left = {path.name for path in (tmp_path / "work").iterdir()}
    assert {"site-10", "out-10", "bare-10"} <= left and "trash" not in left
    assert write.spare_of(tmp_path / "work" / "out-10").name in left

    # A run saved before a row was added is printed without it.
    del size["rows"]["hubgen_first_edit"]
    results.write_text(json.dumps(report), "utf-8")
    again = subprocess.run(
        [sys.executable, BENCH / "run.py", "--table", results],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert [row[:34].rstrip() for row in again[4:14]] == [
        label
        for label in [*labels, "Hugo cold build", "Hugo one-file-edit rebuild"]
        if label != "hubgen first edit (makes spare)"
    ]


def test_the_serve_benchmark_times_a_save_until_the_page_changes() -> None:
    result = subprocess.run(
        [sys.executable, BENCH / "serve.py", "--size", "30", "--saves", "2"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stdout.startswith("hubgen serve, 30 drops: save to served page, median ")
    assert len(result.stdout.split("runs: ")[1].split(",")) == 2


@pytest.mark.parametrize(
    ("edit", "row"),
    [
        ("drop", "one-drop-edit rebuild"),
        ("template", "one-template-edit rebuild"),
        ("cold", "cold build"),
    ],
)
def test_ab_alternates_two_versions_and_leaves_no_worktree(
    tmp_path: Path, edit: str, row: str
) -> None:
    git = ["git", "-C", str(REPO)]
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    worktrees = [*git, "worktree", "list", "--porcelain"]
    before = subprocess.run(worktrees, capture_output=True, text=True, check=True).stdout
    a, b = "HEAD", head.stdout.strip()  # the same code by two names
    done = subprocess.run(
        [sys.executable, BENCH / "ab.py", a, b, "--size", "10", "--runs", "2", "--edit", edit],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0] == f"hubgen {row}, 10 drops, versions alternated:"
    for line, label in zip(lines[1:3], (a, b), strict=True):
        assert line.startswith(f"  {label} ({b[:7]}): median "), line
        assert re.search(r"peak \d+ MB \(runs: \d+\.\d\d, \d+\.\d\d s\)$", line), line
    assert re.fullmatch(rf"  {b} / {a}: \d+\.\d\d", lines[3])
    # A then B, then B then A: a drift of the machine's speed favours neither
    progress = done.stderr.splitlines()
    timed = [line.split()[0] for line in progress if line.endswith(" s")]
    assert timed == [a, b, b, a]
    # then one run of each, not timed, for its memory (sampling slows a run)
    assert [line for line in progress if "memory" in line][-2:] == progress[-2:]
    assert [line.split(",")[0] for line in progress[-2:]] == [a, b]
    after = subprocess.run(worktrees, capture_output=True, text=True, check=True).stdout
    assert after == before


def test_ab_runs_each_version_s_own_code_even_from_the_project_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m` puts the folder it runs in first on sys.path: run from the
    project's folder, as README says, both versions were the checkout's code."""
    monkeypatch.syspath_prepend(str(BENCH))
    import ab

    tree = tmp_path / "tree"
    (tree / "hubgen").mkdir(parents=True)
    (tree / "hubgen" / "__init__.py").write_text("")
    (tree / "hubgen" / "__main__.py").write_text("print('the version in the worktree')\n")
    monkeypatch.chdir(REPO)
    version = ab.Version("v", "0" * 40, tree, tmp_path / "site")
    assert version.build(tmp_path / "out").stdout == "the version in the worktree\n"


def test_ab_cold_runs_start_from_no_output_and_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    import ab

    copy = tmp_path / "v"  # as ab.py lays out a version: its site, its output
    generate(10, copy / "site")
    version = ab.Version("v", "0" * 40, REPO, copy / "site")
    version.build(copy / "out")
    assert (copy / "site" / ".hubgen-cache").is_dir() and (copy / "out").is_dir()
    before = {
        name: data
        for name, data in read_tree(copy / "site").items()
        if not name.startswith(".hubgen-cache/")
    }
    inodes = {(copy / name).stat().st_ino for name in ("out", "site/.hubgen-cache")}
    ab._prepare(version, "cold", Path(), 0)
    assert not (copy / "site" / ".hubgen-cache").exists()
    assert not (copy / "out").exists()
    assert read_tree(copy / "site") == before  # the site itself as it was
    # Moved aside whole, not removed (see measure.set_aside): the folder's
    # TemporaryDirectory removes them after the last run.
    trash = tmp_path / "trash"
    aside = [*trash.glob("*/out"), *trash.glob("*/.hubgen-cache")]
    assert {path.stat().st_ino for path in aside} == inodes


def test_ab_cold_runs_swap_the_versions_copies_of_the_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cold builds need nothing of a copy's past: each version takes the other's
    copy at each run, so a copy that is slower to write favours neither."""
    monkeypatch.syspath_prepend(str(BENCH))
    import ab

    a = ab.Version("a", "0" * 40, REPO, tmp_path / "a" / "site")
    b = ab.Version("b", "1" * 40, REPO, tmp_path / "b" / "site")
    ab._swap_copies([a, b])
    assert (a.site, b.site) == (tmp_path / "b" / "site", tmp_path / "a" / "site")
    ab._swap_copies([a, b])
    assert (a.site, b.site) == (tmp_path / "a" / "site", tmp_path / "b" / "site")


def test_measured_python_keeps_its_bytecode_as_installed_python_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A caller that turns bytecode writing off (this machine's shell does) does
    not make every measured build compile hubgen's modules again."""
    monkeypatch.syspath_prepend(str(BENCH))
    from measure import measure

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    argv = [sys.executable, "-c", "import sys; print(sys.dont_write_bytecode)"]
    assert measure(argv).stdout == "False\n"
    env = {"PATH": "/usr/bin", "PYTHONDONTWRITEBYTECODE": "1", "MARK": "kept"}
    argv = [
        sys.executable,
        "-c",
        "import os, sys; print(sys.dont_write_bytecode, os.environ['MARK'])",
    ]
    assert measure(argv, env=env).stdout == "False kept\n"


def test_ab_with_an_unknown_revision_says_so_and_leaves_no_worktree() -> None:
    worktrees = ["git", "-C", str(REPO), "worktree", "list", "--porcelain"]
    before = subprocess.run(worktrees, capture_output=True, text=True, check=True).stdout
    done = subprocess.run(
        [sys.executable, BENCH / "ab.py", "HEAD", "no-such-revision", "--size", "10"],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "ab.py: git rev-parse" in done.stderr
    after = subprocess.run(worktrees, capture_output=True, text=True, check=True).stdout
    assert after == before  # the first version's worktree is removed too


def test_each_run_starts_without_the_last_run_s_folder_which_is_moved_aside_not_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Removing thousands of files right before a run slowed it on this machine
    (see measure.set_aside): the last run's folder is moved into the trash,
    whole (the runner removes the trash when it ends: see the tiny-size run)."""
    monkeypatch.syspath_prepend(str(BENCH))
    import run

    out, trash = tmp_path / "out", tmp_path / "trash"
    script = "import os, sys; os.mkdir(sys.argv[1]); open(sys.argv[1] + '/page', 'w').close()"
    made: list[int] = []
    run._repeat(
        10,
        "bare_2",
        3,
        [sys.executable, "-c", script, out],  # fails if the folder is still there
        fresh=[out],
        trash=trash,
        after=lambda _sample: made.append(out.stat().st_ino),
    )
    aside = sorted(trash.glob("*/out"), key=lambda path: path.stat().st_ino)
    assert len(made) == 3 and len(aside) == 3  # the memory run moved the third aside
    assert {path.stat().st_ino for path in aside} == set(made)
    assert all((path / "page").is_file() for path in aside)
    assert (out / "page").is_file()  # the memory run's own


def test_the_cold_build_and_the_bare_loop_it_is_divided_by_run_in_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The machine's speed drifts from minute to minute: the two rows whose
    ratio is the cold-build target are measured side by side, A B, B A, A B."""
    monkeypatch.syspath_prepend(str(BENCH))
    import run

    log = tmp_path / "log"
    script = "import sys; open(sys.argv[1], 'a').write(sys.argv[2])"

    def runs(key: str, mark: str) -> run._Runs:
        return run._Runs(10, key, 3, [sys.executable, "-c", script, log, mark])

    bare, cold = run._alternated(runs("bare_2", "b"), runs("hubgen_cold", "h"), 3)
    assert log.read_text() == "bhhbbh" + "bh"  # then each row's memory run
    assert len(bare.runs) == len(cold.runs) == 3
    assert bare.wall == pytest.approx(sorted(bare.runs)[1], abs=1e-3)  # the median


# A process that forks two workers, each holding 60 MB for a moment.
WORKERS = """
import os, time
for _ in range(2):
    if os.fork() == 0:
        memory = bytearray(60 * 2**20)
        time.sleep(0.4)
        os._exit(0)
for _ in range(2):
    os.wait()
"""


def test_a_sampled_run_counts_a_process_and_its_workers_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Unsampled, a run's peak is its largest process's (the kernel's figure)."""
    monkeypatch.syspath_prepend(str(BENCH))
    from measure import measure

    argv = [sys.executable, "-c", WORKERS]
    assert measure(argv).peak_mb >= 120
    assert 60 <= measure(argv, sample=False).peak_mb < 100


def test_timed_runs_are_not_sampled_and_a_memory_run_after_them_gives_the_peak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sampling takes CPU time from the run it watches (see measure.py): each
    row's peak comes from one more run, whose time is not counted."""
    monkeypatch.syspath_prepend(str(BENCH))
    import run

    log = tmp_path / "log"
    script = (  # the fourth run: slow, and its workers hold 120 MB
        "import sys, time; log = open(sys.argv[1], 'a+'); log.write('r'); log.seek(0)\n"
        f"if len(log.read()) == 4:\n    time.sleep(1)\n    exec({WORKERS!r})"
    )
    edits: list[int] = []
    row = run._repeat(
        10, "hubgen_drop_edit", 3, [sys.executable, "-c", script, log], before=edits.append
    )
    assert log.read_text() == "rrrr" and edits == [0, 1, 2, 3]
    assert len(row.runs) == 3 and max(row.runs) < 1  # the memory run is not timed
    assert row.peak_mb >= 120
