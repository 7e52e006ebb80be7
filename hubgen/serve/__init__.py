"""`hubgen serve`: a live preview that rebuilds on save and reloads the browser.

Four parts, each in its module: `builds` runs the normal pipeline into a
folder the server owns and swaps finished builds in; `watch` turns file events
into one rebuild per burst of saves; `server` answers HTTP from the current
build; `reload` adds the live-reload script and the problems overlay to HTML
responses. `serve` starts them, prints the address, and stops them all on
Ctrl-C.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import FrameType

from hubgen.diagnostics import format_text
from hubgen.errors import UsageError
from hubgen.serve.builds import Attempt, Builds, summary
from hubgen.serve.server import PreviewServer, is_loopback
from hubgen.serve.watch import Debouncer, Watcher


def serve(
    site: Path,
    *,
    host: str,
    port: int,
    preview: bool,
    clock: Callable[[], datetime],
    follow_clock: bool,
) -> int:
    """Serve `site` until interrupted; `follow_clock` rebuilds when a drop's time comes."""
    try:
        server = PreviewServer(host, port)
    except OSError as exc:
        raise UsageError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    if not is_loopback(host):
        _say(
            f"hubgen: warning: listening on {host}, not only on this computer: anyone who "
            "can reach it sees this preview, drafts and scheduled drops included",
            err=True,
        )
    builds = Builds(site, base_url=server.url, preview=preview, clock=clock)
    server.builds = builds
    debouncer = Debouncer()
    watcher = Watcher(site, debouncer.poke)
    threads = [
        threading.Thread(target=server.serve_forever, name="hubgen-http"),
        threading.Thread(
            target=rebuild_when_needed,
            args=(site, builds, debouncer, follow_clock),
            name="hubgen-rebuild",
        ),
    ]
    try:
        with _sigterm_as_interrupt():
            with _main_thread_takes_signals():
                watcher.start()
            _report(builds.rebuild())
            with _main_thread_takes_signals():
                for thread in threads:
                    thread.start()
            look = "preview: drafts and scheduled drops labelled" if preview else "as published"
            _say(f"serving {site} at {server.url} ({look}); press Ctrl-C to stop")
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        with _interrupts_ignored():
            _stop(server, builds, debouncer, watcher, threads)
    _say("stopped")
    return 0


def rebuild_when_needed(
    site: Path, builds: Builds, debouncer: Debouncer, follow_clock: bool
) -> None:
    """Rebuild after each burst of changes and, following the clock, when a drop's time comes.

    Runs until `debouncer` is stopped.
    """
    while True:
        builds.make_spare(stop=debouncer.pending)
        wait = builds.seconds_to_next_change() if follow_clock else None
        changed = debouncer.take(timeout=wait)
        if debouncer.stopped:
            return
        why = _changed(changed, site) if changed else "a scheduled change is due: "
        _report(builds.rebuild(), why)


def _report(attempt: Attempt, why: str = "") -> None:
    if attempt.built is not None:
        if attempt.built.diagnostics:
            _say(format_text(attempt.built.diagnostics), err=True, end="")
        _say(f"{why}{summary(attempt.built)}")
        return
    _say(format_text(list(attempt.problems)), err=True, end="")
    _say(f"{why}build failed: still serving the last good build, with the problems on every page")


def _changed(paths: tuple[str, ...], site: Path) -> str:
    """Names the change, a file still there first (not an editor's temp file, now gone)."""
    shown = sorted(paths, key=lambda p: not (site / p).exists())[0]
    more = f" and {len(paths) - 1} more" if len(paths) > 1 else ""
    return f"{shown}{more} changed: "


def _stop(
    server: PreviewServer,
    builds: Builds,
    debouncer: Debouncer,
    watcher: Watcher,
    threads: list[threading.Thread],
) -> None:
    """Stop every thread and wait for it, then delete the server's builds."""
    debouncer.stop()
    builds.close()  # ends the event streams
    if threads[0].is_alive():
        server.shutdown()
    server.close_connections()
    server.server_close()  # joins the request threads
    watcher.stop()
    for thread in threads:
        if thread.is_alive():
            thread.join()
    builds.remove()


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Stop as cleanly on SIGTERM (a service manager, a test) as on Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


@contextmanager
def _main_thread_takes_signals() -> Iterator[None]:
    """Threads started here block SIGINT and SIGTERM (threads inherit the mask).

    The kernel gives a process's signal to any thread not blocking it; only when
    that is the main thread does its wait end at once with KeyboardInterrupt.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """A second Ctrl-C while stopping must not cut the stop short with a traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _say(text: str, *, err: bool = False, end: str = "\n") -> None:
    print(text, end=end, file=sys.stderr if err else sys.stdout, flush=True)
