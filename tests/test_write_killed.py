"""write: a build killed at any moment, or run twice at once, never damages the output.

These tests run real `hubgen build` processes on a generated site big enough
that writing takes a while, kill them with SIGKILL at chosen moments (as soon
as the staging folder appears, halfway through writing it, and at random
delays), and compare the output tree with the builds before and after.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import read_tree, run, write_site

NOW_BEFORE = "2023-05-10T12:00"
NOW_AFTER = "2023-05-20T12:00"  # more drops published: a different output
LEFTOVER = re.compile(r"\.out\.(new|old)-[a-z0-9_]{8}")

fcntl = pytest.importorskip("fcntl", reason="SIGKILL and flock are POSIX")


def beside(parent: Path) -> list[str]:
    """What the output's folder holds, but the spare (the output before, kept on
    purpose for the next build to bring up to date: see test_write)."""
    return sorted(p.name for p in parent.iterdir() if p.name != ".out.spare")


def big_site(root: Path, drops: int = 120) -> Path:
    files: dict[str, str | bytes] = {
        "site.yaml": "title: Big\nbase_url: https://example.org/\n",
        "campaigns/may.yaml": "title: May\nstarts: 2023-05-01\nends: 2023-05-31\n",
    }
    for i in range(drops):
        files[f"content/drops/may/drop-{i:03}.md"] = (
            f"---\ntitle: Drop {i}\npublish_at: 2023-05-{1 + i % 28:02} 09:00\n"
            f"topics: [topic-{i % 10}]\nimage:\n  src: /media/img-{i:03}.bin\n"
            f"  alt: Picture {i}\n---\n" + "Some words to render. " * 100 + "\n"
        )
        files[f"content/media/img-{i:03}.bin"] = bytes([i % 256]) * 200_000
    return write_site(root, files)


def start_build(site: Path, out: Path, now: str) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "hubgen", "build", "--site", str(site), "--out", str(out)]
    return subprocess.Popen(
        [*argv, "--now", now], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def staging_dirs(parent: Path) -> list[Path]:
    """The folders a build assembles the new output in: a fresh one, or the
    spare (here, with none before the build, made from the output by it)."""
    return [p for p in parent.iterdir() if p.name.startswith(".out.new-") or p.name == ".out.spare"]


def kill_when(proc: subprocess.Popen[bytes], ready: Callable[[], bool]) -> bool:
    """SIGKILL `proc` as soon as `ready()` holds; False if it finished first."""
    while not ready():
        try:
            proc.communicate(timeout=0.001)
            return False
        except subprocess.TimeoutExpired:
            continue
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    return True


def kill_after(proc: subprocess.Popen[bytes], delay: float) -> bool:
    try:
        proc.communicate(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        return True


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    """The big site, and its complete output at NOW_BEFORE and at NOW_AFTER."""
    root = tmp_path_factory.mktemp("big")
    site = big_site(root / "site")
    assert run("build", "--site", site, "--out", root / "before", "--now", NOW_BEFORE) == 0
    assert run("build", "--site", site, "--out", root / "after", "--now", NOW_AFTER) == 0
    before, after = read_tree(root / "before"), read_tree(root / "after")
    assert before != after
    return site, before, after


def fresh_output(tmp_path: Path, site: Path) -> Path:
    out = tmp_path / "out"
    assert run("build", "--site", site, "--out", out, "--now", NOW_BEFORE) == 0
    return out


def test_killed_as_soon_as_staging_appears_leaves_the_previous_output(
    trees: tuple[Path, dict, dict], tmp_path: Path
) -> None:
    site, before, after = trees
    out = fresh_output(tmp_path, site)
    proc = start_build(site, out, NOW_AFTER)
    assert kill_when(proc, lambda: bool(staging_dirs(tmp_path)))
    assert read_tree(out) == before


def test_killed_halfway_through_writing_leaves_the_previous_output(
    trees: tuple[Path, dict, dict], tmp_path: Path
) -> None:
    site, before, after = trees

    def half_written() -> bool:
        return any(sum(1 for _ in d.rglob("*.bin")) >= 40 for d in staging_dirs(tmp_path))

    out = fresh_output(tmp_path, site)
    proc = start_build(site, out, NOW_AFTER)
    assert kill_when(proc, half_written)
    assert read_tree(out) == before


def test_killed_at_random_moments_the_output_is_always_one_whole_build(
    trees: tuple[Path, dict, dict], tmp_path: Path
) -> None:
    site, before, after = trees
    out = fresh_output(tmp_path, site)
    started = time.monotonic()
    proc = start_build(site, out, NOW_AFTER)
    proc.communicate()
    assert proc.returncode == 0
    full = time.monotonic() - started
    assert read_tree(out) == after
    assert run("build", "--site", site, "--out", out, "--now", NOW_BEFORE) == 0
    rng = random.Random(6)
    killed = 0
    for _ in range(6):
        proc = start_build(site, out, NOW_AFTER)
        killed += kill_after(proc, rng.uniform(0.0, full))
        tree = read_tree(out)
        assert tree in (before, after), "the output is a mix of two builds"
        if tree == after:  # the kill came after the swap: go back for the next round
            assert run("build", "--site", site, "--out", out, "--now", NOW_BEFORE) == 0
    assert killed >= 3


def test_the_build_after_a_kill_succeeds_and_removes_the_leftovers(
    trees: tuple[Path, dict, dict], tmp_path: Path
) -> None:
    site, before, after = trees
    out = fresh_output(tmp_path, site)
    proc = start_build(site, out, NOW_AFTER)
    assert kill_when(proc, lambda: bool(staging_dirs(tmp_path)))
    assert staging_dirs(tmp_path), "the killed build left its staging folder"
    assert run("build", "--site", site, "--out", out, "--now", NOW_AFTER) == 0
    assert read_tree(out) == after
    assert beside(tmp_path) == ["out"]


def test_a_swap_killed_between_its_two_renames_is_put_back(
    trees: tuple[Path, dict, dict], tmp_path: Path
) -> None:
    """Where folders cannot be exchanged atomically, the swap is two renames."""
    site, before, after = trees
    out = fresh_output(tmp_path, site)
    staged = tmp_path / ".out.new-abcd1234"
    os.rename(out, tmp_path / ".out.old-wxyz5678")  # killed right here:
    (staged / "index.html").parent.mkdir(parents=True)
    (staged / "index.html").write_text("half of a new build")
    assert run("build", "--site", site, "--out", out, "--now", NOW_AFTER) == 0
    assert read_tree(out) == after
    assert beside(tmp_path) == ["out"]


def test_only_our_own_leftovers_are_removed(trees: tuple[Path, dict, dict], tmp_path: Path) -> None:
    site, before, after = trees
    out = fresh_output(tmp_path, site)
    mine = [tmp_path / ".out.new-notours", tmp_path / ".out.new", tmp_path / ".other.new-abcd1234"]
    for folder in mine:
        folder.mkdir()
        (folder / "keep.txt").write_text("not hubgen's")
    assert run("build", "--site", site, "--out", out, "--now", NOW_AFTER) == 0
    assert all((folder / "keep.txt").is_file() for folder in mine)


def test_a_second_build_while_one_holds_the_lock_is_refused(
    trees: tuple[Path, dict, dict], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site, before, after = trees
    out = fresh_output(tmp_path, site)
    lock = tmp_path / ".out.lock"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("4242\n")
        held.flush()
        capsys.readouterr()
        assert run("build", "--site", site, "--out", out, "--now", NOW_AFTER) == 2
    err = capsys.readouterr().err
    assert err == (
        f"hubgen: error: another hubgen build (process 4242) is writing to {out}; "
        f"wait for it to finish, or build into another --out (lock: {lock})\n"
    )
    assert read_tree(out) == before
    assert run("build", "--site", site, "--out", out, "--now", NOW_AFTER) == 0
    assert not lock.exists()


def test_two_builds_started_at_once_never_interleave(
    trees: tuple[Path, dict, dict], tmp_path: Path
) -> None:
    site, before, after = trees
    out = fresh_output(tmp_path, site)
    procs = [start_build(site, out, NOW_AFTER) for _ in range(2)]
    results = [(p.communicate()[1].decode(), p.returncode) for p in procs]
    results = [(code, err) for err, code in results]
    assert 0 in [code for code, _ in results]
    for code, err in results:
        assert code == 0 or (code == 2 and "another hubgen build" in err), err
    assert read_tree(out) == after
    assert beside(tmp_path) == ["out"]
