"""hubgen serve's watcher: which events rebuild, and one rebuild per burst of saves."""

from __future__ import annotations

import os
import queue
import shutil
import threading
import time
from pathlib import Path, PurePath

import pytest
from conftest import FIXTURES
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirModifiedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileClosedNoWriteEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileOpenedEvent,
    FileSystemEvent,
)

from hubgen.pipeline import check
from hubgen.serve.watch import Debouncer, Watcher, classify
from hubgen.timeparse import parse_now

SITE = PurePath("/s")
DROP = "/s/content/drops/may/2023-05-04-a.md"

CLASSIFIED: list[tuple[FileSystemEvent, str]] = [
    # every source counts, media and static files included
    (FileModifiedEvent(DROP), "rebuild"),
    (FileModifiedEvent("/s/site.yaml"), "rebuild"),
    (FileDeletedEvent("/s/campaigns/may.yaml"), "rebuild"),
    (FileCreatedEvent("/s/content/media/hero.png"), "rebuild"),
    (FileCreatedEvent("/s/content/static/.well-known/security.txt"), "rebuild"),
    (FileModifiedEvent("/s/themes/default/static/style.css"), "rebuild"),
    (FileModifiedEvent(b"/s/content/pages/about.md"), "rebuild"),
    (FileAttribEvent(DROP), "rebuild"),  # touch
    (DirCreatedEvent("/s/content"), "rebuild"),
    (DirDeletedEvent("/s/content/drops/june"), "rebuild"),
    # an editor's save: temp file renamed over the real one (whole), or the
    # file written and closed (whole); a file renamed away (replaced next)
    (FileMovedEvent(DROP + ".tmp", DROP), "saved"),
    (FileMovedEvent("/s/.site.yaml.swp", "/s/site.yaml"), "saved"),
    (FileClosedEvent(DROP), "saved"),
    (FileMovedEvent(DROP, "/s/content/drops/may/a.md~"), "rebuild"),
    (DirMovedEvent("/s/content/drops/may", "/s/content/drops/june"), "rebuild"),
    # reading a file, as every build does, is not a change
    (FileOpenedEvent(DROP), "ignore"),
    (FileClosedNoWriteEvent(DROP), "ignore"),
    (DirModifiedEvent("/s/content/drops/may"), "ignore"),
    # the output folder, version control, everything outside the sources
    (FileModifiedEvent("/s/public/index.html"), "ignore"),
    (FileCreatedEvent("/s/public/may/index.html"), "ignore"),
    (FileModifiedEvent("/s/.hubgen-cache/cache.sqlite"), "ignore"),  # each build writes it
    (FileCreatedEvent("/s/.hubgen-cache/cache.sqlite-journal"), "ignore"),
    (FileModifiedEvent("/s/.git/index"), "ignore"),
    (FileModifiedEvent("/s/content/.git/HEAD"), "ignore"),
    (FileModifiedEvent("/s/README.md"), "ignore"),
    (FileModifiedEvent("/s/site.yaml.swp"), "ignore"),
    (FileModifiedEvent("/elsewhere/content/drops/may/a.md"), "ignore"),
    # editors' temp, backup and lock files
    (FileCreatedEvent("/s/content/drops/may/.2023-05-04-a.md.swp"), "ignore"),
    (FileCreatedEvent("/s/content/drops/may/2023-05-04-a.md~"), "ignore"),
    (FileCreatedEvent("/s/content/drops/may/4913"), "ignore"),
    (FileCreatedEvent("/s/content/drops/may/.#2023-05-04-a.md"), "ignore"),
    (FileCreatedEvent("/s/content/drops/may/#2023-05-04-a.md#"), "ignore"),
    (FileCreatedEvent("/s/content/drops/may/a.md___jb_tmp___"), "ignore"),
    (FileCreatedEvent("/s/content/drops/may/.goutputstream-X1Y2Z3"), "ignore"),
    (FileCreatedEvent("/s/content/.DS_Store"), "ignore"),
    (FileClosedEvent("/s/content/drops/may/.2023-05-04-a.md.swp"), "ignore"),
    (FileClosedEvent("/s/public/index.html"), "ignore"),
    (FileMovedEvent("/s/content/drops/may/a.tmp", "/s/content/drops/may/a.md~"), "ignore"),
]


@pytest.mark.parametrize(("event", "expected"), CLASSIFIED, ids=lambda x: str(x)[:60])
def test_classify(event: FileSystemEvent, expected: str) -> None:
    assert classify(event, SITE) == expected


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_saves_is_one_batch() -> None:
    clock = FakeClock()
    deb = Debouncer(quiet=0.2, longest=2.0, clock=clock)
    for i in range(50):  # a git checkout: 50 files, 1 ms apart
        clock.now = i / 1000
        deb.poke(f"content/drops/may/{i}.md")
    deb.poke("content/drops/may/0.md")  # saved again: still one entry
    clock.now = 0.2
    assert deb.take(timeout=0) is None  # 0.151 s after the last save: not over yet
    clock.now = 0.25
    batch = deb.take(timeout=0)
    assert batch == tuple(f"content/drops/may/{i}.md" for i in range(50))
    assert deb.take(timeout=0) is None
    assert deb.due_in(clock.now) is None


def test_a_save_known_to_be_whole_waits_only_briefly() -> None:
    """A file closed by its writer, or moved into place, is whole: the batch is
    due after `brief` quiet, unless another file in it may still be written."""
    clock = FakeClock()
    deb = Debouncer(quiet=0.2, brief=0.02, longest=2.0, clock=clock)
    deb.poke(DROP)  # opened and written...
    assert deb.due_in(0.0) == pytest.approx(0.2)
    deb.poke(DROP, saved=True)  # ...and closed
    assert deb.due_in(0.0) == pytest.approx(0.02)
    deb.poke("site.yaml", saved=True)
    clock.now = 0.01
    assert deb.take(timeout=0) is None  # a burst of whole files is still one batch
    clock.now = 0.03
    assert deb.take(timeout=0) == (DROP, "site.yaml")
    deb.poke(DROP, saved=True)
    deb.poke("content/media/hero.png")  # being written: wait the full quiet for both
    assert deb.due_in(clock.now) == pytest.approx(0.2)
    deb.poke(DROP)  # written again after its close: no longer known whole
    deb.poke("content/media/hero.png", saved=True)
    assert deb.due_in(clock.now) == pytest.approx(0.2)


def test_nonstop_changes_still_rebuild_after_the_longest_wait() -> None:
    clock = FakeClock()
    deb = Debouncer(quiet=0.2, longest=2.0, clock=clock)
    for tick in range(19):  # every 0.1 s: never quiet for 0.2 s
        clock.now = tick / 10
        deb.poke("content/drops/may/log.md")
        assert deb.take(timeout=0) is None
    assert deb.due_in(1.9) == pytest.approx(0.1)
    clock.now = 2.0
    assert deb.take(timeout=0) == ("content/drops/may/log.md",)


def test_take_waits_for_the_burst_to_end() -> None:
    deb = Debouncer(quiet=0.05)
    got: list[tuple[str, ...] | None] = []
    taker = threading.Thread(target=lambda: got.append(deb.take(timeout=30)))
    taker.start()
    deb.poke("site.yaml")
    deb.poke("campaigns/may.yaml")
    taker.join(timeout=30)
    assert got == [("site.yaml", "campaigns/may.yaml")]


def test_pending_says_a_change_waits_until_it_is_taken() -> None:
    deb = Debouncer(quiet=0.2, longest=2.0, clock=lambda: 0.0)
    assert not deb.pending()
    deb.poke("content/drops/may/log.md")
    assert deb.pending()
    assert deb.take(timeout=0) is None  # not quiet yet: still pending
    assert deb.pending()
    deb.stop()
    assert deb.pending()  # a stopped server makes no spare either


def test_stop_wakes_a_waiting_take() -> None:
    deb = Debouncer()
    got: list[tuple[str, ...] | None] = []
    taker = threading.Thread(target=lambda: got.append(deb.take()))
    taker.start()
    deb.stop()
    taker.join(timeout=30)
    assert not taker.is_alive() and got == [None] and deb.stopped


def _collect(changes: queue.Queue[str], until: set[str]) -> list[str]:
    """Changes reported until every path of `until` was seen (30 s at most)."""
    seen: list[str] = []
    while not until <= set(seen):
        seen.append(changes.get(timeout=30))
    return seen


@pytest.fixture
def watched(tmp_path: Path):  # type: ignore[no-untyped-def]
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "site", site)
    changes: queue.Queue[str] = queue.Queue()
    watcher = Watcher(site, lambda path, saved: changes.put(f"{path} (saved)" if saved else path))
    watcher.start()
    yield site, changes
    watcher.stop()


def test_watcher_reports_source_changes_only(watched: tuple[Path, queue.Queue[str]]) -> None:
    site, changes = watched
    drops = site / "content/drops/spring-2023"
    (site / ".git").mkdir()
    (site / ".git/HEAD").write_text("ref: refs/heads/main\n")
    (site / "public").mkdir()
    (site / "public/index.html").write_text("<p>output</p>")
    (drops / ".2023-05-01-welcome.md.swp").write_bytes(b"vim")
    check(site, now=parse_now("2023-05-10T12:00"))  # reads every file
    burst = {f"content/drops/spring-2023/2023-05-2{i % 10}-burst-{i}.md" for i in range(50)}
    for rel in sorted(burst):
        (site / rel).write_text("---\ntitle: Burst\npublish_at: 2023-05-20\n---\n")
    # Each file is reported as written, then as saved whole when it is closed.
    saved = {f"{rel} (saved)" for rel in burst}
    assert set(_collect(changes, saved)) == burst | saved


def test_reading_the_sources_brings_the_watcher_no_event_and_a_touch_rebuilds(
    watched: tuple[Path, queue.Queue[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build reads every source file; the watcher is not even told (it once
    handled each file's opened and closed events beside every rebuild)."""
    site, changes = watched
    told: list[str] = []
    real = Watcher.on_any_event

    def on_any_event(self: Watcher, event: FileSystemEvent) -> None:
        told.append(event.event_type)
        real(self, event)

    monkeypatch.setattr(Watcher, "on_any_event", on_any_event)
    check(site, now=parse_now("2023-05-10T12:00"))  # reads every file
    welcome = "content/drops/spring-2023/2023-05-01-welcome.md"
    os.utime(site / welcome)  # `touch`: rebuild, though no byte changed
    assert _collect(changes, {welcome}) == [welcome]
    assert "attrib" in told and not {"opened", "closed", "closed_no_write"} & set(told)


def test_watcher_follows_a_source_folder_that_appears(
    watched: tuple[Path, queue.Queue[str]],
) -> None:
    site, changes = watched
    (site / "themes").mkdir()
    _collect(changes, {"themes"})
    (site / "themes/default/static").mkdir(parents=True)
    (site / "themes/default/static/style.css").write_text("body { color: red }\n")
    _collect(changes, {"themes/default/static/style.css"})
    shutil.rmtree(site / "themes")  # as a git checkout of another branch may
    (site / "themes/default/static").mkdir(parents=True)
    extra = site / "themes/default/static/extra.css"
    # A write before the folder's creation is seen goes unreported (the rebuild that creation
    # triggers reads it anyway), and the deletion's events may still be on their way: so write
    # until a change is seen.
    deadline = time.monotonic() + 30
    extra.write_text("p { margin: 0 }\n")
    while not _reported(changes, "themes/default/static/extra.css", within=0.25):
        assert time.monotonic() < deadline, "a change in the recreated themes/ went unseen"
        extra.write_text("p { margin: 0 }\n")


def _reported(changes: queue.Queue[str], rel: str, *, within: float) -> bool:
    try:
        while changes.get(timeout=within) != rel:
            pass
    except queue.Empty:
        return False
    return True
