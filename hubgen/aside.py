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
imports; those of the side that starts it are made there). It writes each
batch's findings to a file as it goes, so the build never waits for it: when
the findings are due, the build ends it, reads what it wrote, and reviews the
rest itself.
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
_BATCH = 100  # drops handed over, and their findings written, in one pickle
_NOTHING: Rows = []  # one object for the findings of every drop with none

# What the new interpreter runs: it finds hubgen where this process did.
# Started with no `preexec_fn`, which would make Python fork this large process
# rather than start the new one at once (13 ms against 0.4 ms in a cold build
# at 10,000 drops): it lowers its own priority first thing.
_BOOT = (
    "import pickle, sys\n"
    "sys.path[:] = pickle.load(sys.stdin.buffer)\n"
    "from hubgen.aside import _serve\n"
    "_serve(sys.stdin.buffer, sys.stdout.buffer)\n"
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


def review_drops(
    root: Path, items: list[Item], sensitive: tuple[str, ...], jobs: int
) -> list[Rows | None]:
    """Each drop's findings (see `review_drop`), in order, over `jobs` processes."""
    from hubgen import workers  # not in the process beside the build

    rules = safe_messaging()
    return workers.run(
        lambda i: review_drop(root, items[i], rules, sensitive), range(len(items)), jobs=jobs
    )


class Aside:
    """The drops' review, begun in a process of its own (`start`) and finished
    by this one (`finish`)."""

    def __init__(
        self,
        given: IO[bytes],
        batches: list[int],
        count: int,
        process: subprocess.Popen[bytes],
        found: IO[bytes],
    ) -> None:
        self._given, self._batches, self._count = given, batches, count  # batches: where each is
        self._process: subprocess.Popen[bytes] | None = process
        self._found = found  # what the process writes

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
        # Handed over in files, not pipes: this process never waits for one
        # that runs only when a CPU is idle.
        given, found = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        batches = []
        try:
            pickle.dump(sys.path, given, pickle.HIGHEST_PROTOCOL)
            pickle.dump((root, sensitive, len(items)), given, pickle.HIGHEST_PROTOCOL)
            for at in range(0, len(items), _BATCH):
                batches.append(given.tell())
                pickle.dump(items[at : at + _BATCH], given, pickle.HIGHEST_PROTOCOL)
            given.seek(0)
            process = subprocess.Popen(
                [sys.executable, "-c", _BOOT],
                stdin=given,
                stdout=found,
                stderr=subprocess.DEVNULL,  # what fails there is done here, and told here
            )
        except OSError:  # no room for the file, no process to be had: reviewed here
            given.close()
            found.close()
            return None
        return cls(given, batches, len(items), process, found)

    def finish(self, jobs: int) -> list[Rows | None]:
        """Each drop's findings (None: its file changed), in order: those the
        process wrote, and the rest reviewed here, over `jobs` processes."""
        done = self._written()
        with self._given as given:  # the process has ended: the file is ours alone
            given.seek(0)
            pickle.load(given)  # the search path
            root, sensitive, _count = pickle.load(given)
            rest: list[Item] = []
            for batch in self._batches[len(done) // _BATCH :]:
                given.seek(batch)
                rest += pickle.load(given)
            rest = rest[len(done) % _BATCH :]  # the last batch, when all are done
        return done + review_drops(root, rest, sensitive, jobs)

    def _written(self) -> list[Rows | None]:
        """The findings of the batches the process wrote whole, once it has
        ended: ended now, however far it got (at once, however busy the
        machine: a process that runs on idle CPU only could take minutes to
        answer a question)."""
        self._end()
        done: list[Rows | None] = []
        with self._found as found:
            found.seek(0)
            while len(done) < self._count:
                try:
                    batch = pickle.load(found)
                except Exception:  # the end, or a batch cut short
                    break
                if not isinstance(batch, list) or len(batch) != min(
                    _BATCH, self._count - len(done)
                ):
                    break
                done += batch
        return done

    def close(self) -> None:
        """End the process, if it still runs (the build stopped early), and let go of its files."""
        self._end()
        self._given.close()
        self._found.close()

    def _end(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()


def _can_start() -> bool:
    """Linux (for SCHED_IDLE), and an interpreter to start (not so when embedded)."""
    return sys.platform.startswith("linux") and hasattr(os, "SCHED_IDLE") and bool(sys.executable)


def _serve(given: BinaryIO, found: BinaryIO) -> None:
    """In the process beside the build: review the drops in order, on idle
    CPU only, writing each batch's findings as it is done, until all are (or
    the build ends this process)."""
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle
    root, sensitive, count = pickle.load(given)
    rules = safe_messaging()
    for _batch in range(-(-count // _BATCH)):
        rows = [review_drop(root, item, rules, sensitive) for item in pickle.load(given)]
        rows = [_NOTHING if r == [] else r for r in rows]
        found.write(pickle.dumps(rows, pickle.HIGHEST_PROTOCOL))  # in one write
        found.flush()
