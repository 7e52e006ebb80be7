"""Work spread over processes: Markdown and templates are CPU-bound pure Python.

Workers are forked, so they start with a copy of the parent's memory: the site,
its themes and its views are never pickled, only item numbers go out and small
results come back. Where fork is not available or not safe (Windows, macOS),
with one job, or with too little work to share, everything runs in this
process. Results are the same, in the same order, either way.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

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
    """`[task(item) for item in items]`, over up to `jobs` forked processes."""
    workers = min(jobs, len(items) // MIN_PER_WORKER)
    if workers < 2 or not can_fork():
        return [task(item) for item in items]
    global _task
    _task = task
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            chunk = max(1, len(items) // (workers * 8))
            return pool.map(_run_one, items, chunksize=chunk)
    finally:
        _task = None


def _run_one(item: Any) -> Any:
    assert _task is not None  # set before the fork
    return _task(item)
