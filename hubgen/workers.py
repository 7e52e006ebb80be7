"""Work spread over processes: Markdown and templates are CPU-bound pure Python.

Workers are forked, so they start with a copy of the parent's memory: the site,
its themes and its views are never pickled. Every process takes the number of
the next item nobody has taken from memory they share, and only small results
come back. This process works too, so `jobs` processes run with
`jobs - 1` forked workers: one copy fewer of memory that the work touches.
Where fork is not available or not safe (Windows, macOS), with one job, or with
too little work to share, everything runs in this process. Results are the
same, in the same order, either way.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

from hubgen import collector

T = TypeVar("T")
R = TypeVar("R")

# Fewer items than this per worker are not worth a process.
MIN_PER_WORKER = 16
# Results this process holds, at most, while the one due is still in a worker
# (a long page, a huge drop): it waits for it rather than do more meanwhile.
AHEAD = 64


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
    Nothing else may run over workers until the last result is taken.

    Each process takes the next item that no process has taken yet, so none
    waits while another has work left: given every other item, this process
    (which also stores what the workers send) finished far behind its worker.
    """
    workers = min(jobs, len(items) // MIN_PER_WORKER)
    if workers < 2 or not can_fork():
        yield from (task(item) for item in items)
        return
    collector.settle()  # no collection in a worker writes to the pages it shares with us
    context = multiprocessing.get_context("fork")
    queue = _Queue(items, context)
    forked: list[tuple[BaseProcess, Connection]] = []
    finished = False
    try:
        for _ in range(workers - 1):
            forked.append(_fork(_work, task, queue))
        yield from _gather(task, queue, [conn for _process, conn in forked])
        finished = True
    finally:
        for process, conn in forked:
            if not finished:
                process.kill()  # the caller stopped early, or a task failed
            process.join()
            conn.close()


class _Queue:
    """The items, and the number of the next one no process has taken, in memory
    shared by the forked workers: items never go through a pipe, results do."""

    def __init__(self, items: Sequence[Any], context: BaseContext) -> None:
        self.items = items
        self._next = context.RawValue("q", 0)
        self._lock = context.Lock()

    def take(self) -> int | None:
        """The number of the next item to do, now taken; None when none is left."""
        with self._lock:
            i = self._next.value
            if i >= len(self.items):
                return None
            self._next.value = i + 1
        return i


def _gather(task: Callable[[Any], Any], queue: _Queue, conns: list[Connection]) -> Iterator[Any]:
    """Each item's result in order: the workers' as they send them, this
    process doing the next item itself whenever the one due is not back yet."""
    done: dict[int, tuple[bool, Any]] = {}  # item number -> (succeeded, result or error)
    pipes = _Pipes(conns)
    for due in range(len(queue.items)):
        while due not in done:
            pipes.receive(done, block=False)
            if due in done:
                break
            # Not too far ahead: results wait here until theirs is due.
            mine = queue.take() if len(done) < AHEAD else None
            if mine is not None:
                done[mine] = _attempt(task, queue.items[mine])
            elif pipes:
                pipes.receive(done, block=True)
            else:
                raise RuntimeError("a worker process ended before sending its result")
        succeeded, result = done.pop(due)
        if not succeeded:
            raise result
        yield result


class _Pipes:
    """The workers' ends of their pipes that are still open, polled by one
    `select.poll` made once: `multiprocessing.connection.wait` makes a selector
    each time it is asked (3.7 us a look here, against 0.3 us), and this
    process looks once per item or more: 0.07 s of a cold build at 10,000
    drops, in the process that also stores every result."""

    def __init__(self, conns: list[Connection]) -> None:
        self._by_fd = {conn.fileno(): conn for conn in conns}
        self._poll = select.poll()
        for fd in self._by_fd:
            self._poll.register(fd, select.POLLIN)

    def __bool__(self) -> bool:
        return bool(self._by_fd)

    def receive(self, done: dict[int, tuple[bool, Any]], *, block: bool) -> None:
        """Take in the results sent; with `block`, when none has been, wait
        until one comes or a worker ends (only while a pipe is open)."""
        for fd, _events in self._poll.poll(None if block else 0):
            conn = self._by_fd[fd]
            try:
                i, succeeded, result = conn.recv()
            except EOFError:  # the worker ended: it had nothing left to do, or it died
                self._poll.unregister(fd)
                del self._by_fd[fd]
                continue
            done[i] = (succeeded, result)


def _attempt(task: Callable[[Any], Any], item: Any) -> tuple[bool, Any]:
    try:
        return True, task(item)
    except Exception as exc:  # raised in order, when its item is due
        return False, exc


def _fork(body: Callable[..., None], *args: Any) -> tuple[BaseProcess, Connection]:
    """A forked process running `body(conn, *args)`, and this end of `conn`,
    the pipe it sends its results through."""
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe(duplex=False)
    process = context.Process(target=_forked, args=(body, theirs, os.getpid(), *args))
    process.start()
    theirs.close()
    return process, ours


def _forked(body: Callable[..., None], conn: Connection, parent: int, *args: Any) -> None:
    _die_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle: it ends us
    with conn:
        body(conn, *args)


def _work(conn: Connection, task: Callable[[Any], Any], queue: _Queue) -> None:
    """A forked worker: does the next item nobody has taken till none is left,
    sending each result with its item's number."""
    while (i := queue.take()) is not None:
        succeeded, result = _attempt(task, queue.items[i])
        try:
            conn.send((i, succeeded, result))
        except Exception as exc:  # a result or an error that cannot be pickled
            conn.send((i, False, RuntimeError(f"{type(exc).__name__}: {exc}")))


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


class Pending(Generic[R]):
    """`task()`, worked out by a forked process while this one gets on with
    other work (`result` waits for it). Where fork is not available or not
    safe (here: a process running threads, such as `serve`), or the process
    fails, `task` runs here instead, when its result is first asked for: the
    same result either way."""

    def __init__(self, task: Callable[[], R], *, fork: bool = True) -> None:
        """Without `fork`, `task` is left to run here (when it is next to nothing)."""
        self._task = task
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._done: tuple[R] | None = None
        if fork and can_fork() and threading.active_count() == 1:
            self._process, self._conn = _fork(_alone, task)

    def result(self) -> R:
        if self._done is None:
            sent: tuple[bool, R | None] = (False, None)
            if self._conn is not None:
                try:
                    sent = self._conn.recv()
                except (EOFError, OSError):  # it died: do it here
                    pass
                self.close()
            self._done = (sent[1] if sent[0] else self._task(),)  # type: ignore[assignment]
        return self._done[0]

    def close(self) -> None:
        """End the process (done, or no longer needed)."""
        if self._process is not None:
            if self._done is None and self._process.is_alive():
                self._process.terminate()
            self._process.join()
            self._process = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _alone(conn: Connection, task: Callable[[], Any]) -> None:
    """A forked process doing one task: sends (True, its result), or (False,
    None) if it failed (the build then does it, to raise the error itself)."""
    try:
        conn.send((True, task()))
    except Exception:
        conn.send((False, None))
