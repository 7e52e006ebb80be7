"""Work spread over processes: Markdown and templates are CPU-bound pure Python.

Workers are forked, so they start with a copy of the parent's memory: the site,
its themes and its views are never pickled, only item numbers go out and small
results come back. This process works too, so `jobs` processes run with
`jobs - 1` forked workers: one copy fewer of memory that the work touches.
Where fork is not available or not safe (Windows, macOS), with one job, or with
too little work to share, everything runs in this process. Results are the
same, in the same order, either way.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from hubgen import collector

T = TypeVar("T")
R = TypeVar("R")

# Fewer items than this per worker are not worth a process.
MIN_PER_WORKER = 16
_task: Callable[[Any], Any] | None = None


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def run(task: Callable[[T], R], items: Sequence[T], *, jobs: int) -> list[R]:
    """`[task(item) for item in items]`, over up to `jobs` processes."""
    return list(each(task, items, jobs=jobs))


def each(task: Callable[[T], R], items: Sequence[T], *, jobs: int) -> Iterator[R]:
    """`task(item)` for each item in order, each given as soon as it is done
    (so the caller can store and forget it), over up to `jobs` processes.
    Nothing else may run over workers until the last result is taken."""
    workers = min(jobs, len(items) // MIN_PER_WORKER)
    if workers < 2 or not can_fork():
        yield from (task(item) for item in items)
        return
    global _task
    _task = task
    collector.settle()  # no collection in a worker writes to the pages it shares with us
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(workers - 1, _die_with, (os.getpid(),)) as pool:
            # Every `workers`-th item is done here, the rest by the pool:
            # interleaved, so that costly items (long list pages) are shared out
            # too. Small chunks, so that this process seldom waits for one.
            theirs = [item for i, item in enumerate(items) if i % workers]
            chunk = max(1, len(theirs) // (workers * 32))
            done = pool.imap(_run_one, theirs, chunksize=chunk)
            for i, item in enumerate(items):
                yield task(item) if i % workers == 0 else next(done)
    finally:
        _task = None


def _die_with(parent: int) -> None:
    """Make this worker end when the build that forked it does. A build killed
    outright (SIGKILL: an out-of-memory kill, a CI job's timeout) cannot stop its
    workers, and one left waiting for work would wait forever, holding the
    output's lock and the build's stderr (so whatever ran the build hung too)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # no C library to ask: as before
        return
    if os.getppid() != parent:  # it ended before we asked
        os._exit(1)


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _run_one(item: Any) -> Any:
    assert _task is not None  # set before the fork
    return _task(item)
