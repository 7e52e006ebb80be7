"""Which file events mean "rebuild", and how a burst of them becomes one rebuild.

`classify` is a pure function of one watchdog event, so the rules are
table-tested without touching the disk. `Debouncer` gathers events until the
files have been quiet for a moment (an editor's temp-file-then-rename, a
`git checkout` of fifty files: one rebuild), a shorter one when every changed
file is known to be saved whole (closed by its writer, or moved into place).
`Watcher` wires watchdog's observer to both.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Literal

from watchdog.events import (
    EVENT_TYPE_ATTRIB,
    EVENT_TYPE_CLOSED,
    EVENT_TYPE_CREATED,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from hubgen.write import SOURCE_NAMES

# "saved": the file is whole (its writer closed it, or it was moved into
# place); "rebuild": changed, and more may follow (a write goes on, a file
# renamed away is replaced).
Action = Literal["saved", "rebuild", "ignore"]

SOURCE_DIRS = tuple(name for name in SOURCE_NAMES if "." not in name)

# Files editors and tools write beside the real ones and delete again.
_TEMP_SUFFIXES = (
    "~",
    ".swp",
    ".swo",
    ".swx",
    ".swpx",
    ".tmp",
    ".part",
    ".crswap",
    ".kate-swp",
    "___jb_tmp___",
    "___jb_old___",
)
_TEMP_PREFIXES = (".#", ".goutputstream-", ".~lock.")
_TEMP_NAMES = frozenset({"4913", ".DS_Store", "Thumbs.db"})
# Reading a file (as every build does) must never trigger a build, so only
# events that change something count; `touch` (attrib) does, to force a rebuild.
_CHANGES = frozenset(
    {
        EVENT_TYPE_ATTRIB,
        EVENT_TYPE_CREATED,
        EVENT_TYPE_DELETED,
        EVENT_TYPE_MODIFIED,
        EVENT_TYPE_MOVED,
    }
)

# The only events asked of the system: those `classify` can count. Unfiltered,
# watchdog also reports every file a build opens and closes, hundreds per
# rebuild, each handled in Python beside the build (0.1 s of a rebuild at
# 1,000 drops). A file closed after writing is not among those: builds write
# no source file.
_WATCHED = [
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileAttribEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]


def classify(event: FileSystemEvent, site: PurePath) -> Action:
    """Rebuild for a change to a source file of the site at `site`; ignore the rest."""
    if event.event_type == EVENT_TYPE_CLOSED and not event.is_directory:
        return "saved" if is_source(_text(event.src_path), site) else "ignore"
    if event.event_type not in _CHANGES:
        return "ignore"
    if event.is_directory and event.event_type in (EVENT_TYPE_MODIFIED, EVENT_TYPE_ATTRIB):
        return "ignore"  # the change inside it has an event of its own
    if event.dest_path and not event.is_directory and is_source(_text(event.dest_path), site):
        return "saved"  # moved into place whole: an editor's save by rename
    paths = [event.src_path, event.dest_path] if event.dest_path else [event.src_path]
    return "rebuild" if any(is_source(_text(p), site) for p in paths) else "ignore"


def is_source(path: str, site: PurePath) -> bool:
    """Whether `path` is site.yaml or in campaigns/, content/ or themes/, and not a temp file."""
    try:
        parts = PurePath(path).relative_to(site).parts
    except ValueError:
        return False
    if not parts or parts[0] not in SOURCE_NAMES or ".git" in parts:
        return False
    return not _is_temp(parts[-1])


def _is_temp(name: str) -> bool:
    return (
        name in _TEMP_NAMES
        or name.endswith(_TEMP_SUFFIXES)
        or name.startswith(_TEMP_PREFIXES)
        or (name.startswith("#") and name.endswith("#"))
    )


def _text(path: str | bytes) -> str:
    return path.decode("utf-8", "surrogateescape") if isinstance(path, bytes) else path


class Debouncer:
    """Collects changed paths; hands them out as one batch once the burst is over.

    A batch is due when nothing has changed for `quiet` seconds, or only
    `brief` seconds when the last event of every path in it said the file was
    saved whole, or `longest` seconds after its first change (so a file
    rewritten non-stop still shows). `clock` is injectable so tests decide
    when time passes. A twentieth of a second is ample for an editor's save
    (its events come within milliseconds); the author waits on every save
    before the rebuild starts, so a save known to be whole waits less. The
    brief wait still gathers a burst of whole files (a `git checkout`).
    """

    def __init__(
        self,
        *,
        quiet: float = 0.05,
        brief: float = 0.01,
        longest: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._quiet, self._brief, self._longest = quiet, brief, longest
        self._clock = clock
        self._cond = threading.Condition()
        self._paths: dict[str, bool] = {}  # path -> saved whole; in the order first changed
        self._first = self._last = 0.0
        self._stopped = False

    def poke(self, path: str, saved: bool = False) -> None:
        """`path` changed; `saved`: the event says it is whole (see `classify`)."""
        with self._cond:
            now = self._clock()
            if not self._paths:
                self._first = now
            self._paths[path] = saved
            self._last = now
            self._cond.notify_all()

    def due_in(self, now: float) -> float | None:
        """Seconds until the pending batch is due (0: now), or None when nothing is pending."""
        if not self._paths:
            return None
        quiet = self._brief if all(self._paths.values()) else self._quiet
        due = min(self._last + quiet, self._first + self._longest)
        return max(0.0, due - now)

    def take(self, timeout: float | None = None) -> tuple[str, ...] | None:
        """Wait for a finished burst and return its paths; None on timeout or stop."""
        with self._cond:
            deadline = None if timeout is None else self._clock() + timeout
            while not self._stopped:
                now = self._clock()
                due = self.due_in(now)
                if due == 0:
                    batch = tuple(self._paths)
                    self._paths.clear()
                    return batch
                left = None if deadline is None else deadline - now
                if left is not None and left <= 0:
                    return None
                self._cond.wait(_least(due, left))
            return None

    def pending(self) -> bool:
        """Whether a change is waiting to be taken (or the debouncer is stopped)."""
        return bool(self._paths) or self._stopped

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    @property
    def stopped(self) -> bool:
        return self._stopped


def _least(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return b if a is None else a
    return min(a, b)


class Watcher(FileSystemEventHandler):
    """Watches a site's sources and reports each changed path, relative to the site.

    The site folder itself is watched without recursion (for site.yaml and for
    campaigns/, content/ and themes/ appearing), each source folder with it;
    so the output folder and .git are never watched at all.
    """

    def __init__(self, site: Path, on_change: Callable[[str, bool], None]) -> None:
        """`on_change(path, saved)`: see `Debouncer.poke`."""
        self._site = site.resolve()
        self._on_change = on_change
        self._observer: BaseObserver = Observer()
        self._watches: dict[str, ObservedWatch] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        # watchdog's recursive inotify watch warns when `mkdir -p` makes it add a subfolder
        # twice; it carries on correctly, and authors should not see the noise.
        warnings.filterwarnings(
            "ignore", "Callback with id .* already exists", RuntimeWarning, "watchdog"
        )
        self._observer.schedule(self, str(self._site), recursive=False, event_filter=_WATCHED)
        for name in SOURCE_DIRS:
            self._watch_folder(name)
        self._observer.start()

    def stop(self) -> None:
        self._observer.stop()
        if self._observer.is_alive():
            self._observer.join()

    def on_any_event(self, event: FileSystemEvent) -> None:
        action = classify(event, self._site)
        if action == "ignore":
            return
        for path in (event.src_path, event.dest_path):
            name = self._source_folder(_text(path)) if path else None
            if name and event.event_type != EVENT_TYPE_DELETED:
                self._watch_folder(name)  # a source folder (re)appeared
        changed = PurePath(_text(event.dest_path or event.src_path))
        self._on_change(changed.relative_to(self._site).as_posix(), action == "saved")

    def _source_folder(self, path: str) -> str | None:
        p = PurePath(path)
        return p.name if p.parent == self._site and p.name in SOURCE_DIRS else None

    def _watch_folder(self, name: str) -> None:
        folder = self._site / name
        with self._lock:
            old = self._watches.pop(name, None)
            if old is not None:
                self._observer.unschedule(old)
            if folder.is_dir():
                self._watches[name] = self._observer.schedule(
                    self, str(folder), recursive=True, event_filter=_WATCHED
                )
