"""A build's worker processes share its work, give results in order, and end
with it, however it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from multiprocessing import get_context
from pathlib import Path

import pytest

from hubgen import workers

pytestmark = pytest.mark.skipif(
    not (workers.can_fork() and Path("/proc/self/status").is_file()),
    reason="forked workers, seen through /proc (Linux)",
)

# A "build" whose worker is busy for an hour with the first item it takes; it
# prints the worker's pid, then waits for its results (and is killed meanwhile).
# The build's own items take a while, so that the worker, once started, takes one.
BUSY = """
import os, sys, time
from hubgen import workers

BUILD = os.getpid()

def task(item):
    if os.getpid() == BUILD:
        time.sleep(0.05)
        return item
    print(os.getpid(), flush=True)
    time.sleep(3600)

list(workers.each(task, list(range(64)), jobs=2))
"""


def ended(pid: int) -> bool:
    """Gone, or a zombie waiting to be reaped (a container's init may never)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" in status


def test_a_worker_ends_when_its_build_is_killed() -> None:
    """A build killed outright (an out-of-memory kill, a CI job's timeout) cannot
    stop its workers: one left working or waiting would go on forever, holding
    the output's lock and the build's stderr (so that CI's step hangs too)."""
    build = subprocess.Popen(
        [sys.executable, "-c", BUSY], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert build.stdout is not None
    worker = int(build.stdout.readline())
    assert worker != build.pid and not ended(worker)
    build.send_signal(signal.SIGKILL)
    build.wait()
    deadline = time.monotonic() + 30
    while not ended(worker) and time.monotonic() < deadline:
        time.sleep(0.01)
    if not ended(worker):
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the worker outlived its build")
    build.communicate(timeout=30)  # nothing holds the build's pipes any more


_fork = get_context("fork")
_BUILD = os.getpid()
_others_done = _fork.Value("i", 0)  # items other than the first done, by any process


_OTHERS = workers.AHEAD  # as many as the building process may do ahead of one due


def _slow_first(item: int) -> tuple[int, int]:
    """The first item lasts until every other one is done (by another process)."""
    if item:
        with _others_done.get_lock():
            _others_done.value += 1
    else:
        deadline = time.monotonic() + 60
        while _others_done.value < _OTHERS and time.monotonic() < deadline:
            time.sleep(0.001)
    return item * item, os.getpid()


def test_no_process_waits_while_another_has_work_left() -> None:
    """Each process takes the next item nobody has taken: while one is busy
    with the long first item, the other does all the rest (given every other
    item, the worker waited for the build, and the build for the worker).
    The results still come in the order of the items, as in one process."""
    global _others_done
    _others_done = _fork.Value("i", 0)
    items = list(range(_OTHERS + 1))
    done = list(workers.each(_slow_first, items, jobs=2))
    assert [square for square, _pid in done] == [i * i for i in items]
    first, *rest = [pid for _square, pid in done]
    assert set(rest) == {rest[0]} and rest[0] != first
    assert _BUILD in {first, rest[0]}
    assert not _fork.active_children()


# A worker has taken an item. Made anew for each test: a worker killed while
# setting it (the caller stopped) could leave its lock held.
_taken = _fork.Event()


def _new_event() -> None:
    global _taken
    _taken = _fork.Event()


def _worker_first(item: int) -> None:
    """The build's first item waits until a worker has taken one."""
    if os.getpid() != _BUILD:
        _taken.set()
    elif item == 0 and not _taken.wait(timeout=60):
        raise AssertionError("no worker took an item")


def _fail_in_worker(item: int) -> int:
    _worker_first(item)
    if os.getpid() != _BUILD:
        raise ValueError(f"item {item} failed in a worker")
    return item


def test_an_error_in_a_worker_is_raised_in_the_build_at_its_item() -> None:
    _new_event()
    with pytest.raises(ValueError, match=r"item \d+ failed in a worker"):
        list(workers.each(_fail_in_worker, list(range(64)), jobs=2))
    assert not _fork.active_children()


def _die_in_worker(item: int) -> int:
    _worker_first(item)
    if os.getpid() != _BUILD:
        os._exit(3)  # killed: no result, no error sent
    return item


def test_a_worker_that_dies_stops_the_build_instead_of_hanging_it() -> None:
    _new_event()
    with pytest.raises(RuntimeError, match="ended before sending its result"):
        list(workers.each(_die_in_worker, list(range(64)), jobs=2))


def _square(item: int) -> int:
    _worker_first(item)
    return item * item


def test_a_caller_that_stops_early_ends_the_workers() -> None:
    _new_event()
    results = workers.each(_square, list(range(100)), jobs=2)
    assert next(results) == 0
    results.close()
    assert not _fork.active_children()


_done_here = _fork.Value("i", 0)  # items the building process has done


def _slow_in_worker(item: int) -> tuple[bool, int]:
    """A worker's item lasts a while, and tells how many items the building
    process did meanwhile; the building process waits for the worker to start."""
    _worker_first(item)
    if os.getpid() == _BUILD:
        with _done_here.get_lock():
            _done_here.value += 1
        return False, 0
    before = _done_here.value
    time.sleep(0.2)
    return True, _done_here.value - before


def test_the_build_holds_few_results_ahead_of_the_one_due() -> None:
    """While a worker's item is due and not back, the building process goes on
    with later items, holding their results, but only so far: a long page must
    not make it hold every other page's result."""
    global _done_here
    _done_here = _fork.Value("i", 0)
    _new_event()
    done = list(workers.each(_slow_in_worker, list(range(200)), jobs=2))
    meanwhile = [count for by_worker, count in done if by_worker]
    assert meanwhile, "the worker did an item"
    assert max(meanwhile) <= workers.AHEAD + 1  # the results held, and the one being made


def _pid_and(value: int) -> tuple[int, int]:
    return os.getpid(), value


def test_pending_work_is_done_by_another_process_meanwhile() -> None:
    pending = workers.Pending(lambda: _pid_and(7))
    pid, value = pending.result()
    assert value == 7 and pid != os.getpid()
    assert pending.result() == (pid, 7)  # asked again: the same result, no new process


def test_pending_work_that_fails_there_is_done_here_and_raises_here() -> None:
    def task() -> int:
        if os.getpid() == build:
            raise PermissionError("denied, and told by the build")
        raise OSError("lost in the other process")

    build = os.getpid()
    pending = workers.Pending(task)
    with pytest.raises(PermissionError, match="told by the build"):
        pending.result()


def test_pending_work_is_done_here_in_a_process_running_threads() -> None:
    """Forking a process that runs threads (`serve`) could copy a lock one of
    them holds: the work waits for `result` and is done in this process."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        pending = workers.Pending(lambda: _pid_and(3))
    finally:
        stop.set()
        thread.join()
    assert pending.result() == (os.getpid(), 3)


def test_pending_work_no_longer_needed_is_ended() -> None:
    """A build that fails before it needs the survey ends its process."""
    pending = workers.Pending(lambda: time.sleep(3600))
    process = pending._process
    assert process is not None and process.is_alive()
    pending.close()
    assert not process.is_alive()
