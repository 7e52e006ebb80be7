"""hubgen serve's builds: only finished builds are shown, the last good one on errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, read_tree
from serving import WELCOME, copy_fixture

from hubgen import records, write
from hubgen.cache import Cache
from hubgen.model import Drop
from hubgen.pipeline import build
from hubgen.serve import rebuild_when_needed
from hubgen.serve.builds import Builds
from hubgen.serve.watch import Debouncer
from hubgen.theme import Themes
from hubgen.views import Views
from hubgen.write import Surveyed

BASE = "http://127.0.0.1:8123/"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return copy_fixture(tmp_path)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2023, 5, 10, 16, 0, tzinfo=UTC))  # noon in New York


@pytest.fixture
def builds(site: Path, clock: Clock) -> Iterator[Builds]:
    b = Builds(site, base_url=BASE, preview=False, clock=clock)
    yield b
    b.close()
    b.remove()


def test_a_failed_rebuild_keeps_the_last_good_build(site: Path, builds: Builds) -> None:
    assert builds.rebuild().built is not None
    with builds.current() as good:
        assert good.root is not None and good.problems == ()
        page = (good.root / "spring-2023/welcome/index.html").read_text()
        assert f'href="{BASE}spring-2023/welcome/"' in page  # built for the served address
        assert "hubgen serve" not in page and "EventSource" not in page  # never on disk
    welcome = site / WELCOME
    welcome.write_text(welcome.read_text().replace("title:", "titel:"))
    attempt = builds.rebuild()
    assert attempt.built is None
    raw_html = "content/drops/spring-2023/2023-05-08-live-chat.md:11:44"  # the fixture's warning
    spans = [str(d.span) for d in attempt.problems]
    assert spans == [f"{WELCOME}:2:1", f"{WELCOME}:2:1", raw_html]
    with builds.current() as broken:
        assert broken.root == good.root and broken.root.is_dir()
        assert broken.problems == attempt.problems
        assert broken.generation != good.generation
    welcome.write_text(welcome.read_text().replace("titel:", "title:"))
    builds.rebuild()
    with builds.current() as fixed:
        assert fixed.root != good.root and fixed.problems == ()
    builds.rebuild()  # starts from the good build's folder, which no request reads
    assert not good.root.exists()


def test_a_rebuild_starts_from_a_retired_build_that_no_request_reads(builds: Builds) -> None:
    builds.rebuild()
    with builds.current() as first:
        assert first.root is not None
        folder = first.root.stat().st_ino
    builds.rebuild()  # the first build is retired, and no request reads it
    assert first.root.is_dir()
    builds.rebuild()  # brought up to date, and shown under its new name
    with builds.current() as third:
        assert third.root is not None and not first.root.exists()
        assert third.root.stat().st_ino == folder  # the same folder, not a new one


def test_the_first_rebuild_starts_from_a_copy_of_the_first_build_made_meanwhile(
    site: Path, builds: Builds, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No retired build exists yet after the first: the first save would link
    every file anew, so a copy by hard links is made while nothing happens,
    and surveyed then too: the rebuild does not walk it again."""
    builds.rebuild()
    builds.make_spare()
    with builds.current() as first:
        assert first.root is not None
        home = (first.root / "index.html").stat().st_ino
    starts: list[tuple[Path, int, int]] = []
    real = build
    walked: list[Path] = []
    real_walk = write._sound_spare

    def spy(*args: Any, **kwargs: Any) -> Any:
        surveyed = kwargs["spare"]
        assert isinstance(surveyed, Surveyed)
        spare = surveyed.folder
        starts.append((spare, spare.stat().st_ino, (spare / "index.html").stat().st_ino))
        return real(*args, **kwargs)

    def walk(spare: Path) -> object:
        walked.append(spare)
        return real_walk(spare)

    monkeypatch.setattr("hubgen.serve.builds.build", spy)
    monkeypatch.setattr(write, "_sound_spare", walk)
    welcome = site / WELCOME
    welcome.write_text(welcome.read_text() + "\nThe first save after starting.\n")
    builds.rebuild()
    [(spare, folder, index)] = starts
    assert walked == []
    assert index == home  # the first build's file itself, not a copy of its bytes
    with builds.current() as second:
        assert second.root is not None and second.root.stat().st_ino == folder
    assert _shown(builds) == _full(site, clock, tmp_path, "full")
    builds.make_spare()  # the first build, retired, is the next start: no copy made
    assert len(list(spare.parent.glob("spare-*"))) == 0


def test_a_copy_stopped_part_way_for_a_save_is_brought_up_to_date(
    site: Path, builds: Builds, clock: Clock, tmp_path: Path
) -> None:
    builds.rebuild()
    asked = iter(range(40))
    builds.make_spare(stop=lambda: next(asked, 40) >= 40)  # a save came after 40 entries
    with builds.current() as first:
        assert first.root is not None
        everything = sum(1 for _ in first.root.rglob("*"))
    [spare] = first.root.parent.glob("spare-*")
    assert 0 < sum(1 for _ in spare.rglob("*")) < everything
    welcome = site / WELCOME
    welcome.write_text(welcome.read_text() + "\nSaved while the copy was made.\n")
    assert builds.rebuild().problems == ()
    assert _shown(builds) == _full(site, clock, tmp_path, "full")


def test_a_build_being_read_stays_until_the_request_ends(builds: Builds) -> None:
    builds.rebuild()
    with builds.current() as reading:
        assert reading.root is not None
        builds.rebuild()
        builds.rebuild()
        assert (reading.root / "index.html").is_file()
    assert not reading.root.exists()


def test_wait_change_returns_the_new_state_or_none_once_closed(builds: Builds) -> None:
    builds.rebuild()
    with builds.current() as now:
        pass
    assert builds.wait_change(None, timeout=30) == now
    assert builds.wait_change(now.generation, timeout=0) == now  # timed out: unchanged
    builds.close()
    assert builds.wait_change(now.generation, timeout=30) is None


def test_a_rebuild_is_shown_before_the_cache_is_saved(
    site: Path, builds: Builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The author waits for the page, not for the cache file."""
    builds.rebuild()
    welcome = site / WELCOME
    welcome.write_text(welcome.read_text() + "\nShown before the cache is saved.\n")
    seen: list[bytes] = []
    real_save = Cache.save

    def save(self: Cache) -> None:
        with builds.current() as state:
            assert state.root is not None
            seen.append((state.root / "spring-2023/welcome/index.html").read_bytes())
        real_save(self)

    monkeypatch.setattr(Cache, "save", save)
    attempt = builds.rebuild()
    assert attempt.built is not None and attempt.problems == ()
    assert len(seen) == 1 and b"Shown before the cache is saved." in seen[0]
    with builds.current() as state:
        assert state.root is not None and state.problems == ()
        assert (state.root / "spring-2023/welcome/index.html").read_bytes() == seen[0]


def test_following_the_clock_rebuilds_when_a_drop_goes_live(
    site: Path, builds: Builds, clock: Clock
) -> None:
    clock.now = datetime(2023, 5, 15, 12, 59, tzinfo=UTC)  # 08:59 in New York
    builds.rebuild()
    with builds.current() as before:
        assert before.next_change == datetime(2023, 5, 15, 13, 0, tzinfo=UTC)
        assert before.root is not None
        assert not (before.root / "spring-2023/later-drop/index.html").exists()
    assert builds.seconds_to_next_change() == 61.0  # a minute, plus a second to be sure
    clock.now = datetime(2023, 5, 15, 13, 0, tzinfo=UTC)  # the drop's time has come
    debouncer = Debouncer()
    worker = threading.Thread(target=rebuild_when_needed, args=(site, builds, debouncer, True))
    worker.start()
    try:
        after = builds.wait_change(before.generation, timeout=30)
    finally:
        debouncer.stop()
        worker.join(timeout=30)
    assert after is not None and after.root is not None
    assert (after.root / "spring-2023/later-drop/index.html").is_file()
    assert not worker.is_alive()


def test_a_broken_site_does_not_rebuild_by_the_clock(site: Path, builds: Builds) -> None:
    builds.rebuild()
    assert builds.seconds_to_next_change() is not None
    (site / "site.yaml").write_text("title: [unclosed\n")
    builds.rebuild()
    assert builds.seconds_to_next_change() is None  # until the next save


def test_a_bug_in_hubgen_is_shown_not_fatal(
    builds: Builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds.rebuild()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("hubgen.serve.builds.build", broken)
    attempt = builds.rebuild()
    assert [d.format() for d in attempt.problems] == [
        ".:1:1: error: hubgen failed unexpectedly (RuntimeError('boom')); please report this"
    ]
    with builds.current() as state:
        assert state.root is not None and (state.root / "index.html").is_file()


def _shown(builds: Builds) -> dict[str, bytes]:
    with builds.current() as state:
        assert state.root is not None and state.problems == ()
        return read_tree(state.root)


def _full(site: Path, clock: Clock, tmp_path: Path, name: str) -> dict[str, bytes]:
    """The same site built afresh: another process, no cache, no memory."""
    out = tmp_path / name
    build(site, out, now=clock(), base_url=BASE, jobs=1, cache=False)
    return read_tree(out)


def test_rebuilds_kept_warm_equal_full_builds(
    site: Path, builds: Builds, clock: Clock, tmp_path: Path
) -> None:
    """The server keeps parsed drops and compiled templates between rebuilds
    (`cache.Warm`); whatever changes, what it shows is what a full build makes."""
    builds.rebuild()
    assert _shown(builds) == _full(site, clock, tmp_path, "first")
    welcome = site / WELCOME
    welcome.write_text(welcome.read_text() + "\nA line added while serving.\n")
    builds.rebuild()
    assert _shown(builds) == _full(site, clock, tmp_path, "drop-edit")
    template = site / "themes/default/templates/drop.html"
    template.parent.mkdir(parents=True)
    shipped = REPO / "themes/default/templates/drop.html"
    template.write_text(shipped.read_text().replace("</article>", "<p>First.</p></article>", 1))
    builds.rebuild()
    first = _shown(builds)
    assert first == _full(site, clock, tmp_path, "template-added")
    assert any(b"<p>First.</p>" in data for data in first.values())
    template.write_text(template.read_text().replace("First.", "Second."))
    builds.rebuild()
    second = _shown(builds)
    assert second == _full(site, clock, tmp_path, "template-edited")
    assert not any(b"<p>First.</p>" in data for data in second.values())
    style = site / "themes/default/static/style.css"
    style.parent.mkdir()
    style.write_text((REPO / "themes/default/static/style.css").read_text() + "\nmain{}\n")
    builds.rebuild()
    assert _shown(builds) == _full(site, clock, tmp_path, "asset-edited")
    line = site / "content/organisations/lifeline.md"  # in the help block, rendered once a build
    line.write_text(line.read_text().replace('phone: "555-0100"', 'phone: "555-0111"'))
    builds.rebuild()
    shown = _shown(builds)
    assert shown == _full(site, clock, tmp_path, "helpline-edited")
    assert b"tel:5550111" in shown["index.html"] and b"tel:5550100" not in shown["index.html"]


def test_a_rebuild_kept_warm_decodes_and_compiles_only_what_changed(
    site: Path, builds: Builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds.rebuild()
    decoded: list[object] = []
    made: list[object] = []
    real_decode, real_init = records.decode, Themes.__init__

    def decode(data: object) -> object:
        decoded.append(data)
        return real_decode(data)

    def init(self: Themes, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(records, "decode", decode)
    monkeypatch.setattr(Themes, "__init__", init)
    welcome = site / WELCOME
    welcome.write_text(welcome.read_text() + "\nA line added while serving.\n")
    builds.rebuild()
    assert decoded == [] and made == []  # the edited drop was parsed, the others kept
    (site / "themes/default/templates").mkdir(parents=True)
    (site / "themes/default/templates/404.html").write_text("Not here.\n")
    builds.rebuild()
    assert decoded == [] and len(made) == 1  # templates compiled again, once


def test_drop_views_kept_warm_are_made_again_only_when_what_they_read_changed(
    site: Path, builds: Builds, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild takes again the views of the drops a changed page lists; a
    view whose facts changed (the welcome drop links to a drop that went
    live) is made again, and every rebuild equals a full build."""
    builds.rebuild()
    made: list[str] = []
    real_drop = Views._drop

    def drop(self: Views, d: Drop) -> object:
        made.append(d.slug)
        return real_drop(self, d)

    monkeypatch.setattr(Views, "_drop", drop)
    ada = site / "content/drops/spring-2023/2023-05-03-meet-ada.md"
    ada.write_text(ada.read_text() + "\nA line added while serving.\n")
    builds.rebuild()
    # Her page, the campaign page, her creator and topic pages and the home
    # page list the other drops too: only hers is made again.
    assert made == ["meet-ada"]
    assert _shown(builds) == _full(site, clock, tmp_path, "drop-edit")
    welcome = "spring-2023/welcome/index.html"
    assert b'href="/spring-2023/later-drop/"' not in _shown(builds)[welcome]
    made.clear()
    clock.now = datetime(2023, 5, 15, 13, 0, tzinfo=UTC)  # later-drop goes live
    builds.rebuild()
    assert "welcome" in made and "later-drop" in made and "meet-ada" not in made
    shown = _shown(builds)
    assert shown == _full(site, clock, tmp_path, "gone-live")
    assert b'href="/spring-2023/later-drop/"' in shown[welcome]


def test_a_rebuild_kept_warm_renders_only_what_changed_after_a_build_of_the_site(
    site: Path, builds: Builds, clock: Clock, tmp_path: Path
) -> None:
    """The cache already knows every page from a `hubgen build` of another
    output; the server's first build writes its own copies of them, and from
    then on a rebuild takes them as they are (it once kept the cache's older
    record of each page in memory, and so rendered every page every time)."""
    build(site, tmp_path / "public", now=clock(), base_url=BASE, jobs=1)
    first = builds.rebuild().built
    assert first is not None and first.rendered > 0  # nothing to take pages from yet
    again = builds.rebuild().built
    assert again is not None and again.rendered == 0
    welcome = site / WELCOME
    welcome.write_text(welcome.read_text() + "\nA line added while serving.\n")
    edited = builds.rebuild().built
    assert edited is not None and 0 < edited.rendered < first.rendered
    assert _shown(builds) == _full(site, clock, tmp_path, "drop-edit")


def test_serving_leaves_the_up_to_date_record_of_a_build_as_it_was(
    site: Path, builds: Builds, clock: Clock, tmp_path: Path
) -> None:
    """The server's folders are each built once: it neither looks up nor records
    them for the up-to-date check, and a build of the site afterwards, with no
    file changed, still finds its own output up to date."""
    public = tmp_path / "public"
    assert not build(site, public, now=clock(), base_url=BASE, jobs=1).unchanged
    for _ in range(2):
        assert builds.rebuild().built is not None
    assert build(site, public, now=clock(), base_url=BASE, jobs=1).unchanged


def test_a_failed_rebuild_leaves_its_starting_folder_for_the_next(
    site: Path, builds: Builds
) -> None:
    builds.rebuild()
    with builds.current() as first:
        assert first.root is not None
        folder = first.root.stat().st_ino
    builds.rebuild()  # the first build's folder is now where the next rebuild starts
    welcome = site / WELCOME
    welcome.write_text(welcome.read_text().replace("title:", "titel:"))
    assert builds.rebuild().built is None
    assert first.root.is_dir()  # the failed rebuild started there, and left it
    welcome.write_text(welcome.read_text().replace("titel:", "title:"))
    assert builds.rebuild().built is not None
    with builds.current() as fixed:
        assert fixed.root is not None and fixed.root.stat().st_ino == folder
        assert fixed.problems == ()


def test_a_spare_a_failed_rebuild_wrote_into_is_surveyed_again(
    site: Path, builds: Builds, clock: Clock, tmp_path: Path
) -> None:
    """A rebuild that fails after writing pages (here: the link check) leaves
    its starting folder changed: its survey no longer holds, and the next
    rebuild must not take the pages it wrote for the shown build's."""
    builds.rebuild()
    builds.rebuild()  # the first build's folder is now where the next rebuild starts
    builds.make_spare()  # and surveyed
    template = site / "themes/default/templates/drop.html"
    template.parent.mkdir(parents=True)
    shipped = (REPO / "themes/default/templates/drop.html").read_text()
    broken = '<p><a href="/no-such-page/">Nowhere.</a></p></article>'
    template.write_text(shipped.replace("</article>", broken, 1))
    failed = builds.rebuild()
    assert failed.built is None and any(p.code == "dangling-link" for p in failed.problems)
    template.unlink()
    builds.make_spare()
    assert builds.rebuild().problems == ()
    assert _shown(builds) == _full(site, clock, tmp_path, "full")
