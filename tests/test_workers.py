"""A build's worker processes end with it, however it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hubgen import workers

pytestmark = pytest.mark.skipif(
    not (workers.can_fork() and Path("/proc/self/status").is_file()),
    reason="forked workers, seen through /proc (Linux)",
)

# A "build" whose worker is busy for an hour with its first item; it prints the
# worker's pid, then waits for its own results (and is killed meanwhile).
BUSY = """
import os, sys, time
from hubgen import workers

def task(item):
    if item == 1:
        print(os.getpid(), flush=True)
        time.sleep(3600)
    return item

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
