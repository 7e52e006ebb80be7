"""write: all-or-nothing output, and never deleting what hubgen did not write."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from conftest import FIXTURES, read_tree, run

from hubgen import load, pipeline, write

NOW = "2023-05-10T12:00"


def build(site: Path, out: Path, *extra: str) -> int:
    return run("build", "--site", site, "--out", out, "--now", NOW, *extra)


def test_a_failed_build_leaves_the_previous_output_untouched(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site({"content/pages/about.md": "---\ntitle: About\n---\nHello\n"})
    out = tmp_path / "out"
    assert build(site, out) == 0
    before = read_tree(out)
    (site / "content/pages/about.md").write_text("---\ntitle: [broken\n---\n")
    assert build(site, out) == 1
    assert read_tree(out) == before


def test_removed_content_disappears_from_the_output(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site({"content/pages/about.md": "---\ntitle: About\n---\n"})
    out = tmp_path / "out"
    assert build(site, out) == 0
    assert (out / "about/index.html").is_file()
    (site / "content/pages/about.md").unlink()
    assert build(site, out) == 0
    assert not (out / "about").exists()


def test_a_folder_with_foreign_files_is_refused(
    make_site: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({})
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("mine")
    assert build(site, out) == 2
    assert "1 file(s) hubgen did not write (precious.txt)" in capsys.readouterr().err
    assert read_tree(out) == {"precious.txt": b"mine"}


def test_force_writes_around_foreign_files_and_keeps_them(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site({})
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("mine")
    assert build(site, out, "--force") == 0
    assert (out / "precious.txt").read_text() == "mine"
    assert (out / "index.html").is_file()
    assert build(site, out) == 2  # still not ours: --force is needed every time


@pytest.mark.parametrize("target", [".", "content", "content/static", "themes/x"])
def test_the_site_and_its_sources_are_refused_even_with_force(
    make_site: Callable[..., Path], target: str
) -> None:
    site = make_site({"content/static/CNAME": "x\n"})
    before = read_tree(site)
    assert build(site, site / target, "--force") == 2
    assert read_tree(site) == before


def test_a_folder_containing_the_site_is_refused(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site({})
    assert build(site, tmp_path, "--force") == 2


def test_manifest_lists_exactly_the_written_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build(FIXTURES / "site", out) == 0
    listed = (out / ".hubgen-manifest").read_text().splitlines()
    assert sorted(listed) == sorted(p for p in read_tree(out) if p != ".hubgen-manifest")


def test_output_folder_is_world_readable(make_site: Callable[..., Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build(make_site({}), out) == 0
    assert out.stat().st_mode & 0o755 == 0o755


def test_force_keeps_a_foreign_symlink_as_a_link_not_its_target(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the output")
    out = tmp_path / "out"
    out.mkdir()
    (out / "link").symlink_to(secret)
    assert build(make_site({}), out, "--force") == 0
    assert (out / "link").is_symlink()
    assert os.readlink(out / "link") == str(secret)


def test_folders_are_exchanged_atomically_where_the_system_can(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not write._exchange(a, b):
        pytest.skip("no atomic exchange here (not Linux, or the file system lacks it)")
    assert ((a / "x").read_text(), (b / "x").read_text()) == ("b", "a")


def test_without_atomic_exchange_two_renames_swap_the_output(
    make_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(write, "_exchange", lambda a, b: False)
    site = make_site({"content/pages/about.md": "---\ntitle: About\n---\n"})
    out = tmp_path / "out"
    assert build(site, out) == 0
    (site / "content/pages/about.md").unlink()
    assert build(site, out) == 0
    assert not (out / "about").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "site"]


def test_unchanged_files_keep_their_modification_time(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "site", site)
    out = tmp_path / "out"
    assert build(site, out) == 0
    long_ago = 946684800  # 2000-01-01: any file rewritten by the next build gets a newer time
    for path in out.rglob("*"):
        os.utime(path, (long_ago, long_ago), follow_symlinks=False)
    drop = site / "content/drops/spring-2023/2023-05-03-meet-ada.md"
    drop.write_text(drop.read_text().replace("Ada talks about sleep.", "Ada talks about rest."))
    assert build(site, out) == 0
    rewritten = {
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and p.stat().st_mtime != long_ago
    }
    assert "Ada talks about rest." in (out / "spring-2023/meet-ada/index.html").read_text()
    assert rewritten == {"spring-2023/meet-ada/index.html", "feed.xml", "spring-2023/feed.xml"}


def test_a_rebuild_reads_the_site_before_it_waits_for_the_output_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A forked process lists the output while the build reads the site
    (`write._Survey`); the build asks for that listing only once it takes its
    first page, never before it reads the site: waiting for it first was 0.13 s
    of a one-drop rebuild at 10,000 drops. The pages it lists unchanged are
    still taken as they were."""
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "site", site)
    out = tmp_path / "out"
    assert build(site, out) == 0
    before = (out / "index.html").stat().st_mtime_ns
    events: list[str] = []
    load_site, files = load.load_site, write._Survey.files

    def reading(*args: object, **kwargs: object) -> object:
        events.append("read the site")
        return load_site(*args, **kwargs)  # type: ignore[arg-type]

    def listing(survey: write._Survey) -> dict[str, write.Listed]:
        events.append("the output's listing")
        return files(survey)

    monkeypatch.setattr(load, "load_site", reading)
    monkeypatch.setattr(write._Survey, "files", listing)
    drop = site / "content/drops/spring-2023/2023-05-03-meet-ada.md"
    drop.write_text(drop.read_text().replace("Ada talks about sleep.", "Ada talks about rest."))
    built = pipeline.build(site, out, now=datetime.fromisoformat(NOW))
    assert events[0] == "read the site" and "the output's listing" in events
    pages = list(out.rglob("*.html"))
    assert 0 < built.rendered < len(pages)  # the others taken as the listing found them
    assert (out / "index.html").stat().st_mtime_ns == before


def test_a_first_build_forks_no_process_to_list_an_output_that_is_not_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing to walk: the listing is worked out here, at once, and empty (a
    forked process would make the building process fault again on every page
    it writes). An output that is there is still listed by a forked process."""
    from hubgen import workers

    forked: list[object] = []
    real_fork = workers._fork

    def fork(body: Callable[..., None], *args: object) -> object:
        if args and getattr(args[0], "func", None) is write._survey:
            forked.append(args[0])
        return real_fork(body, *args)

    monkeypatch.setattr(workers, "_fork", fork)
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "site", site)
    out = tmp_path / "out"
    with write.claim_output(out, site, force=False, spare=True) as claim:
        assert claim.files() == {}
    assert forked == []
    assert build(site, out) == 0
    assert forked == []
    with write.claim_output(out, site, force=False, spare=True) as claim:
        assert "index.html" in claim.files()
    assert len(forked) == (1 if workers.can_fork() else 0)


def test_an_output_restored_with_whole_second_times_is_rendered_again_once(
    tmp_path: Path,
) -> None:
    """A CI cache that keeps files' times only to the second (plain tar, zip;
    actions/cache's `tar --posix` keeps nanoseconds) makes every page look
    rewritten since hubgen wrote it: the first build after such a restore
    renders every page again but rewrites no file whose bytes are the same,
    so each keeps its restored time, and the next restore of that output
    finds it up to date (docs/publishing.md)."""
    site, out = FIXTURES / "site", tmp_path / "out"
    assert build(site, out) == 0
    written = read_tree(out)

    def restore() -> None:
        """Every file's time cut to whole seconds, as such an archive restores it."""
        for path in [*out.rglob("*"), *(tmp_path / ".out.spare").rglob("*")]:
            if path.is_file():
                whole = path.stat().st_mtime_ns // 10**9 * 10**9
                os.utime(path, ns=(whole, whole))

    def times() -> dict[str, int]:
        return {name: (out / name).stat().st_mtime_ns for name in written}

    now = datetime.fromisoformat(NOW)
    restore()
    restored = times()
    built = pipeline.build(site, out, now=now)
    pages = [name for name in written if name.endswith(".html")]
    assert not built.unchanged and built.rendered == len(pages)
    assert read_tree(out) == written
    assert times() == restored
    restore()
    again = pipeline.build(site, out, now=now)
    assert again.unchanged and again.rendered == 0


def test_a_rebuild_with_no_change_rewrites_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build(FIXTURES / "site", out) == 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    for path in before:
        os.utime(path, ns=(1, 1))
    assert build(FIXTURES / "site", out) == 0
    assert {p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == {1}


def _exchange_or_skip(tmp_path: Path) -> None:
    a, b = tmp_path / "xa", tmp_path / "xb"
    a.mkdir()
    b.mkdir()
    if not write._exchange(a, b):
        pytest.skip("no atomic exchange here: the previous output is removed, not kept")
    a.rmdir()
    b.rmdir()


def _fixture_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "site", site)
    return site


DROP = "content/drops/spring-2023/2023-05-03-meet-ada.md"


def test_the_previous_output_is_kept_as_the_spare_and_brought_up_to_date(
    tmp_path: Path,
) -> None:
    """The swap leaves the output before beside the new one (`.out.spare`), its
    unchanged files hard links of the new output's; the next build updates it
    rather than linking every file again, and the result is exactly right."""
    _exchange_or_skip(tmp_path)
    site = _fixture_site(tmp_path)
    out, spare = tmp_path / "out", tmp_path / ".out.spare"
    assert build(site, out) == 0
    first = read_tree(out)
    assert not spare.exists()  # nothing to keep yet
    drop = site / DROP
    drop.write_text(drop.read_text("utf-8").replace("title: Meet Ada", "title: Meet Ada L."))
    assert build(site, out) == 0
    second = read_tree(out)
    assert read_tree(spare) == first
    shared = (out / "about/index.html").stat().st_ino == (spare / "about/index.html").stat().st_ino
    assert shared
    drop.write_text(drop.read_text("utf-8").replace("title: Meet Ada L.", "title: Meet Ada"))
    assert build(site, out) == 0
    assert read_tree(out) == first
    assert read_tree(spare) == second
    assert read_tree(out) == _full_build(site, tmp_path)


def test_with_no_spare_the_build_makes_one_from_the_output_while_it_reads_the_site(
    tmp_path: Path,
) -> None:
    """The first build after a cold one has no spare: a forked process links the
    output's files into one while the site is read (`write._made_spare`), so
    that build too writes only what changed. Kept if the build fails (here once
    it has written pages: a template breaks one kind), as any spare is; the
    output stays as it was, and the next build is exactly right."""
    _exchange_or_skip(tmp_path)
    site = _fixture_site(tmp_path)
    out, spare = tmp_path / "out", tmp_path / ".out.spare"
    assert build(site, out) == 0
    first = read_tree(out)
    drop = site / DROP
    drop.write_text(drop.read_text("utf-8").replace("title: Meet Ada", "title: Meet Ada L."))
    broken = site / "themes/default/templates/page.html"
    broken.parent.mkdir(parents=True)
    broken.write_text('{% extends "base.html" %}{% block content %}{{ no.such }}{% endblock %}')
    assert build(site, out) == 1
    assert read_tree(out) == first
    media = "media/moon.svg"  # unchanged, written before the pages: still the link
    assert (spare / media).stat().st_ino == (out / media).stat().st_ino
    broken.unlink()
    assert build(site, out) == 0
    assert read_tree(spare) == first
    assert read_tree(out) == _full_build(site, tmp_path)
    unchanged = [r for r in first if r != write.MANIFEST and (out / r).read_bytes() == first[r]]
    assert len(unchanged) > 10
    for rel in unchanged:  # linked, not written again
        assert (out / rel).stat().st_ino == (spare / rel).stat().st_ino


def test_a_spare_makes_the_folders_that_hold_only_folders_too(tmp_path: Path) -> None:
    """A folder with no file of its own (here `static/` and `static/deep/`) is
    made before the folders under it, which `_made_spare` makes as it meets
    their files."""
    out, spare = tmp_path / "out", tmp_path / ".out.spare"
    files = ["index.html", "static/deep/er/a.txt", "static/deep/er/b.txt", "static/x/c.txt"]
    for rel in files:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(rel)
    (out / write.MANIFEST).write_text("".join(f"{rel}\n" for rel in files))
    made = write._made_spare(out, spare)
    assert made is not None and sorted(made) == sorted(files)
    for rel in files:  # each the output's very file, linked
        assert (spare / rel).stat().st_ino == (out / rel).stat().st_ino == made[rel]
    assert not (spare / write.MANIFEST).exists()


def test_a_spare_is_made_only_of_an_output_holding_nothing_but_hubgens_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nor when a link cannot be made (an output on a file system of its own):
    then none is left, and the build writes every file into a fresh folder."""
    site = _fixture_site(tmp_path)
    out, spare = tmp_path / "out", tmp_path / ".out.spare"
    assert build(site, out, "--no-cache") == 0
    made = write._made_spare(out, spare)
    assert made is not None and set(made) == set(read_tree(out)) - {write.MANIFEST}
    assert read_tree(spare) == {k: v for k, v in read_tree(out).items() if k != write.MANIFEST}
    shutil.rmtree(spare)
    (out / "precious.txt").write_text("mine")
    assert write._made_spare(out, spare) is None and not spare.exists()
    (out / "precious.txt").unlink()
    (out / "about/index.html").unlink()
    (out / "about/index.html").symlink_to(tmp_path / "elsewhere")
    assert write._made_spare(out, spare) is None and not spare.exists()
    shutil.rmtree(out)
    assert build(site, out, "--no-cache") == 0

    def no_link(*args: object, **kwargs: object) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(write.os, "link", no_link)  # in the forked process too
    assert write._made_spare(out, spare) is None and not spare.exists()
    drop = site / DROP
    drop.write_text(drop.read_text("utf-8").replace("title: Meet Ada", "title: Meet Ada L."))
    assert build(site, out, "--no-cache") == 0
    monkeypatch.undo()
    assert read_tree(out) == _full_build(site, tmp_path)


@pytest.fixture
def with_spare(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The fixture site built twice into `out`: the spare beside it shares every file."""
    _exchange_or_skip(tmp_path)
    site = _fixture_site(tmp_path)
    out = tmp_path / "out"
    assert build(site, out) == 0
    assert build(site, out, "--no-cache") == 0  # a second swap: the first output is the spare
    return site, out, tmp_path / ".out.spare"


def _full_build(site: Path, tmp_path: Path) -> dict[str, bytes]:
    assert build(site, tmp_path / "full", "--no-cache") == 0
    return read_tree(tmp_path / "full")


def test_a_spare_with_stray_files_and_folders_still_gives_the_right_output(
    with_spare: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    site, out, spare = with_spare
    (spare / "stray.html").write_text("left over")
    (spare / "index.html").unlink()
    (spare / "index.html").mkdir()  # a folder where a file goes
    (spare / "about/index.html").unlink()
    (spare / "about/index.html").write_text("edited")  # a file that is not the output's
    assert build(site, out, "--no-cache") == 0
    assert read_tree(out) == _full_build(site, tmp_path)


def test_a_spare_holding_a_symlink_is_not_used_and_nothing_is_written_through_it(
    with_spare: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    site, out, spare = with_spare
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "index.html").write_text("not hubgen's")
    shutil.rmtree(spare / "about")
    (spare / "about").symlink_to(victim, target_is_directory=True)
    assert build(site, out, "--no-cache") == 0
    assert read_tree(victim) == {"index.html": b"not hubgen's"}
    assert read_tree(out) == _full_build(site, tmp_path)


def test_a_page_edited_by_hand_in_the_output_never_reaches_the_spare_unnoticed(
    with_spare: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """An output file and its spare twin are one inode: the next build must see
    the edit and write a new file, never trust the spare's copy."""
    site, out, _ = with_spare
    page = out / "about/index.html"
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<p>hand edit</p></body>"))
    assert build(site, out) == 0
    assert read_tree(out) == _full_build(site, tmp_path)


def test_a_build_failing_after_writing_leaves_the_output_as_it_was(
    with_spare: tuple[Path, Path, Path],
) -> None:
    """A file of the spare that is also the live output's (one inode) is replaced,
    never written through: a build that fails once it has written pages (here a
    template that breaks one kind of page) leaves the output byte for byte."""
    site, out, _ = with_spare
    before = read_tree(out)
    drop = site / DROP
    drop.write_text(drop.read_text("utf-8").replace("title: Meet Ada", "title: Meet Ada L."))
    broken = site / "themes/default/templates/page.html"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text(
        '{% extends "base.html" %}{% block content %}{{ no_such.thing }}{% endblock %}'
    )
    assert build(site, out) == 1
    assert read_tree(out) == before


def test_a_foreign_file_is_refused_before_content_errors_are_reported(
    make_site: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The output is listed while the site is read (`write._Survey`): the refusal
    still comes first, as when the folder was listed before anything else."""
    site = make_site({"content/pages/about.md": "---\ntitle: [broken\n---\n"})
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("mine")
    assert build(site, out) == 2
    err = capsys.readouterr().err
    assert "1 file(s) hubgen did not write (precious.txt)" in err
    assert "about.md" not in err
    assert read_tree(out) == {"precious.txt": b"mine"}


def test_a_foreign_file_beside_a_spare_is_refused_and_nothing_is_swapped(
    with_spare: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site, out, spare = with_spare
    (out / "precious.txt").write_text("mine")
    before, spare_before = read_tree(out), read_tree(spare)
    drop = site / DROP
    drop.write_text(drop.read_text("utf-8").replace("title: Meet Ada", "title: Meet Ada L."))
    assert build(site, out) == 2
    assert "1 file(s) hubgen did not write (precious.txt)" in capsys.readouterr().err
    assert read_tree(out) == before
    assert read_tree(spare) == spare_before


def test_a_staged_file_is_a_new_file_whatever_stood_at_its_place(tmp_path: Path) -> None:
    """`Staging.write` makes the folders it needs, reports the size and time the
    file has, replaces a leftover empty folder, and never writes through a file
    the spare held (its inode may be the live output's)."""
    root = tmp_path / "spare"
    (root / "kept").mkdir(parents=True)
    (root / "kept/index.html").write_bytes(b"old")
    os.link(root / "kept/index.html", tmp_path / "live.html")  # the same inode, as served
    (root / "gone/index.html").mkdir(parents=True)  # a folder a killed build left
    inodes = {"kept/index.html": (root / "kept/index.html").stat().st_ino}
    staging = write.Staging(root, inodes, True, os.stat(root).st_dev)
    for rel in ("kept/index.html", "gone/index.html", "new/deep/index.html"):
        size, mtime = staging.write(rel, b"<p>new</p>")
        st = (root / rel).stat()
        assert (root / rel).read_bytes() == b"<p>new</p>"
        assert (size, mtime) == (st.st_size, st.st_mtime_ns)
    assert (tmp_path / "live.html").read_bytes() == b"old"
    (root / "file").write_bytes(b"x")
    with pytest.raises(OSError):
        staging.write("file/index.html", b"a file's folder is a file")
