"""Measure a command as a whole process: wall time, CPU time and peak memory.

Wall time is what a user waits for, from starting the process to its exit.
CPU time (user + system, of the process and the children it waited for) is
much steadier on a busy machine, so it is reported beside it. Peak memory is
the largest total proportional set size (PSS) of the process and all its
descendants (its session), sampled every 50 ms from /proc, and never less than
the peak resident memory of its largest single process as the kernel reports
it on exit. PSS counts a page shared by forked workers once in all, not once
per process (summed RSS would), so a build that forks workers is charged for
the memory they add, and no more.

Sampling costs the measured run CPU time, and more the more memory it
watches: reading a process's PSS walks its page tables (about 2 ms for a
200 MB process). Every 50 ms that took 1.5 to 2.4 s of CPU during a cold build
at 10,000 drops (three 200 MB processes) and 0.9 s during the bare loop (two
of 35 MB): about 5 % of the machine against 3.5 %. So a run timed for a
ratio is measured with `sample=False` (only the kernel's peak of its largest
process), and its memory in a run of its own (see run.py).

Python runs as it does by default: a caller's PYTHONDONTWRITEBYTECODE (this
machine's shell sets it) is not passed on, so hubgen's modules are compiled
once and their bytecode kept (as pip does for a package it installs). With
it, every measured build compiled hubgen's 40 modules again: 0.06 s that no
user's build spends.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
_NO_BYTECODE = "PYTHONDONTWRITEBYTECODE"
INTERVAL = 0.05


class CommandFailed(RuntimeError):
    """A measured command exited with a non-zero status."""


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    cpu: float  # seconds, user + system
    peak_mb: float
    stdout: str


def set_aside(path: Path, trash: Path) -> None:
    """Move `path` (if it is there) into `trash`, to be removed after the last
    measured run, not now.

    A folder of thousands of files removed right before a run made that run
    slow, and by how much varied run to run: this machine's ext4 has no
    journal, and then, for each file or folder it makes, the kernel passes over
    every inode freed in the last one to six minutes (`recently_deleted` in
    fs/ext4/ialloc.c). `perf record` of a cold build at 10,000 drops made
    right after removing the last one's output: a tenth of its CPU time there,
    and its system time 3 to 9 s against 2.6 to 3 s with the output moved
    aside. A folder moved within one file system frees no inode. A build on a
    fresh CI runner meets no such files."""
    if not (path.exists() or path.is_symlink()):
        return
    trash.mkdir(parents=True, exist_ok=True)
    path.rename(Path(tempfile.mkdtemp(dir=trash)) / path.name)


def measure(
    argv: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    sample: bool = True,
) -> Sample:
    """Run `argv` (in `env`, by default this one's) to completion and measure it;
    raise CommandFailed on a non-zero exit. Without `sample`, its memory is not
    sampled: the peak is that of its largest process alone, and the run's time
    is its own."""
    env = {k: v for k, v in (os.environ if env is None else env).items() if k != _NO_BYTECODE}
    # The files the last run wrote (10,000 pages: 120 MB) go to disk first, not
    # while this one runs: the kernel's writeback took CPU time and the disk
    # from whichever run came next. A cold build's stretch in one process
    # (making and writing feeds, calendars, sitemap) took 0.92 to 1.46 s in
    # three runs one after another, and 0.75 to 0.93 s in five each after a
    # sync and a 3 s pause.
    os.sync()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [str(a) for a in argv],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        sampler = _SessionSampler(proc.pid) if sample else None
        if sampler is not None:
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if sampler is not None:
            sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        if proc.returncode != 0:
            tail = err.read().decode("utf-8", "replace")[-2000:]
            raise CommandFailed(f"{' '.join(map(str, argv))} exited {proc.returncode}:\n{tail}")
    peak_kb = max(usage.ru_maxrss, sampler.peak_kb if sampler is not None else 0)
    return Sample(wall, usage.ru_utime + usage.ru_stime, peak_kb / 1024, stdout)


class _SessionSampler(threading.Thread):
    """Polls the summed PSS of every process in one session until stopped."""

    def __init__(self, session: int) -> None:
        super().__init__(daemon=True)
        self.session = session
        self.peak_kb = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak_kb = max(self.peak_kb, session_memory_kb(self.session))
            self._done.wait(INTERVAL)

    def stop(self) -> None:
        self._done.set()
        self.join()


def session_memory_kb(session: int) -> int:
    """The summed PSS of the live processes of `session`, in KiB (RSS where PSS is hidden)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        # fields: state ppid pgrp session ... (rss is field 24 of stat, here index 21)
        if int(fields[3]) != session:
            continue
        total += _pss_kb(entry.name) or int(fields[21]) * PAGE_KB
    return total


def _pss_kb(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None
