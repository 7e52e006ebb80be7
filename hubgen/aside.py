"""The safe-messaging review of the drops a build parsed, on CPU it leaves idle.

A cold build parses every drop over all CPUs, then goes on in this process
alone for a while (resolving, publishing, writing the feeds), renders the
pages over all CPUs with stretches in this process alone between chunks of
them, and ends alone (the link check, the cache's save): at 10,000 drops,
about 2.3 CPU-seconds left idle. Reviewing each drop's text took about as
much (232 us a drop), and it was done as each drop was parsed, which
everything else waited for. Nothing reads what the review finds until the
build's end. So a process that runs only when a CPU has nothing else to do
(Linux's SCHED_IDLE) reviews the drops while the build goes on, each from
its file read again and where its parse found the parts to review
(`textreview.Marks`); what it has not done when the findings are needed is
done then, over all CPUs. The findings are the same either way.

The process is a new interpreter, not a fork of the building process: a fork
came to hold 35-40 MB (the pages it shared with the build, kept as the build
wrote its own copies), past the memory a large build may take. A new one
holds the rules and little else: the drops are handed over in a file, which
it reads a batch at a time, and which this process reads again for those it
did not review. It imports only what the review needs (this module's own
imports; those of the side that starts it are made there).
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

from hubgen.cache import file_hash
from hubgen.load import file_text
from hubgen.ruleset import RuleSet, safe_messaging
from hubgen.textreview import Item, Rows, review_file

if TYPE_CHECKING:
    import subprocess

# Fewer drops than this are reviewed where their findings are needed: a
# process costs more to start than they take.
MIN_DROPS = 200
_BATCH = 100  # drops handed over in one pickle: read, and let go, together
_NOTHING: Rows = []  # one object for the findings of every drop with none

# What the new interpreter runs: it finds hubgen where this process did.
# Started with no `preexec_fn`, which would make Python fork this large process
# rather than start the new one at once (13 ms against 0.4 ms in a cold build
# at 10,000 drops): it lowers its own priority first thing.
_BOOT = (
    "import pickle, sys\n"
    "sys.path[:] = pickle.load(sys.stdin.buffer)\n"
    "from hubgen.aside import _serve\n"
    "_serve(sys.stdin.buffer, sys.stdout.buffer, int(sys.argv[1]))\n"
)


def worth(drops: int, jobs: int) -> bool:
    """Whether reviewing this many drops beside the build can be done and is
    worth a process of its own."""
    return drops >= MIN_DROPS and jobs >= 2 and _can_start()


def review_drop(root: Path, item: Item, rules: RuleSet, sensitive: tuple[str, ...]) -> Rows | None:
    """A drop's findings, from its file read again; None when the file no
    longer holds the bytes that were parsed (it changed meanwhile)."""
    subject, marks = item
    try:
        data = (root / subject.path).read_bytes()
    except OSError:
        return None
    if file_hash(data) != subject.source:
        return None
    return review_file(subject, file_text(data), marks, rules, sensitive)


class Aside:
    """The drops' review, begun in a process of its own (`start`) and finished
    by this one (`finish`)."""

    def __init__(
        self,
        given: IO[bytes],
        batches: list[int],
        count: int,
        process: subprocess.Popen[bytes],
        ask: int,
    ) -> None:
        self._given, self._batches, self._count = given, batches, count  # batches: where each is
        self._process: subprocess.Popen[bytes] | None = process
        self._ask = ask  # the pipe the process is told to stop by

    @classmethod
    def start(
        cls, root: Path, sensitive: tuple[str, ...], items: list[Item], jobs: int
    ) -> Aside | None:
        """The review of `items` begun beside the build; None where it cannot
        be (not Linux, one job) or is not worth a process."""
        import subprocess
        import tempfile

        if not worth(len(items), jobs):
            return None
        # Handed over in a file, not a pipe: this process never waits for one
        # that runs only when a CPU is idle.
        given = tempfile.TemporaryFile()
        batches = []
        try:
            pickle.dump(sys.path, given, pickle.HIGHEST_PROTOCOL)
            pickle.dump((root, sensitive, len(items)), given, pickle.HIGHEST_PROTOCOL)
            for at in range(0, len(items), _BATCH):
                batches.append(given.tell())
                pickle.dump(items[at : at + _BATCH], given, pickle.HIGHEST_PROTOCOL)
            given.seek(0)
            asked, ask = os.pipe()  # closed by this process: stop (see `_serve`)
        except OSError:  # no room for the file: reviewed here
            given.close()
            return None
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", _BOOT, str(asked)],
                stdin=given,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # what fails there is done here, and told here
                pass_fds=(asked,),
            )
        except OSError:  # no process to be had: reviewed here
            given.close()
            os.close(ask)
            return None
        finally:
            os.close(asked)
        return cls(given, batches, len(items), process, ask)

    def finish(self, jobs: int) -> list[Rows | None]:
        """Each drop's findings (None: its file changed), in order: the process
        is stopped after the drop it is reviewing, and the rest are reviewed
        here, over `jobs` processes."""
        from hubgen import workers  # not in the process beside the build

        done = self._stop()
        with self._given as given:  # the process has ended: the file is ours alone
            given.seek(0)
            pickle.load(given)  # the search path
            root, sensitive, _count = pickle.load(given)
            rest: list[Item] = []
            for batch in range(len(done) // _BATCH, len(self._batches)):
                given.seek(self._batches[batch])
                rest += pickle.load(given)
            rest = rest[len(done) % _BATCH :]
        rules = safe_messaging()
        return done + workers.run(
            lambda i: review_drop(root, rest[i], rules, sensitive), range(len(rest)), jobs=jobs
        )

    def _stop(self) -> list[Rows | None]:
        """What the process reviewed, once it has stopped (none if it failed)."""
        process, self._process = self._process, None
        if process is None:
            return []
        assert process.stdout is not None
        os.close(self._ask)
        try:
            done = pickle.loads(process.stdout.read())
        except Exception:  # it died, or sent what cannot be read: all is done here
            done = []
        finally:
            process.stdout.close()
            process.wait()
        if not isinstance(done, list) or len(done) > self._count:
            return []
        return done

    def close(self) -> None:
        """End the process, if it still runs (the build stopped early)."""
        process, self._process = self._process, None
        if process is not None:
            os.close(self._ask)
            process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()
        self._given.close()


def _can_start() -> bool:
    """Linux (for SCHED_IDLE), and an interpreter to start (not so when embedded)."""
    return sys.platform.startswith("linux") and hasattr(os, "SCHED_IDLE") and bool(sys.executable)


def _serve(given: BinaryIO, results: BinaryIO, asked: int) -> None:
    """In the process beside the build: review the drops in order, on idle
    CPU only, until the pipe `asked` is closed (by the build asking for the
    findings, or ending), then send the findings of those done."""
    import select

    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle
    root, sensitive, count = pickle.load(given)
    rules = safe_messaging()
    done: list[Rows | None] = []
    stop = False
    while len(done) < count and not stop:
        for item in pickle.load(given):  # a batch at a time
            stop = bool(select.select([asked], [], [], 0)[0])  # closed: readable, at its end
            if stop:
                break
            found = review_drop(root, item, rules, sensitive)
            done.append(_NOTHING if found == [] else found)
    results.write(pickle.dumps(done, pickle.HIGHEST_PROTOCOL))
    results.flush()
