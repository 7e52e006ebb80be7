"""The preview server's own builds: each in a fresh folder, shown only when finished.

Every rebuild runs the normal pipeline into a new folder inside a temporary
folder the server owns; when it succeeds the server switches to it in one step
under a lock, so a request sees the old site or the new one, never a mix. A
folder that requests are still reading is retired only when the last of them
is done; one retired folder is then where the next rebuild starts (brought up
to date by inode, like `build`'s spare), the others are removed. A failed
rebuild keeps the last good site and records its problems, which every page
then shows. Between rebuilds the server keeps parsed drops and compiled
templates in memory (`cache.Warm`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from secrets import token_hex

from hubgen.cache import Warm
from hubgen.diagnostics import Diagnostic, Span
from hubgen.errors import ContentErrors, HubgenError
from hubgen.pipeline import Built, build
from hubgen.write import Surveyed, survey


@dataclass(frozen=True)
class State:
    """What the server shows: the last good build and the latest attempt's problems."""

    root: Path | None  # the last good build's folder; None until a build succeeds
    generation: str  # new for every attempt, good or bad: pages reload when it changes
    problems: tuple[Diagnostic, ...]  # the latest attempt's, when it failed
    next_change: datetime | None  # when the site changes next with no file changing


@dataclass(frozen=True)
class Attempt:
    """The result of one rebuild, for the terminal."""

    built: Built | None
    problems: tuple[Diagnostic, ...]


class Builds:
    def __init__(
        self,
        site: Path,
        *,
        base_url: str,
        preview: bool,
        clock: Callable[[], datetime],
    ) -> None:
        self._site, self._base_url, self._preview, self._clock = site, base_url, preview, clock
        self._home = Path(tempfile.mkdtemp(prefix="hubgen-serve-"))
        self._token = token_hex(4)  # pages served by an earlier server reload too
        self._count = 0
        self._state = State(None, f"{self._token}-0", (), None)
        self._readers: Counter[Path] = Counter()
        self._retired: set[Path] = set()
        self._cond = threading.Condition()
        self._closed = False
        self._warm = Warm()  # parsed drops and compiled templates, from one build to the next
        # A retired build no request reads, perhaps surveyed: the next one's start.
        self._spare: Path | Surveyed | None = None

    def rebuild(self) -> Attempt:
        """Build the site now; show it if it built, else keep the last good one."""
        self._count += 1
        out = self._home / f"build-{self._count}"
        with self._cond:
            spare, self._spare = self._spare, None
        shown: list[Attempt] = []
        try:
            # Pages that did not change are linked from the build on show, not rendered.
            # One process: the server's threads and forked workers do not mix.
            built = build(
                self._site,
                out,
                now=self._clock(),
                preview=self._preview,
                base_url=self._base_url,
                jobs=1,
                previous=self._state.root,
                spare=spare,
                warm=self._warm,
                record=False,
                # shown before the cache is saved: the author is waiting
                ready=lambda built: shown.append(self._finish(built, (), spare)),
            )
        except ContentErrors as exc:
            return self._finish(None, tuple(exc.diagnostics), spare)
        except (HubgenError, OSError) as exc:
            return self._finish(None, (_problem(exc, self._site),), spare)
        except Exception as exc:  # a bug in hubgen: show it, and keep the preview running
            message = f"hubgen failed unexpectedly ({exc!r}); please report this"
            return self._finish(None, (Diagnostic(Span("."), "error", "internal", message),), spare)
        return shown[0] if shown else self._finish(built, (), spare)

    def _finish(
        self, built: Built | None, problems: tuple[Diagnostic, ...], spare: Path | Surveyed | None
    ) -> Attempt:
        folder = spare.folder if isinstance(spare, Surveyed) else spare
        with self._cond:
            if folder is not None and folder.is_dir():  # the build failed: start there next time
                self._retired.add(folder)  # written to: surveyed again before it is used
            old = self._state
            root, next_change = old.root, None  # broken content: wait for the next save
            if built is not None:
                root = self._home / f"build-{self._count}"
                next_change = built.next_change
                if old.root is not None:
                    self._retired.add(old.root)
            generation = f"{self._token}-{self._count}"
            self._state = State(root, generation, problems, next_change)
            unused = self._take_unused()
            self._cond.notify_all()
        _remove(unused)
        return Attempt(built, problems)

    @contextmanager
    def current(self) -> Iterator[State]:
        """The state to answer one request from; its folder stays until the request ends."""
        with self._cond:
            state = self._state
            if state.root is not None:
                self._readers[state.root] += 1
        try:
            yield state
        finally:
            if state.root is not None:
                with self._cond:
                    self._readers[state.root] -= 1
                    unused = self._take_unused()
                _remove(unused)

    def make_spare(self, stop: Callable[[], bool] = lambda: False) -> None:
        """Make the next rebuild's starting folder while nothing happens, when no
        retired build can be it (after the first build): the build on show, copied
        by hard links. Without it, the first save after starting would wait for
        every file of the site to be linked anew (0.2 s at 1,000 drops). When
        `stop` says a rebuild is due, the copy ends where it is: a spare holding
        part of the files is brought up to date like any other. A whole spare is
        then surveyed (`write.survey`), so the rebuild need not walk it."""
        with self._cond:
            if self._closed or isinstance(self._spare, Surveyed):
                return
            spare = self._spare
        if spare is not None:
            self._survey(spare)
            return
        folder = self._home / f"spare-{self._count}"  # the next build is build-{count + 1}
        with self.current() as state:
            if state.root is None:
                return
            try:
                _link_tree(state.root, folder, stop)
            except OSError:
                _remove([folder])  # no spare: the next rebuild starts from an empty folder
                return
        with self._cond:
            taken = self._spare is None
            if taken:
                self._spare = folder
        if not taken:
            _remove([folder])
        elif not stop():  # a whole copy, and time for its survey
            self._survey(folder)

    def _survey(self, spare: Path) -> None:
        """Survey the spare folder: nothing writes to it until the rebuild that
        takes it, which runs on this thread (the one that calls `make_spare`)."""
        surveyed = survey(spare)  # None: not sound, and removed
        with self._cond:
            if self._spare == spare:
                self._spare = surveyed

    def _take_unused(self) -> list[Path]:
        """Retired builds no request reads: one is kept for the next build to
        bring up to date (most of its files are the current build's, by hard
        link), the others are for removal."""
        unused = [p for p in self._retired if self._readers[p] <= 0]
        for p in unused:
            self._retired.discard(p)
            del self._readers[p]
        if self._spare is None and unused:
            self._spare = unused.pop()
        return unused

    def wait_change(self, seen: str | None, timeout: float) -> State | None:
        """The state once its generation is not `seen` (or after `timeout`); None once closed."""
        with self._cond:
            self._cond.wait_for(
                lambda: self._closed or self._state.generation != seen, timeout=timeout
            )
            return None if self._closed else self._state

    def seconds_to_next_change(self) -> float | None:
        """How long until the site changes by itself (a drop going live), plus a second."""
        at = self._state.next_change
        if at is None:
            return None
        return max(0.0, (at - self._clock()) / timedelta(seconds=1)) + 1.0

    def close(self) -> None:
        """Wake everything waiting for a change, for good."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def remove(self) -> None:
        """Delete every build folder (once no request can read them)."""
        shutil.rmtree(self._home, ignore_errors=True)


def summary(built: Built) -> str:
    """One line for the terminal about a successful build."""
    return f"built {built.files} files: {built.summary}"


def _problem(exc: HubgenError | OSError, site: Path) -> Diagnostic:
    """A failure that is not a content error, as a diagnostic the page can show."""
    if isinstance(exc, OSError):
        path = _relative(str(exc.filename), site) if exc.filename else "."
        return Diagnostic(Span(path), "error", "io", exc.strerror or str(exc))
    return Diagnostic(Span("."), "error", "build", str(exc))


def _relative(filename: str, site: Path) -> str:
    path = Path(filename).resolve()
    try:
        return path.relative_to(site.resolve()).as_posix()
    except ValueError:
        return str(path)


def _link_tree(source: Path, target: Path, stop: Callable[[], bool]) -> None:
    """`target`: the plain files and folders of `source`, as hard links (copies
    where links cannot be made), or as many as were made before `stop` said
    so. Builds never write into a file in place, so the two folders cannot
    change each other."""
    target.mkdir()
    with os.scandir(source) as entries:
        for entry in entries:
            if stop():
                return
            if entry.is_dir(follow_symlinks=False):
                _link_tree(Path(entry.path), target / entry.name, stop)
            elif entry.is_file(follow_symlinks=False):
                try:
                    os.link(entry.path, target / entry.name)
                except OSError:
                    shutil.copy2(entry.path, target / entry.name)


def _remove(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
