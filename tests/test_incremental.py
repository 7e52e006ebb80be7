"""Incremental builds equal full builds, byte for byte, and touch only what changed.

Each test builds the fixture site with the build cache (cold), edits one thing,
rebuilds into the same output (warm: unchanged pages are reused, not rendered),
and compares that with a full build of the edited site made with --no-cache
into an empty folder. Worker processes are on (--jobs 2) as in real builds.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from multiprocessing import get_context
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO, read_tree, run

from hubgen import workers
from hubgen.cache import CACHE_DIR
from hubgen.meanwhile import Meanwhile
from hubgen.write import MANIFEST

NOW = "2023-05-10T12:00"


@pytest.fixture(autouse=True)
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file counts as settled (see `unchanged.Sources`), as in CI's clone an
    hour later: the first build records each page's reads, and the tests check
    what rebuilds make of them. Tests of fresh files set the delay back."""
    from hubgen import unchanged

    monkeypatch.setattr(unchanged.Sources, "SETTLE_NS", 0)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    ignore = shutil.ignore_patterns(CACHE_DIR)  # other tests build the fixture in place
    return Path(shutil.copytree(FIXTURES / "site", tmp_path / "site", ignore=ignore))


def build(site: Path, out: Path, *extra: str, now: str = NOW) -> None:
    assert run("build", "--site", site, "--out", out, "--now", now, "--jobs", "2", *extra) == 0


def mtimes(out: Path) -> dict[str, int]:
    return {
        p.relative_to(out).as_posix(): p.stat().st_mtime_ns
        for p in out.rglob("*")
        if p.is_file() and p.name != MANIFEST
    }


def rebuilt(site: Path, tmp_path: Path, now: str = NOW) -> tuple[dict[str, bytes], set[str]]:
    """The warm rebuild's files, and which of them it rewrote (new modification time)."""
    out = tmp_path / "out"
    before = mtimes(out)
    build(site, out, now=now)
    after = mtimes(out)
    return read_tree(out), {rel for rel, t in after.items() if before.get(rel) != t}


def full(site: Path, tmp_path: Path, now: str = NOW) -> dict[str, bytes]:
    out = tmp_path / "full"
    build(site, out, "--no-cache", now=now)
    return read_tree(out)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


@pytest.fixture
def warm(site: Path, tmp_path: Path) -> Path:
    """The fixture site built once, leaving the cache and the output behind."""
    build(site, tmp_path / "out")
    assert (site / CACHE_DIR).is_dir()
    return site


def calls(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str, note: Callable[..., str]
) -> list[str]:
    """What `note` makes of the arguments of each call of `owner.name` the test makes."""
    noted: list[str] = []
    real = getattr(owner, name)

    def counted(*args: object) -> object:
        noted.append(note(*args))
        return real(*args)

    monkeypatch.setattr(owner, name, counted)
    return noted


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The pages whose views the builds of the test made (`Rendered.context`)."""
    from hubgen.render import Rendered

    return calls(monkeypatch, Rendered, "context", lambda _self, out, _job: out)


def drop_file(site: Path) -> Path:
    """A drop that is published at NOW."""
    return site / "content/drops/spring-2023/2023-05-03-meet-ada.md"


def test_a_rebuild_with_no_change_rewrites_no_file(warm: Path, tmp_path: Path) -> None:
    files, rewritten = rebuilt(warm, tmp_path)
    assert rewritten == set()
    assert files == full(warm, tmp_path)


def test_a_drop_edit_equals_a_full_build_and_rewrites_only_its_pages(
    warm: Path, tmp_path: Path
) -> None:
    path = drop_file(warm)
    path.write_text(path.read_text("utf-8") + "\nOne more sentence, added later.\n", "utf-8")
    files, rewritten = rebuilt(warm, tmp_path)
    assert files == full(warm, tmp_path)
    assert rewritten, "the edited drop's page must change"
    changed_pages = {rel for rel in rewritten if rel.endswith(".html")}
    assert all(b"One more sentence, added later." in files[rel] for rel in changed_pages)
    assert rewritten - changed_pages <= {
        "feed.xml",
        *{r for r in rewritten if r.endswith("feed.xml")},
    }


def test_a_drop_edit_makes_views_only_for_the_pages_that_show_it(
    warm: Path, tmp_path: Path, made: list[str]
) -> None:
    """Each page's reads (the drops it shows, everything else as one hash) are
    recorded: after a drop edit, only pages showing that drop are looked at
    (after an edit of its text alone, only those that read its body: see
    the test below)."""
    edit(drop_file(warm), "title: Meet Ada", "title: Meet Ada again")
    files, _ = rebuilt(warm, tmp_path)
    assert sorted(made) == [
        "creators/ada-example/index.html",  # credited
        "index.html",  # among the latest drops
        "spring-2023/index.html",  # its campaign
        "spring-2023/meet-ada/index.html",
        "topics/sleep/index.html",
    ]
    made.clear()
    assert files == full(warm, tmp_path)
    assert len(made) == len([rel for rel in files if rel.endswith(".html")])  # --no-cache: all


SHOWING_ADA = [
    "creators/ada-example/index.html",
    "index.html",
    "spring-2023/index.html",
    "spring-2023/meet-ada/index.html",
    "topics/sleep/index.html",
]


@pytest.fixture
def looked_up(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """The kind and number of keys of each batch of cache entries the builds
    of the test decoded (`Cache.decoded`)."""
    from hubgen.cache import Cache

    return calls(monkeypatch, Cache, "decoded", lambda _self, kind, keys, _f: (kind, len(keys)))


def page_table(site: Path) -> dict[str, list[object]]:
    """The pages of the page table the last build left in the cache, by reads key."""
    return {first: e for pages in table_shards(site).values() for first, e in pages.items()}


def table_shards(site: Path) -> dict[str, dict[str, list[object]]]:
    """The page table's entries the last build left in the cache: key -> its pages."""
    db = sqlite3.connect(site / CACHE_DIR / "cache.sqlite")
    rows = db.execute("SELECT key, value FROM entries WHERE kind = 'page-table'").fetchall()
    db.close()
    return {key: json.loads(value)["pages"] for key, value in rows}


def test_a_drop_edit_looks_up_the_reads_of_only_the_pages_that_show_it(
    warm: Path, tmp_path: Path, looked_up: list[tuple[str, int]]
) -> None:
    """The other pages are taken from the page table, as the last build left
    them, without a lookup of their reads or their records."""
    pages = page_table(warm)
    assert len(pages) == len([rel for rel in read_tree(tmp_path / "out") if rel.endswith(".html")])
    edit(drop_file(warm), "Ada talks about sleep.", "Ada talks about sleep, and rest.")
    files, rewritten = rebuilt(warm, tmp_path)
    # Her own page: the others that show her read no body, and her text alone changed.
    assert ("reads", 1) in looked_up
    assert max(n for kind, n in looked_up if kind in ("reads", "page")) == 1
    assert files == full(warm, tmp_path)
    assert {rel for rel in rewritten if rel.endswith(".html")} == {
        "spring-2023/meet-ada/index.html"
    }
    again = page_table(warm)
    assert len(again) == len(pages)
    assert len(again.keys() - pages.keys()) == len(SHOWING_ADA)  # their new reads keys


def test_a_drop_edit_writes_again_only_the_entries_of_the_page_table_it_changed(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table is kept in a few entries by reads key, and one whose pages are
    the same is kept as it is: after an edit, those of the pages it changed."""
    from hubgen.cache import Cache

    put = calls(monkeypatch, Cache, "put", lambda _self, kind, key, _value: (kind, key))
    before = table_shards(warm)
    edit(drop_file(warm), "Ada talks about sleep.", "Ada talks about sleep, and rest.")
    files, _ = rebuilt(warm, tmp_path)
    after = table_shards(warm)
    assert after.keys() == before.keys()
    changed = {key for key, pages in after.items() if pages != before[key]}
    assert {key for kind, key in put if kind == "page-table"} == changed
    # Her page and those that show her (new reads keys), each leaving one entry
    # and joining one, at most.
    assert 0 < len(changed) <= 2 * (1 + len(SHOWING_ADA)) < len(after)
    assert files == full(warm, tmp_path)


def test_a_drop_edit_judges_the_links_of_that_drop_only(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A drop whose links were all right against the same site paths and media
    is not judged again; once a page it links to is gone, every drop is, and
    the broken link is reported (and again on the next build)."""
    from hubgen.resolve import _Checker

    judged = calls(monkeypatch, _Checker, "_markup", lambda _self, markup, _v: markup.refs.home)
    press = warm / "content/pages/press.md"
    press.write_text("---\ntitle: Press\n---\nFor the press.\n", "utf-8")
    edit(drop_file(warm), "Ada talks about sleep.", "Ada talks about sleep ([press](/press/)).")
    build(warm, tmp_path / "out")
    judged.clear()
    other = warm / "content/drops/autumn-2023/2023-10-02-autumn-opens.md"
    assert other.is_file()
    edit(other, "Autumn body.", "Autumn body, edited.")
    files, _ = rebuilt(warm, tmp_path)
    assert [home for home in judged if home.startswith("content/drops/")] == [
        "content/drops/autumn-2023/2023-10-02-autumn-opens.md"
    ]
    assert files == full(warm, tmp_path)
    press.unlink()
    capsys.readouterr()
    for _ in range(2):
        out = tmp_path / "out"
        assert run("build", "--site", warm, "--out", out, "--now", NOW, "--jobs", "2") == 1
        err = capsys.readouterr().err
        assert "meet-ada.md:12:32: error: link to a page that does not exist: /press/" in err


def test_a_drop_edit_rewrites_the_file_hashes_of_its_folder_only(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hashes that vouch for unchanged files are kept a folder at a time:
    the other folders' entries are kept as they are, not written again."""
    from hubgen.cache import Cache

    put = calls(monkeypatch, Cache, "put", lambda _self, kind, key, _value: (kind, key))
    edit(drop_file(warm), "Ada talks about sleep.", "Ada talks about sleep, and rest.")
    files, _ = rebuilt(warm, tmp_path)
    assert {key for kind, key in put if kind == "files"} == {"content/drops/spring-2023"}
    db = sqlite3.connect(warm / CACHE_DIR / "cache.sqlite")
    folders = {key for (key,) in db.execute("SELECT key FROM entries WHERE kind = 'files'")}
    db.close()
    assert {"", "campaigns", "content/drops/spring-2023", "content/creators"} <= folders
    assert files == full(warm, tmp_path)


def test_a_page_table_that_names_other_files_is_not_trusted(
    warm: Path, tmp_path: Path, looked_up: list[tuple[str, int]]
) -> None:
    """Pages whose files are not those the table names (another output's), or
    whose entry is of the wrong shape, are looked up by their reads as before."""
    pages = {
        first: [*entry[:2], int(entry[2]) + 1, *entry[3:]]  # type: ignore[call-overload]
        for first, entry in page_table(warm).items()
    }
    pages[next(iter(pages))] = ["not", "an", "entry"]
    db = sqlite3.connect(warm / CACHE_DIR / "cache.sqlite")
    with db:
        rows = db.execute("SELECT key, value FROM entries WHERE kind = 'page-table'").fetchall()
        for key, value in rows:
            shard = json.loads(value)
            shard["pages"] = {first: pages[first] for first in shard["pages"]}
            query = "UPDATE entries SET value = ? WHERE kind = 'page-table' AND key = ?"
            db.execute(query, (json.dumps(shard), key))
    db.close()
    edit(drop_file(warm), "Ada talks about sleep.", "Ada talks about sleep, and rest.")
    files, rewritten = rebuilt(warm, tmp_path)
    assert ("reads", len(pages)) in looked_up
    assert files == full(warm, tmp_path)
    assert {rel for rel in rewritten if rel.endswith(".html")} == {
        "spring-2023/meet-ada/index.html"
    }


def test_a_page_showing_a_drop_it_does_not_declare_stops_the_build(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Such a page would be taken unchanged when that drop changes."""
    from datetime import datetime

    from hubgen import pipeline
    from hubgen.render import PageJob

    real = PageJob.__init__

    def undeclared(
        self: PageJob, theme: object, template: str, shows: object, make: object
    ) -> None:
        shows = () if template == "topic.html" else shows
        real(self, theme, template, shows, make)  # type: ignore[arg-type]

    monkeypatch.setattr(PageJob, "__init__", undeclared)
    with pytest.raises(RuntimeError, match=r"^topics/\w+/index.html shows a drop"):
        pipeline.build(site, tmp_path / "out", now=datetime.fromisoformat(NOW), jobs=1)
    assert not (tmp_path / "out").exists()


def reads_recorded(site: Path, kind: str = "reads") -> int:
    db = sqlite3.connect(site / CACHE_DIR / "cache.sqlite")
    (count,) = db.execute("SELECT count(*) FROM entries WHERE kind = ?", (kind,)).fetchone()
    db.close()
    return int(count)


def feed_reads_recorded(site: Path) -> int:
    return reads_recorded(site, "feed-reads")


@pytest.mark.parametrize("settle_ns", [0, 2_000_000_000])
def test_pages_read_from_a_file_saved_during_the_build_are_not_recorded(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settle_ns: int
) -> None:
    """Such a file's hash may not name the bytes the page was made from: no page
    showing it records its reads, and the next build makes their views again.
    Files saved just before the build (a fresh clone) are recorded once their
    bytes are found unchanged at its end. In `serve`'s conditions (a `Warm`
    memory), where saving during a build is the norm: a drop parsed by the
    build keeps its text, so the feeds need not read it back (see the next
    test for a build that must)."""
    from datetime import datetime

    from hubgen import pipeline, render, unchanged
    from hubgen.cache import Warm

    monkeypatch.setattr(unchanged.Sources, "SETTLE_NS", settle_ns)
    real = render.render_site

    def saved_meanwhile(*args: object, **kwargs: object) -> object:
        edit(drop_file(site), "Ada talks about sleep.", "Ada talks about sleep, and rest.")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(render, "render_site", saved_meanwhile)
    now = datetime.fromisoformat(NOW)
    pipeline.build(site, tmp_path / "out", now=now, jobs=2, warm=Warm())
    pages = [rel for rel in read_tree(tmp_path / "out") if rel.endswith(".html")]
    showing_ada = 5  # its page, campaign, topic, creator, and the home page (see above)
    assert reads_recorded(site) == len(pages) - showing_ada
    assert len(page_table(site)) == len(pages) - showing_ada
    assert feed_reads_recorded(site) == 1  # the autumn campaign's: the others show Ada
    monkeypatch.setattr(render, "render_site", real)
    files, _ = rebuilt(site, tmp_path)
    assert b"Ada talks about sleep, and rest." in files["spring-2023/meet-ada/index.html"]
    assert files == full(site, tmp_path)


def test_a_drop_the_cache_knew_saved_during_the_build_keeps_its_pages_recorded(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unlike a file the build read, a drop whose record the cache knew by its
    hash was not read: its pages were made from what that hash names, and are
    recorded under it whatever the file holds by the end. The next build finds
    the file changed by its stats; put back as it was, it is the same drop."""
    from datetime import datetime

    from hubgen import pipeline, render

    ada = drop_file(warm)
    before = ada.read_text("utf-8")
    edit(warm / "content/drops/spring-2023/2023-05-01-welcome.md", "Hello.", "Hello again.")
    real = render.render_site

    def saved_meanwhile(*args: object, **kwargs: object) -> object:
        edit(ada, "Ada talks about sleep.", "Ada talks about sleep, and rest.")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(render, "render_site", saved_meanwhile)
    built = pipeline.build(warm, tmp_path / "out", now=datetime.fromisoformat(NOW), jobs=2)
    assert 0 < built.rendered
    monkeypatch.setattr(render, "render_site", real)
    pages = [rel for rel in read_tree(tmp_path / "out") if rel.endswith(".html")]
    assert reads_recorded(warm) == len(pages) == len(page_table(warm))
    assert b"sleep, and rest." not in read_tree(tmp_path / "out")["spring-2023/meet-ada/index.html"]

    files, _ = rebuilt(warm, tmp_path)
    assert b"Ada talks about sleep, and rest." in files["spring-2023/meet-ada/index.html"]
    assert files == full(warm, tmp_path)
    ada.write_text(before, "utf-8")
    files, rewritten = rebuilt(warm, tmp_path)
    assert b"sleep, and rest." not in files["spring-2023/meet-ada/index.html"]
    assert "spring-2023/meet-ada/index.html" in rewritten
    assert files == full(warm, tmp_path)


def test_a_body_edit_renders_only_the_pages_that_read_the_body(
    warm: Path, tmp_path: Path, made: list[str]
) -> None:
    """The default theme's lists show no drop's body: after an edit of Ada's
    text alone only her page is looked at and rendered, the campaign, topic,
    creator and home pages that list her taken as they were (see `bodyread`),
    found by the key their reads had before. Likewise after a second such edit;
    an edit of her title shows in the lists, which are made again."""
    from datetime import datetime

    from hubgen import pipeline

    now = datetime.fromisoformat(NOW)
    for old, new in [
        ("talks about sleep", "talks about rest"),
        ("talks about rest", "talks of naps"),
    ]:
        edit(drop_file(warm), old, new)
        assert pipeline.build(warm, tmp_path / "out", now=now, jobs=2).rendered == 1
        assert made == ["spring-2023/meet-ada/index.html"]
        made.clear()
        files = read_tree(tmp_path / "out")
        assert f"Ada {new}.".encode() in files["spring-2023/meet-ada/index.html"]
        assert files == full(warm, tmp_path)
        made.clear()  # the full build's: every page's
    edit(drop_file(warm), "title: Meet Ada", "title: Meet Ada again")
    assert pipeline.build(warm, tmp_path / "out", now=now, jobs=2).rendered == 5
    assert sorted(made) == SHOWING_ADA
    assert read_tree(tmp_path / "out") == full(warm, tmp_path)


def test_body_edits_saved_just_before_each_build_find_the_lists_as_they_were(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made: list[str]
) -> None:
    """As an editor saves a drop just before each build: its stats are too
    fresh to vouch for its bytes next time, but the hash each build used is
    recorded still, so every edit of the text alone finds the lists unchanged."""
    from datetime import datetime

    from hubgen import pipeline, unchanged

    monkeypatch.setattr(unchanged.Sources, "SETTLE_NS", 2_000_000_000)
    now = datetime.fromisoformat(NOW)
    edits = [
        ("talks about sleep", "talks about rest"),
        ("talks about rest", "talks of naps"),
        ("talks of naps", "talks about naps"),
    ]
    for old, new in edits:
        edit(drop_file(warm), f"Ada {old}", f"Ada {new}")
        assert pipeline.build(warm, tmp_path / "out", now=now, jobs=2).rendered == 1
        assert made == ["spring-2023/meet-ada/index.html"]
        made.clear()
    assert read_tree(tmp_path / "out") == full(warm, tmp_path)


def test_lists_that_show_a_teaser_of_each_body_are_rendered_again_after_a_body_edit(
    site: Path, tmp_path: Path
) -> None:
    """A theme whose cards show the start of each drop's text: the pages that
    list Ada read her body, so an edit of it renders them all again."""
    from datetime import datetime

    from hubgen import pipeline

    default = FIXTURES.parents[1] / "themes/default/templates/_drop_card.html"
    card = site / "themes/default/templates/_drop_card.html"
    card.parent.mkdir(parents=True)
    teaser = '<p class="teaser">{{ drop.body|striptags|truncate(30) }}</p></article>'
    card.write_text(default.read_text("utf-8").replace("</article>", teaser, 1), "utf-8")
    now = datetime.fromisoformat(NOW)
    pipeline.build(site, tmp_path / "out", now=now, jobs=2)
    edit(drop_file(site), "Ada talks about sleep.", "Ada speaks of sleep.")
    lists = ["spring-2023/index.html", "topics/sleep/index.html", "creators/ada-example/index.html"]
    assert pipeline.build(site, tmp_path / "out", now=now, jobs=2).rendered == 5
    files = read_tree(tmp_path / "out")
    assert all(b"Ada speaks of sleep" in files[page] for page in [*lists, "index.html"])
    assert files == full(site, tmp_path)


def test_a_theme_can_write_a_body_as_json_in_a_full_build_and_a_rebuild(
    site: Path, tmp_path: Path
) -> None:
    """`{{ drop.body|tojson }}` (for a script's data, say) writes the body's HTML
    as a JSON string, whether the build holds it compressed (a full build) or
    as it was cached (a rebuild), and counts as reading it."""
    default = FIXTURES.parents[1] / "themes/default/templates/drop.html"
    page = site / "themes/default/templates/drop.html"
    page.parent.mkdir(parents=True)
    data = '<script type="application/json">{{ drop.body|tojson }}</script></article>'
    page.write_text(default.read_text("utf-8").replace("</article>", data, 1), "utf-8")
    build(site, tmp_path / "out")
    ada = "spring-2023/meet-ada/index.html"
    assert b'"\\u003cp\\u003eAda talks about sleep.' in read_tree(tmp_path / "out")[ada]
    edit(drop_file(site), "Ada talks about sleep.", "Ada talks about rest.")
    files, _ = rebuilt(site, tmp_path)
    assert b'"\\u003cp\\u003eAda talks about rest.' in files[ada]
    assert files == full(site, tmp_path)


def test_a_creator_edit_equals_a_full_build(warm: Path, tmp_path: Path) -> None:
    creator = sorted((warm / "content/creators").glob("*.md"))[0]
    edit(creator, "name: ", "name: Renamed ")
    files, rewritten = rebuilt(warm, tmp_path)
    assert files == full(warm, tmp_path)
    assert any(rel.endswith(".html") for rel in rewritten)


def test_a_template_edit_equals_a_full_build(warm: Path, tmp_path: Path) -> None:
    default = FIXTURES.parents[1] / "themes/default/templates/drop.html"
    override = warm / "themes/default/templates/drop.html"
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text(
        default.read_text("utf-8").replace("</article>", "<p>Edited template.</p></article>", 1),
        "utf-8",
    )
    files, rewritten = rebuilt(warm, tmp_path)
    assert files == full(warm, tmp_path)
    drop_pages = {rel for rel, data in files.items() if b"Edited template." in data}
    assert drop_pages and rewritten == drop_pages  # only pages made from drop.html


def test_the_templates_each_template_names_are_kept_for_the_next_build(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild parses no template to find the templates it extends, includes
    or imports (for the pages' keys); an edited one is parsed afresh."""
    from jinja2 import Environment

    parsed: list[str] = []
    parse = Environment.parse

    def counted(self: Environment, source: str, *a: object, **k: object) -> object:
        parsed.append(source)
        return parse(self, source, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(Environment, "parse", counted)
    edit(drop_file(warm), "title: ", "title: Edited ")
    files, _ = rebuilt(warm, tmp_path)
    assert parsed == []
    assert any(b"Edited " in data for data in files.values())
    assert files == full(warm, tmp_path)

    parsed.clear()
    override = warm / "themes/default/templates/drop.html"
    override.parent.mkdir(parents=True, exist_ok=True)
    default = FIXTURES.parents[1] / "themes/default/templates/drop.html"
    override.write_text(default.read_text("utf-8").replace("</article>", "<p>New.</p></article>"))
    files, _ = rebuilt(warm, tmp_path)
    assert parsed == [override.read_text("utf-8")]
    assert files == full(warm, tmp_path)


def test_a_rebuild_compiles_only_the_templates_of_the_pages_it_renders(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planning a page finds its template's file without compiling it."""
    from jinja2 import Environment

    compiled: list[str] = []
    load = Environment._load_template

    def counted(self: Environment, name: str, globals: object) -> object:
        compiled.append(name)
        return load(self, name, globals)  # type: ignore[arg-type]

    monkeypatch.setattr(Environment, "_load_template", counted)
    edit(drop_file(warm), "Ada talks about sleep", "Ada talks about sleep again")
    files, rewritten = rebuilt(warm, tmp_path)
    assert "spring-2023/meet-ada/index.html" in rewritten and "creators/index.html" not in rewritten
    assert "drop.html" in compiled and "creators.html" not in compiled
    assert files == full(warm, tmp_path)


def test_kept_template_names_of_the_wrong_shape_are_found_again(warm: Path, tmp_path: Path) -> None:
    db = sqlite3.connect(warm / CACHE_DIR / "cache.sqlite")
    with db:
        assert db.execute("SELECT COUNT(*) FROM entries WHERE kind = 'template-refs'").fetchone()[0]
        db.execute("UPDATE entries SET value = '[1, 2]' WHERE kind = 'template-refs'")
    db.close()
    edit(drop_file(warm), "title: ", "title: Edited ")
    files, _ = rebuilt(warm, tmp_path)
    assert files == full(warm, tmp_path)


def test_media_copied_before_are_taken_again_without_reading_them(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild knows each media and static file by its source's hash (vouched
    for by its stats) and what it copied and checked then: it reads no SVG to
    check it for script and compares no copy byte for byte. A file edited
    since, even to the same size, is copied anew."""
    from hubgen import write

    svgs: list[str] = []
    compared: list[object] = []
    opener, cmp = Path.open, write.filecmp.cmp

    def counted_open(self: Path, *args: object, **kwargs: object) -> object:
        if self.suffix == ".svg" and self.is_relative_to(warm / "content"):
            svgs.append(self.name)
        return opener(self, *args, **kwargs)  # type: ignore[arg-type]

    def counted_cmp(a: object, b: object, shallow: bool = True) -> bool:
        compared.append(a)
        return cmp(a, b, shallow)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", counted_open)
    monkeypatch.setattr(write.filecmp, "cmp", counted_cmp)
    edit(drop_file(warm), "title: ", "title: Edited ")
    files, rewritten = rebuilt(warm, tmp_path)
    assert svgs == [] and compared == []
    assert not any(rel.startswith("media/") for rel in rewritten)
    assert files == full(warm, tmp_path)

    svgs.clear()
    ada = warm / "content/media/ada.svg"
    edit(ada, 'fill="#2f6f5e"', 'fill="#5e2f6f"')  # the same size
    files, rewritten = rebuilt(warm, tmp_path)
    assert "ada.svg" in svgs  # checked for script again
    assert "media/ada.svg" in rewritten and b"#5e2f6f" in files["media/ada.svg"]
    assert files == full(warm, tmp_path)


def test_a_build_during_which_a_file_was_saved_is_not_recorded_up_to_date(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file's hash, taken before, does not name the bytes copied: were the
    copy recorded under it (see the test above), or the build recorded as up to
    date, putting those bytes back would leave the copy of the others in place."""
    from hubgen import produce

    ada = warm / "content/media/ada.svg"
    edit(ada, 'fill="#2f6f5e"', 'fill="#5e2f6f"')
    edited = ada.read_bytes()
    real = produce._write_others

    def saved_meanwhile(*args: object, **kwargs: object) -> None:
        if ada.read_bytes() == edited:
            edit(ada, 'fill="#5e2f6f"', 'fill="#6f5e2f"')
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(produce, "_write_others", saved_meanwhile)
    files, _ = rebuilt(warm, tmp_path)
    assert b"#6f5e2f" in files["media/ada.svg"]  # copied as it was by then
    monkeypatch.setattr(produce, "_write_others", real)
    ada.write_bytes(edited)
    files, _ = rebuilt(warm, tmp_path)
    assert files["media/ada.svg"] == edited
    assert files == full(warm, tmp_path)


def test_an_svg_given_script_after_a_build_is_refused(
    warm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(warm / "content/media/ada.svg", "<circle", '<circle onload="alert(1)"')
    capsys.readouterr()
    code = run("build", "--site", warm, "--out", tmp_path / "out", "--now", NOW)
    assert code != 0
    assert "content/media/ada.svg:1:" in capsys.readouterr().err
    assert b"alert" not in (tmp_path / "out/media/ada.svg").read_bytes()


def test_a_build_that_made_no_page_still_looks_for_files_saved_meanwhile(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A draft's edit makes no page; the draft saved again while that build ran
    still keeps it from being recorded as up to date, and so from being found
    so once the draft is put back as the build hashed it."""
    from datetime import datetime

    from hubgen import pipeline, render

    draft = warm / "content/drops/spring-2023/2023-05-06-draft-idea.md"
    edit(draft, "title: ", "title: Edited ")
    real = render.render_site

    def saved_meanwhile(*args: object, **kwargs: object) -> object:
        edit(draft, "title: Edited ", "title: Edited again ")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(render, "render_site", saved_meanwhile)
    now = datetime.fromisoformat(NOW)
    built = pipeline.build(warm, tmp_path / "out", now=now, jobs=1)
    assert built.rendered == 0 and not built.unchanged
    monkeypatch.setattr(render, "render_site", real)
    edit(draft, "title: Edited again ", "title: Edited ")  # as the build hashed it
    assert not pipeline.build(warm, tmp_path / "out", now=now, jobs=1).unchanged
    assert pipeline.build(warm, tmp_path / "out", now=now, jobs=1).unchanged


def test_a_template_edit_reads_the_drops_html_back_in_one_pass(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every drop page is rendered again, each with its body's HTML from the
    cache (its record holds none): read for a chunk of pages at once, not with
    one query per drop."""
    from hubgen.cache import Cache

    passes: list[int] = []
    real = Cache.decoded

    def counted(self: Cache, kind: str, keys: object, decode: object) -> object:
        keys = list(keys)  # type: ignore[call-overload]
        if kind == "drop-html":
            passes.append(len(keys))
        return real(self, kind, keys, decode)  # type: ignore[arg-type]

    monkeypatch.setattr(Cache, "decoded", counted)
    default = FIXTURES.parents[1] / "themes/default/templates/drop.html"
    override = warm / "themes/default/templates/drop.html"
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text(default.read_text("utf-8").replace("</article>", "<p>x</p></article>"))
    files, _rewritten = rebuilt(warm, tmp_path)
    assert files == full(warm, tmp_path)
    published = sum(1 for rel in files if rel.count("/") == 2 and "-2023/" in rel)
    assert passes == [published] and published > 1  # one chunk of pages here: one pass


def test_the_pages_of_a_cold_build_are_known_again_when_all_are_looked_at(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made: list[str]
) -> None:
    """A cold build holds each drop's body compressed (`packed`), a rebuild as
    the HTML it reads back: a page's fingerprint is the same either way, so a
    change that makes every page be looked at, and none differ, renders none.
    One body is long, fingerprinted by its hash (see `packed`)."""
    from hubgen.produce import _Output

    long = "\n\nWhat helps, and where to find it — day or night." * 40
    drop_file(site).write_text(drop_file(site).read_text("utf-8") + long, "utf-8")
    build(site, tmp_path / "out")

    rendered: list[str] = []
    real = _Output.render

    def counted(self: _Output, todo: list[tuple[str, object, object]], *args: object) -> None:
        rendered.extend(out for out, _job, _context in todo)
        real(self, todo, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(_Output, "render", counted)
    (site / "site.yaml").write_text(
        (site / "site.yaml").read_text("utf-8") + "# a comment: no page changes\n", "utf-8"
    )
    files, rewritten = rebuilt(site, tmp_path)
    drop_pages = [rel for rel in files if rel.count("/") == 2 and "-2023/" in rel]
    assert drop_pages and set(drop_pages) <= set(made)  # looked at, bodies and all
    assert rendered == [] and rewritten == set()
    assert files == full(site, tmp_path)


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """For each build of the test, the output files whose links the link check was given."""
    from hubgen import linkcheck

    given: list[set[str]] = []
    real = linkcheck.check_links

    def counted(links: dict[str, list[str]], *args: object) -> object:
        given.append(set(links))
        return real(links, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(linkcheck, "check_links", counted)
    return given


def test_pages_taken_from_the_previous_output_are_not_link_checked_again(
    warm: Path, tmp_path: Path, checked: list[set[str]]
) -> None:
    """Their links all named files of the previous output (it was checked), and
    the new output still holds every one of those: only the pages rendered
    again, and the feeds, calendars and sitemap that changed, are checked."""
    edit(drop_file(warm), "Ada talks about sleep.", "Ada talks about rest.")
    files, rewritten = rebuilt(warm, tmp_path)
    assert files == full(warm, tmp_path)
    pages = {rel for rel in files if rel.endswith(".html")}
    # Rendered again: her own page (the lists that show her read no body: see bodyread)
    assert checked[0] & pages == {"spring-2023/meet-ada/index.html"}
    assert "feed.xml" in checked[0]
    others = {rel for rel in files if not rel.endswith(".html")}
    assert {"autumn-2023/feed.xml", "sitemap.xml"} <= others - checked[0]  # as they were
    assert rewritten & pages == {"spring-2023/meet-ada/index.html"}
    assert len(pages) > 15


@pytest.mark.parametrize("links", ["cached", "lost meanwhile"])
def test_a_page_taken_unchanged_that_links_to_a_file_now_gone_is_reported(
    warm: Path,
    tmp_path: Path,
    checked: list[set[str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    links: str,
) -> None:
    """A theme's link to a page that the new output no longer holds: the pages
    that show it did not change, but the previous output's files are not all
    there any more, so every page's links are checked (read from the cache,
    or from the files themselves if another hubgen dropped them meanwhile)."""
    from hubgen.cache import Cache

    default = FIXTURES.parents[1] / "themes/default/templates/home.html"
    override = warm / "themes/default/templates/home.html"
    override.parent.mkdir(parents=True, exist_ok=True)
    link = """<a href="{{ url('/press/') }}">Press</a>{% endblock %}"""
    override.write_text(default.read_text("utf-8").replace("{% endblock %}", link, 1), "utf-8")
    press = warm / "content/pages/press.md"
    press.write_text("---\ntitle: Press\n---\nFor the press.\n", "utf-8")
    build(warm, tmp_path / "out")
    press.unlink()
    if links == "lost meanwhile":
        real = Cache.decoded

        def lost(self: Cache, kind: str, keys: object, decode: object) -> object:
            found = real(self, kind, keys, decode)  # type: ignore[arg-type]
            return {} if kind == "page-links" else found

        monkeypatch.setattr(Cache, "decoded", lost)
    capsys.readouterr()
    out = tmp_path / "out"
    before = read_tree(out)
    assert run("build", "--site", warm, "--out", out, "--now", NOW, "--jobs", "2") == 1
    err = capsys.readouterr().err
    assert "the built file index.html links to /hub/press/, which is not in the output" in err
    assert "index.html" in checked[-1] and read_tree(out) == before
    assert "autumn-2023/feed.xml" in checked[-1]  # as it was, but checked again too


def test_a_site_yaml_edit_equals_a_full_build(warm: Path, tmp_path: Path) -> None:
    edit(warm / "site.yaml", "title: ", "title: Renamed ")
    files, rewritten = rebuilt(warm, tmp_path)
    assert files == full(warm, tmp_path)
    assert all(b"Renamed " in files[rel] for rel in rewritten if rel.endswith(".html"))


def test_a_schedule_boundary_passing_equals_a_full_build(warm: Path, tmp_path: Path) -> None:
    later = "2023-05-20T12:00"  # drops scheduled between the 10th and the 20th go live
    files, rewritten = rebuilt(warm, tmp_path, now=later)
    assert files == full(warm, tmp_path, now=later)
    assert rewritten  # new drop pages, lists and feeds


LATER = "2023-05-15T09:30"  # "Later drop still hidden" has just gone live


def test_a_drop_going_live_looks_again_only_at_the_pages_that_read_about_it(
    warm: Path, tmp_path: Path, made: list[str]
) -> None:
    """CI's hourly build: each page recorded what it read of the published set
    (a link's target being published, a list, a count, the next drop's date),
    so only the pages for which one of those changed are looked at again."""
    files, _ = rebuilt(warm, tmp_path, now=LATER)
    assert sorted(made) == [
        "creators/ben-example/index.html",  # a new page: only the new drop credits Ben
        "creators/index.html",  # lists Ben now
        "index.html",  # the latest drops
        "spring-2023/index.html",  # lists it, links to it, and has no next drop now
        "spring-2023/later-drop/index.html",
        "spring-2023/welcome/index.html",  # its body links to the new drop
        "topics/anxiety/index.html",  # lists the welcome drop, whose view changed so
        "topics/future-topic/index.html",
        "topics/index.html",  # the new topic, and the counts
    ]
    assert b'href="/hub/spring-2023/later-drop/"' in files["spring-2023/welcome/index.html"]
    assert files == full(warm, tmp_path, now=LATER)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("2023-05-01T12:00", "2023-05-10T12:00"),  # drops go live, one expires
        ("2023-05-10T12:00", "2023-05-02T12:00"),  # back: some are unpublished again
        ("2023-05-10T12:00", "2023-06-02T12:00"),  # the campaign ends, the next starts
        ("2023-06-02T12:00", "2023-10-02T12:00"),
    ],
)
def test_the_published_set_changing_equals_a_full_build(
    site: Path, tmp_path: Path, before: str, after: str
) -> None:
    build(site, tmp_path / "out", now=before)
    files, _ = rebuilt(site, tmp_path, now=after)
    assert files == full(site, tmp_path, now=after)


def test_a_preview_after_a_drop_goes_live_equals_a_full_one(site: Path, tmp_path: Path) -> None:
    """A preview lists every drop, labelled: going live changes only a label."""
    build(site, tmp_path / "out", "--preview")
    out = tmp_path / "out"
    build(site, out, "--preview", now=LATER)
    build(site, tmp_path / "full", "--preview", "--no-cache", now=LATER)
    page = read_tree(out)["spring-2023/later-drop/index.html"]
    assert b"Scheduled for" not in page
    assert read_tree(out) == read_tree(tmp_path / "full")


def test_moving_a_scheduled_drop_changes_its_campaigns_next_update(
    warm: Path, tmp_path: Path, made: list[str]
) -> None:
    """The drop is on no page yet, but its campaign's page reads its date."""
    edit(
        warm / "content/drops/spring-2023/2023-05-15-later-drop.md",
        "publish_at: 2023-05-15 09:00",
        "publish_at: 2023-05-18 09:00",
    )
    files, _ = rebuilt(warm, tmp_path)
    assert made == ["spring-2023/index.html"]
    assert b"18 May 2023" in files["spring-2023/index.html"]
    assert files == full(warm, tmp_path)


def test_a_link_to_a_drop_that_is_unpublished_again_is_dropped(site: Path, tmp_path: Path) -> None:
    """A page made while the drop it links to was public records that; when the
    drop expires the link must go, though nothing the page shows changed."""
    edit(
        site / "content/drops/spring-2023/2023-05-15-later-drop.md",
        "publish_at: 2023-05-15 09:00",
        "publish_at: 2023-05-15 09:00\nexpires_at: 2023-05-20",
    )
    build(site, tmp_path / "out", now=LATER)
    welcome = tmp_path / "out/spring-2023/welcome/index.html"
    assert b'href="/hub/spring-2023/later-drop/"' in welcome.read_bytes()
    files, _ = rebuilt(site, tmp_path, now="2023-05-21T12:00")
    assert b"later-drop" not in files["spring-2023/welcome/index.html"]
    assert files == full(site, tmp_path, now="2023-05-21T12:00")


def test_views_that_read_the_published_set_unnoted_stop_the_build(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page's views read it through `Views.fact`, which notes each read; a
    read that went around it could leave the page stale when that changes."""
    from datetime import datetime

    from hubgen import pipeline
    from hubgen.views import Views

    real = Views.topic

    def unnoted(self: Views, slug: str) -> object:
        self.pub.topics  # noqa: B018 (the read is the point)
        return real(self, slug)

    monkeypatch.setattr(Views, "topic", unnoted)
    with pytest.raises(RuntimeError, match="read the published set through Views.fact only"):
        pipeline.build(site, tmp_path / "out", now=datetime.fromisoformat(NOW), jobs=1)
    assert not (tmp_path / "out").exists()


def test_an_event_edit_equals_a_full_build_and_changes_its_calendar(
    warm: Path, tmp_path: Path
) -> None:
    """Calendars and feeds of the same content come from the cache: an edit of
    what they show must still reach them."""
    edit(
        warm / "content/drops/spring-2023/2023-05-08-live-chat.md",
        "location: Online",
        "location: Town hall",
    )
    files, rewritten = rebuilt(warm, tmp_path)
    assert files == full(warm, tmp_path)
    assert "spring-2023/calendar.ics" in rewritten
    assert b"LOCATION:Town hall" in files["spring-2023/calendar.ics"]
    assert b"Town hall" in files["feed.xml"]


def test_unchanged_calendars_feeds_and_sitemaps_are_taken_from_the_cache(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writing out a calendar, a feed or the sitemap is the slow part of making
    one: those of the same content are not written out again."""
    from datetime import datetime

    from hubgen import feeds, ical, pipeline

    made: list[str] = []
    real_ical, real_xml = ical._ical, feeds.ET.tostring

    def counted_ical(spec: object) -> bytes:
        made.append("calendar")
        return real_ical(spec)  # type: ignore[arg-type]

    def counted_xml(element: ET.Element, *args: object, **kwargs: object) -> bytes:
        made.append("feed" if element.tag == "feed" else "sitemap")
        return real_xml(element, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ical, "_ical", counted_ical)
    monkeypatch.setattr(feeds.ET, "tostring", counted_xml)
    now = datetime.fromisoformat(NOW)
    pipeline.build(warm, tmp_path / "other-out", now=now, jobs=1)  # a build, not "up to date"
    assert made == []
    path = warm / "content/drops/spring-2023/2023-05-08-live-chat.md"
    path.write_text(path.read_text("utf-8") + "\nA second paragraph.\n", "utf-8")
    pipeline.build(warm, tmp_path / "other-out", now=now, jobs=1)
    assert "calendar" not in made  # the body is not in the calendar (its summary is)
    assert "feed" in made  # it is in the feeds
    assert "sitemap" not in made  # no page came or went, no date changed
    assert read_tree(tmp_path / "other-out") == full(warm, tmp_path)  # (made counts on here)


UNCHANGED_BY_A_BODY_EDIT = [
    "autumn-2023/feed.xml",  # the other campaign's feed
    "autumn-2023/calendar.ics",
    "spring-2023/calendar.ics",  # (a body is not in the calendar)
    "sitemap.xml",
]


def test_unchanged_feeds_calendars_and_sitemaps_are_taken_from_the_output_unread(
    warm: Path, tmp_path: Path
) -> None:
    """A feed, calendar or sitemap the cache holds from an earlier build is the
    previous output's file, taken as it is, when that file is still the one
    written from those bytes (by its size and time): neither is read. So the
    cache's copies here, changed behind the build's back, are not what the
    output gets; the files made anew (the feeds that show the edited drop)
    are."""
    db = sqlite3.connect(warm / CACHE_DIR / "cache.sqlite")
    with db:
        db.execute(
            "UPDATE entries SET value = '\"not read\"' "
            "WHERE kind IN ('feed', 'calendar', 'sitemap')"
        )
    db.close()
    path = warm / "content/drops/spring-2023/2023-05-08-live-chat.md"
    path.write_text(path.read_text("utf-8") + "\nA second paragraph.\n", "utf-8")
    files, rewritten = rebuilt(warm, tmp_path)
    assert files == full(warm, tmp_path)
    assert {"feed.xml", "spring-2023/feed.xml"} <= rewritten
    assert rewritten.isdisjoint(UNCHANGED_BY_A_BODY_EDIT)


def test_a_feed_changed_in_the_output_is_written_again_from_the_cache(
    warm: Path, tmp_path: Path
) -> None:
    """Where the previous output's file is not the one written (edited there
    by hand, here), the build does not take it: it reads the cache's copy,
    and writes that in its place."""
    written = read_tree(tmp_path / "out")
    for rel in UNCHANGED_BY_A_BODY_EDIT:
        (tmp_path / "out" / rel).write_bytes(b"edited by hand")
    path = warm / "content/drops/spring-2023/2023-05-08-live-chat.md"
    path.write_text(path.read_text("utf-8") + "\nA second paragraph.\n", "utf-8")
    files, rewritten = rebuilt(warm, tmp_path)
    assert files == full(warm, tmp_path)
    assert set(UNCHANGED_BY_A_BODY_EDIT) <= rewritten
    assert {rel: files[rel] for rel in UNCHANGED_BY_A_BODY_EDIT} == {
        rel: written[rel] for rel in UNCHANGED_BY_A_BODY_EDIT
    }


def test_a_file_the_cache_lost_during_the_build_stops_it_with_the_output_untouched(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A feed the cache held when the build found it, and no longer holds when
    it must be read (another hubgen saved the cache meanwhile), stops the
    build, nothing written; `check` says the same in its own words."""
    from hubgen.cache import Cache

    out = tmp_path / "out"
    (out / "autumn-2023/feed.xml").write_bytes(b"edited by hand")  # so it must be read
    before = read_tree(out)
    monkeypatch.setattr(Cache, "contents", lambda self, file: file.data)  # the unread: gone
    path = warm / "content/drops/spring-2023/2023-05-08-live-chat.md"
    path.write_text(path.read_text("utf-8") + "\nA second paragraph.\n", "utf-8")
    capsys.readouterr()
    assert run("build", "--site", warm, "--out", out, "--now", NOW, "--jobs", "2") == 1
    err = capsys.readouterr().err
    assert "autumn-2023/feed.xml:1:1: error: the build cache changed" in err
    assert "build again" in err
    assert read_tree(out) == before
    assert run("check", "--site", warm, "--now", NOW) == 1
    assert "check again" in capsys.readouterr().err


def test_a_page_file_removed_during_the_build_is_made_again(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unchanged pages are taken by the output's listing from before the build
    (`write.Claim.files`), not a look at each file; one removed since is not
    lost. Where the spare holds that very file (a page that did not change in
    the last build either; here the spare is made from the output as the build
    begins, this being the first after a cold one: `write._made_spare`), it
    stays; where it does not, the page is made again."""
    from hubgen import render

    real = render.render_site
    removed: list[Path] = []

    def removed_meanwhile(*args: object, **kwargs: object) -> object:
        removed[-1].unlink()
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(render, "render_site", removed_meanwhile)
    removed.append(tmp_path / "out/autumn-2023/index.html")
    edit(drop_file(warm), "Ada talks about sleep.", "Ada talks about sleep, and rest.")
    files, rewritten = rebuilt(warm, tmp_path)
    assert "autumn-2023/index.html" in files and "autumn-2023/index.html" not in rewritten
    # Ada's page changed in that build: the spare's is the one before.
    removed.append(tmp_path / "out/spring-2023/meet-ada/index.html")
    draft = warm / "content/drops/spring-2023/2023-05-06-draft-idea.md"
    draft.write_text(draft.read_text("utf-8") + "\nOne more line.\n")
    files, rewritten = rebuilt(warm, tmp_path)
    assert rewritten == {"spring-2023/meet-ada/index.html"}
    monkeypatch.setattr(render, "render_site", real)
    assert files == full(warm, tmp_path)


def test_feeds_that_do_not_show_an_edited_drop_are_not_even_worked_out(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed is known by what it read (the drops it shows, everything else
    as hashes), like a page: only the feeds showing the edited drop are
    worked out again, and with nothing edited, none is."""
    from hubgen import feeds

    planned = calls(monkeypatch, feeds, "_plan", lambda _views, spec: spec.path)
    build(warm, tmp_path / "other-out")  # another output: a build, not "up to date"
    assert planned == []
    edit(drop_file(warm), "Ada talks about sleep.", "Ada talks about sleep, and rest.")
    files, _ = rebuilt(warm, tmp_path)
    assert sorted(planned) == ["/feed.xml", "/spring-2023/feed.xml"]
    assert b"Ada talks about sleep, and rest." in files["spring-2023/feed.xml"]
    assert files == full(warm, tmp_path)


def test_one_process_and_two_build_the_same_bytes(site: Path, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert (
        run("build", "--site", site, "--out", one, "--now", NOW, "--jobs", "1", "--no-cache") == 0
    )
    assert (
        run("build", "--site", site, "--out", two, "--now", NOW, "--jobs", "2", "--no-cache") == 0
    )
    assert read_tree(one) == read_tree(two)


def test_creators_parsed_by_the_drops_workers_are_as_one_process_makes_them(
    site: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Creators the cache does not know are parsed by the drops' workers (here
    forked even for a site this small): the pages, the problems told and the
    cache entries made from what they send back are one process's."""
    from hubgen import validate

    monkeypatch.setattr(workers, "MIN_PER_WORKER", 1)
    one, two = tmp_path / "one", tmp_path / "two"
    args = ("--site", site, "--now", NOW)
    assert run("build", *args, "--out", one, "--jobs", "1", "--no-cache") == 0
    build(site, two)
    assert read_tree(two) == read_tree(one)
    read = calls(monkeypatch, validate, "read_markdown", lambda _root, path, _diags: path)
    build(site, tmp_path / "three")  # another output: kept records, no creator parsed
    assert read == []
    edit(site / "content/creators/ben-example.md", "name: Ben Example", "name: Ben\npronuns: he")
    capsys.readouterr()
    told = []
    for jobs in ("1", "2"):
        bad = tmp_path / f"bad{jobs}"
        assert run("build", *args, "--out", bad, "--jobs", jobs, "--no-cache") == 1
        told.append(capsys.readouterr().err)
    assert "content/creators/ben-example.md:3:1: error" in told[0]
    assert told[1] == told[0]


def _render_chunks(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, chunk: int, chunks: int
) -> list[int]:
    """The number of pages in each chunk a cold build over two processes
    rendered, with these `produce.CHUNK` and `CHUNKS` (forked even for a few
    pages); its output is checked against one process doing every page at once."""
    from hubgen import produce

    one, chunked = tmp_path / "one", tmp_path / "chunked"
    assert run("build", "--site", site, "--out", one, "--now", NOW, "--jobs", "1") == 0
    sizes: list[int] = []
    each = workers.each

    def counted(task, items, *, jobs):  # type: ignore[no-untyped-def]
        if task is produce._render_page:
            sizes.append(len(items))
        return each(task, items, jobs=jobs)

    monkeypatch.setattr(produce, "CHUNK", chunk)
    monkeypatch.setattr(produce, "CHUNKS", chunks)
    monkeypatch.setattr(workers, "MIN_PER_WORKER", 1)
    monkeypatch.setattr(workers, "each", counted)
    shutil.rmtree(site / CACHE_DIR)  # render every page again
    assert run("build", "--site", site, "--out", chunked, "--now", NOW, "--jobs", "2") == 0
    assert read_tree(chunked) == read_tree(one)
    return sizes


def test_pages_rendered_a_few_at_a_time_by_workers_are_the_same_bytes(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large site's pages are made and rendered a chunk at a time, each chunk
    by newly forked workers: here chunks of three pages."""
    sizes = _render_chunks(site, tmp_path, monkeypatch, chunk=3, chunks=1000)
    assert sizes.count(3) >= sum(sizes) // 3 - 1  # chunk after chunk, not all at once


def test_a_larger_site_renders_larger_chunks_not_more_of_them(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each chunk costs a fork, and a fork costs more as the site grows: at
    most `CHUNKS` chunks (here three, of at least two pages), the same bytes."""
    sizes = _render_chunks(site, tmp_path, monkeypatch, chunk=2, chunks=3)
    assert sum(sizes) > 6  # more pages than three chunks of two
    assert len(sizes) == 3
    assert sizes[0] == sizes[1] == -(-sum(sizes) // 3)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("<p>\n{{ no.such.thing }}</p>\n", "template failed: 'no' is undefined"),
        ("<p>\n{{ drop.title / 2 }}</p>\n", "template failed: TypeError: unsupported operand"),
    ],
)
def test_a_page_that_fails_in_a_worker_stops_the_build_and_its_workers(
    site: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    template: str,
    expected: str,
) -> None:
    from multiprocessing import active_children

    from hubgen import produce

    monkeypatch.setattr(produce, "CHUNK", 3)
    monkeypatch.setattr(workers, "MIN_PER_WORKER", 1)
    templates = site / "themes/default/templates"
    templates.mkdir(parents=True)
    (templates / "drop.html").write_text(template)
    assert run("build", "--site", site, "--out", tmp_path / "out", "--now", NOW, "--jobs", "2") == 1
    assert f"themes/default/templates/drop.html:2:1: error: {expected}" in capsys.readouterr().err
    assert active_children() == []
    assert not (tmp_path / "out").exists()


def test_no_cache_writes_no_cache_folder(site: Path, tmp_path: Path) -> None:
    build(site, tmp_path / "out", "--no-cache")
    assert not (site / CACHE_DIR).exists()


def test_a_corrupt_cache_is_ignored_and_replaced(warm: Path, tmp_path: Path) -> None:
    (warm / CACHE_DIR / "cache.sqlite").write_bytes(b"not a database at all\n" * 100)
    files, _ = rebuilt(warm, tmp_path)
    assert files == full(warm, tmp_path)
    files, rewritten = rebuilt(warm, tmp_path)  # and the replaced cache works
    assert rewritten == set()


def test_a_foreign_cache_is_ignored(warm: Path, tmp_path: Path) -> None:
    db = sqlite3.connect(warm / CACHE_DIR / "cache.sqlite")
    with db:
        db.execute("UPDATE meta SET value = 'hubgen 0.0.0 cache format 0'")
        db.execute(
            'UPDATE entries SET value = \'{"html": "<p>planted</p>", "refs": [], "raw": []}\''
        )
    db.close()
    files, _ = rebuilt(warm, tmp_path)
    assert files == full(warm, tmp_path)
    assert not any(b"planted" in data for data in files.values())


def test_the_cache_is_keyed_by_the_libraries_that_make_its_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new Markdown, YAML or Jinja release, or new time-zone rules, can change
    what hubgen makes of the same files: a cache made with other ones is foreign."""
    from importlib.metadata import version

    from hubgen import cache

    for dist in ("markdown", "pyyaml", "jinja2", "markupsafe", "tzdata"):
        assert f"{dist} {version(dist)}" in cache._STAMP
    assert "python 3." in cache._STAMP
    before, real = cache._libraries(), cache._installed
    monkeypatch.setattr(cache, "_installed", lambda m, d: "9.9" if d == "markdown" else real(m, d))
    after = cache._libraries()
    assert after != before and "markdown 9.9" in after


def test_cache_entries_of_the_wrong_shape_are_misses(
    warm: Path, tmp_path: Path, markdown_read: list[str]
) -> None:
    db = sqlite3.connect(warm / CACHE_DIR / "cache.sqlite")
    with db:
        db.execute("UPDATE entries SET value = '[1, 2, 3]' WHERE kind = 'markdown'")
        db.execute("UPDATE entries SET value = '{\"size\": \"big\"}' WHERE kind = 'page'")
        db.execute(
            'UPDATE entries SET value = \'{"record": ["Drop", 1], "diagnostics": []}\' '
            "WHERE kind = 'drop'"
        )
        db.execute(  # a record, but not a creator's
            'UPDATE entries SET value = \'{"record": ["Ref", "x", ["@", 1, 1]], "home": "x.md", '
            "\"diagnostics\": []}' WHERE kind = 'creator'"
        )
    db.close()
    files, _ = rebuilt(warm, tmp_path)
    assert files == full(warm, tmp_path)
    assert len(markdown_read) == 2  # both creators parsed again


def as_a_fresh_ci_clone(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, spare: bool = False
) -> None:
    """The site checked out anew, with `.hubgen-cache/` and the last output (`out`)
    restored as the included workflow's actions/cache does: from a `tar --posix`
    archive, which keeps modification times (and hard links between the files
    it holds: the workflow keeps the `spare` too). Every source file is new to
    the filesystem (inodes, times), so none can be vouched for by its stats."""
    from hubgen import unchanged

    archive = tmp_path / "cache.tar"
    folders = ["out", f"site/{CACHE_DIR}", *([".out.spare"] if spare else [])]
    tar = ["tar", "--posix", "-cf", archive, "-C", tmp_path, *folders]
    subprocess.run([str(a) for a in tar], check=True)
    shutil.move(site, tmp_path / "before")
    shutil.rmtree(tmp_path / "out")
    shutil.rmtree(tmp_path / ".out.spare", ignore_errors=True)
    ignore = shutil.ignore_patterns(CACHE_DIR)
    shutil.copytree(tmp_path / "before", site, ignore=ignore)  # new inodes, ctimes
    for path in site.rglob("*"):
        os.utime(path)  # and modification times, as a checkout
    subprocess.run(["tar", "-xf", str(archive), "-C", str(tmp_path)], check=True)
    monkeypatch.setattr(unchanged.Sources, "SETTLE_NS", 2_000_000_000)  # all just written


def test_a_fresh_ci_clone_with_the_cache_and_output_restored_renders_only_what_changed(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made: list[str]
) -> None:
    """Only the pages showing the edited drop are looked at and rendered (of
    those, after an edit of its text alone, the ones that read it: its own).
    Without the last output every page would be rendered again."""
    as_a_fresh_ci_clone(warm, tmp_path, monkeypatch)
    edit(drop_file(warm), "Ada talks about sleep.", "Ada talks about sleep, and rest.")
    files, rewritten = rebuilt(warm, tmp_path)
    assert made == ["spring-2023/meet-ada/index.html"]
    assert {rel for rel in rewritten if rel.endswith(".html")} <= set(made)
    assert files == full(warm, tmp_path)


def test_a_fresh_ci_clone_brings_the_restored_spare_up_to_date(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The included workflow keeps `.public.spare` too. Restored as hard links
    to the output's files, it is brought up to date and swapped in, not every
    file linked into a new folder (at 10,000 drops 0.7 s of an hourly build)."""
    edit(drop_file(warm), "Ada talks about sleep.", "Ada talks about sleep, and rest.")
    build(warm, tmp_path / "out")  # the first output is now the spare
    as_a_fresh_ci_clone(warm, tmp_path, monkeypatch, spare=True)
    out, spare = tmp_path / "out", tmp_path / ".out.spare"
    page = "about/index.html"
    assert (spare / page).stat().st_ino == (out / page).stat().st_ino  # still one file
    restored = spare.stat().st_ino
    edit(drop_file(warm), "and rest.", "and rest, and more.")
    files, _rewritten = rebuilt(warm, tmp_path)
    assert out.stat().st_ino == restored  # the restored spare is the new output
    assert files == full(warm, tmp_path)


def test_a_fresh_ci_clone_with_nothing_changed_finds_the_restored_output_up_to_date(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made: list[str]
) -> None:
    """The hourly run between two drops: the sources are read to be hashed, and
    nothing is rendered or written."""
    as_a_fresh_ci_clone(warm, tmp_path, monkeypatch)
    files, rewritten = rebuilt(warm, tmp_path, now="2023-05-10T13:00")
    assert made == []
    assert rewritten == set()
    assert files == full(warm, tmp_path)


def test_an_output_file_edited_by_hand_is_rendered_again(warm: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    page = out / "index.html"
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<p>hand edit</p></body>"))
    files, rewritten = rebuilt(warm, tmp_path)
    assert "index.html" in rewritten
    assert files == full(warm, tmp_path)


def test_a_failed_rebuild_keeps_the_output_and_the_next_one_is_right(
    warm: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    before = read_tree(out)
    path = drop_file(warm)
    good = path.read_text("utf-8")
    path.write_text(good.replace("title:", "title: [unclosed", 1), "utf-8")
    assert run("build", "--site", warm, "--out", out, "--now", NOW) == 1
    assert read_tree(out) == before
    path.write_text(good + "\nFixed.\n", "utf-8")
    files, _ = rebuilt(warm, tmp_path)
    assert files == full(warm, tmp_path)


def test_an_up_to_date_output_is_left_alone_and_its_warnings_told_again(
    warm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    capsys.readouterr()
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    assert run("build", "--site", warm, "--out", out, "--now", "2023-05-12T08:00") == 0
    captured = capsys.readouterr()
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before  # the manifest too
    assert captured.out.startswith(f"{out} is up to date: 31 files, 3 drops published")
    assert "next change at 2023-05-15 09:00 EDT" in captured.out
    assert captured.err == (
        "content/drops/spring-2023/2023-05-08-live-chat.md:11:44: warning: raw HTML (<b>) is "
        "shown as text; set allow_html: true in site.yaml to use it as HTML\n"
        "0 errors, 1 warning\n"
    )


def test_an_output_rebuilt_by_workers_around_kept_files_is_then_up_to_date(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The build records each file of its output as it put it there (pages a
    worker process rendered, pages taken as they were, files written, foreign
    files `--force` kept, a symlink among them), not by listing the output
    again: a build with nothing changed finds every one of them as recorded."""
    monkeypatch.setattr(workers, "MIN_PER_WORKER", 1)  # fork, even for this small site
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("not hubgen's\n")
    (out / "here").symlink_to("keep.txt")
    build(site, out, "--force")
    edit(drop_file(site), "Ada", "Ada Lovelace")
    build(site, out, "--force")
    capsys.readouterr()
    before = mtimes(out)
    build(site, out, "--force")
    assert capsys.readouterr().out.startswith(f"{out} is up to date")
    assert mtimes(out) == before and (out / "here").is_symlink()


@pytest.mark.parametrize(
    "change",
    ["--preview", "--strict", "--base-url=https://other.example/", "--no-cache"],
)
def test_other_options_build_again(warm: Path, tmp_path: Path, change: str) -> None:
    out = tmp_path / "out"
    code = run("build", "--site", warm, "--out", out, "--now", NOW, change)
    assert code == (1 if change == "--strict" else 0)  # the fixture has a warning
    if code == 0:
        other = tmp_path / "other"
        assert run("build", "--site", warm, "--out", other, "--now", NOW, change, "--no-cache") == 0
        assert read_tree(out) == read_tree(other)


def test_a_helpline_check_growing_old_overnight_is_noticed(
    make_site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(
        {
            "site.yaml": "title: Mini\nbase_url: https://example.org/\n"
            "timezone: Europe/London\nhelpline_max_age_days: 30\n",
            "content/organisations/line.md": """\
                ---
                name: Example Line
                website: https://example.com/
                helplines:
                  - name: Example Line
                    phone: "555-0100"
                    crisis: true
                    last_verified: 2023-04-10
                ---
                """,
        }
    )
    out = tmp_path / "out"
    assert run("build", "--site", site, "--out", out, "--now", "2023-05-10T23:59") == 0
    assert "SM050" not in capsys.readouterr().err  # 30 days old: still fresh
    assert run("build", "--site", site, "--out", out, "--now", "2023-05-11T00:01") == 0
    captured = capsys.readouterr()
    assert "up to date" not in captured.out
    assert "was last verified on 2023-04-10, 31 days before 2023-05-11" in captured.err


def test_a_symlink_loop_in_the_site_does_not_stop_the_build(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site / "content/drops/spring-2023/loop").symlink_to("..")
    build(site, tmp_path / "out")
    build(site, tmp_path / "out")
    assert "up to date" in capsys.readouterr().out


def test_workers_are_separate_processes_and_keep_the_order() -> None:
    pids_and_items = workers.run(_pid_and_item, list(range(200)), jobs=3)
    assert [item for _, item in pids_and_items] == list(range(200))
    assert len({pid for pid, _ in pids_and_items}) <= 3  # never more processes than jobs


_first_given = get_context("fork").Event()  # set by the caller once it has the first result


def _given_first(item: int) -> tuple[int, int]:
    """A worker's items from the 50th on wait until the caller has item 0's result."""
    if os.getpid() != _CALLER and item >= 50 and not _first_given.wait(timeout=60):
        raise AssertionError(f"item {item} waited for the first result in vain")
    return _pid_and_item(item)


_CALLER = os.getpid()


def test_each_gives_results_in_order_while_the_work_goes_on() -> None:
    _first_given.clear()
    results = workers.each(_given_first, list(range(100)), jobs=2)
    assert next(results)[1] == 0  # given while later items are still to be done
    _first_given.set()
    assert [item for _, item in results] == list(range(1, 100))


def _pid_and_item(item: int) -> tuple[int, int]:
    return os.getpid(), item


def test_a_site_big_enough_for_workers_builds_the_same_with_one_or_two(tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, REPO / "benchmarks/generate.py", "120", site],
        check=True,
        capture_output=True,
    )
    now = "2025-05-30T12:00"  # benchmarks/generate.py's NOW
    one, two = tmp_path / "one", tmp_path / "two"
    assert (
        run("build", "--site", site, "--out", one, "--now", now, "--jobs", "1", "--no-cache") == 0
    )
    assert run("build", "--site", site, "--out", two, "--now", now, "--jobs", "2") == 0
    assert read_tree(one) == read_tree(two)
    # and the warm rebuild after an edit, in workers too, equals a full one-process build
    drop = sorted((site / "content/drops").rglob("*.md"))[-5]
    drop.write_text(drop.read_text("utf-8") + "\nA late addition.\n", "utf-8")
    assert run("build", "--site", site, "--out", two, "--now", now, "--jobs", "2") == 0
    assert (
        run("build", "--site", site, "--out", one, "--now", now, "--jobs", "1", "--no-cache") == 0
    )
    assert read_tree(one) == read_tree(two)


def test_a_warm_check_reports_what_a_cold_one_does(
    warm: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = drop_file(warm)
    path.write_text(path.read_text("utf-8") + "\nHer uncle committed suicide.\n", "utf-8")
    capsys.readouterr()
    assert run("check", "--site", warm, "--now", NOW, "--no-cache") == 0
    cold = capsys.readouterr().err
    assert "warning[SM001]" in cold
    for _ in range(2):  # the first fills the cache, the second reads it
        assert run("check", "--site", warm, "--now", NOW) == 0
        assert capsys.readouterr().err == cold


def test_a_new_host_in_base_url_equals_a_full_build(warm: Path, tmp_path: Path) -> None:
    edit(
        warm / "site.yaml",
        "base_url: https://example.org/hub/",
        "base_url: https://example.net/hub/",
    )
    files, _ = rebuilt(warm, tmp_path)
    assert files == full(warm, tmp_path)
    assert b"https://example.net/hub/" in files["index.html"]


def test_an_up_to_date_check_after_a_fresh_edit_vouches_by_stats_next_time(
    warm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files edited just before a build cannot vouch for their bytes by stats yet;
    once they have settled, the next up-to-date check records their stats so that
    later ones need not read every file (the hourly CI run on a big site)."""
    from hubgen import unchanged

    monkeypatch.setattr(unchanged.Sources, "SETTLE_NS", 2_000_000_000)
    out = tmp_path / "out"
    edit(drop_file(warm), "title:", "title: ")  # just now: not settled at the next build
    build(warm, out)
    reads: list[int] = []
    digest = unchanged.Sources.digest

    def counted(self: unchanged.Sources) -> str:
        reads.append(1)
        return digest(self)

    monkeypatch.setattr(unchanged.Sources, "digest", counted)
    monkeypatch.setattr(unchanged.Sources, "SETTLE_NS", 0)  # as if two seconds had passed
    for _ in range(2):
        build(warm, out)
    assert len(reads) == 1  # read once to find them unchanged, then vouched for by stats


@pytest.fixture
def drops_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The drop files the builds of the test read (`validate.read_drop`)."""
    from hubgen import validate

    return calls(monkeypatch, validate, "read_drop", lambda _root, drop, _diags: drop.path)


def test_a_drop_edit_parses_only_that_drop(
    warm: Path, tmp_path: Path, drops_read: list[str]
) -> None:
    """The cache keeps each drop as the record it became: unchanged drops are not read."""
    from datetime import datetime

    from hubgen import pipeline

    edit(drop_file(warm), "title: Meet Ada", "title: Meet Ada again")
    now = datetime.fromisoformat(NOW)
    pipeline.build(warm, tmp_path / "out", now=now, jobs=1)
    assert drops_read == ["content/drops/spring-2023/2023-05-03-meet-ada.md"]
    drops_read.clear()
    pipeline.build(warm, tmp_path / "other-out", now=now, jobs=1)  # another output, same cache
    assert drops_read == []
    assert read_tree(tmp_path / "other-out") == full(warm, tmp_path)


def test_a_cold_build_hashes_no_drop_file_but_as_it_parses_it(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no record to look a drop up by, its file is read to be parsed, not
    read to be hashed beforehand too; the hash of the bytes parsed is recorded,
    so the next build knows the file by its stats without reading it either."""
    from datetime import datetime

    from hubgen import load, pipeline, unchanged

    parsed = calls(monkeypatch, load._Reader, "read_text", lambda _self, path: path)
    hashed: list[str] = []
    real_open = open

    def counted(path: str, *args: object, **kwargs: object) -> object:
        hashed.append(path)
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(unchanged, "open", counted, raising=False)
    drops = sorted(str(p) for p in (site / "content/drops").rglob("*.md"))
    assert len(drops) > 3
    now = datetime.fromisoformat(NOW)
    pipeline.build(site, tmp_path / "out", now=now, jobs=1)
    assert sorted({str(path) for path in parsed} & set(drops)) == drops
    assert [path for path in hashed if str(path) in drops] == []
    pipeline.build(site, tmp_path / "other-out", now=now, jobs=1)
    assert [path for path in hashed if str(path) in drops] == []
    assert read_tree(tmp_path / "other-out") == read_tree(tmp_path / "out")


@pytest.fixture
def markdown_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The creator files the builds of the test read (`validate.read_markdown`)."""
    from hubgen import validate

    return calls(monkeypatch, validate, "read_markdown", lambda _root, path, _diags: path)


def ada_file(site: Path) -> Path:
    return site / "content/creators/ada-example.md"


def test_a_creator_edit_parses_only_that_creator(
    warm: Path, tmp_path: Path, markdown_read: list[str]
) -> None:
    """The cache keeps each creator as the record it became, as it does drops."""
    edit(ada_file(warm), "name: Ada Example", "name: Ada Renamed")
    build(warm, tmp_path / "out")
    assert markdown_read == ["content/creators/ada-example.md"]
    markdown_read.clear()
    build(warm, tmp_path / "other-out")  # another output, same cache
    assert markdown_read == []
    files = read_tree(tmp_path / "other-out")
    assert files == full(warm, tmp_path)
    assert b"Ada Renamed" in files["creators/ada-example/index.html"]


def test_creators_are_parsed_again_when_the_settings_they_read_change(
    warm: Path, tmp_path: Path, markdown_read: list[str]
) -> None:
    """A bio's links depend on base_url: a record kept under the old one is not used."""
    edit(warm / "site.yaml", "https://example.org/hub/", "https://example.net/other/")
    files, _ = rebuilt(warm, tmp_path)
    assert sorted(markdown_read) == [
        "content/creators/ada-example.md",
        "content/creators/ben-example.md",
    ]
    assert files == full(warm, tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "told", "status"),
    [
        ("made up for", "<b>made up</b> for", "ada-example.md:13:28: warning: raw HTML", 0),
        ("pronouns: she/her", "pronouns: she/her\npronoun: her", "ada-example.md:5:1: error", 1),
    ],
)
def test_a_kept_creators_problems_are_told_again(
    warm: Path,
    capsys: pytest.CaptureFixture[str],
    markdown_read: list[str],
    old: str,
    new: str,
    told: str,
    status: int,
) -> None:
    edit(ada_file(warm), old, new)
    capsys.readouterr()
    assert run("check", "--site", warm, "--now", NOW, "--no-cache") == status
    cold = capsys.readouterr().err
    assert f"content/creators/{told}" in cold
    markdown_read.clear()
    for _ in range(2):  # the first fills the cache, the second reads it
        assert run("check", "--site", warm, "--now", NOW) == status
        assert capsys.readouterr().err == cold
    assert markdown_read == ["content/creators/ada-example.md"]  # then its record was kept


def test_a_value_written_at_once_is_read_back_and_kept_and_unused_ones_go(
    tmp_path: Path,
) -> None:
    """Drops of a cold build go into the cache file as they come (not held till the end)."""
    from hubgen.cache import Cache

    folder = tmp_path / CACHE_DIR
    cache = Cache(folder)
    cache.write("drop", "a", {"record": None, "diagnostics": []})
    cache.put("drop", "b", [1])
    assert cache.get("drop", "a") == {"record": None, "diagnostics": []}  # this build reads it
    cache.save()
    cache.close()
    again = Cache(folder)
    assert again.get("drop", "a") == {"record": None, "diagnostics": []}
    assert again.get("drop", "b") == [1]
    again.save()  # both used
    again.close()
    last = Cache(folder)
    assert last.get("drop", "b") == [1]
    last.save()  # "a" unused by this build: gone
    last.close()
    assert Cache(folder).get("drop", "a") is None


def _pid_file() -> bytes:
    return f"made by {os.getpid()}".encode()


@pytest.mark.parametrize("jobs", [1, 2])
def test_files_written_meanwhile_are_those_written_here_and_kept(tmp_path: Path, jobs: int) -> None:
    """`Meanwhile` (the calendars) writes what the cache does not know in
    another process when `jobs` allows it, and keeps it like `written`: a later
    build takes it from the cache and writes nothing."""
    from hubgen.cache import Cache

    folder = tmp_path / CACHE_DIR
    cache = Cache(folder)
    known = cache.written("calendar", ["old"], lambda: b"known already")
    meanwhile = Meanwhile(
        cache,
        {"a.ics": ("calendar", ["new"], _pid_file), "b.ics": ("calendar", ["old"], _pid_file)},
        jobs=jobs,
    )
    files = meanwhile.files()
    meanwhile.close()
    assert files["b.ics"] == (*known[:2], None)  # known: not read out of the cache
    assert cache.contents(files["b.ics"]) == known.data == b"known already"
    made = files["a.ics"].data
    assert made is not None
    assert (int(made.split()[-1]) == os.getpid()) == (jobs == 1 or not workers.can_fork())
    cache.save()
    cache.close()
    again = Cache(folder)
    later = Meanwhile(again, {"a.ics": ("calendar", ["new"], _pid_file)}, jobs=jobs).files()
    assert later == {"a.ics": (*files["a.ics"][:2], None)}  # not written again: kept
    assert again.contents(later["a.ics"]) == made
    again.close()


def test_values_sent_before_the_save_are_kept_as_put_and_stale_ones_still_go(
    tmp_path: Path,
) -> None:
    """`Cache.send_held` writes what the build put so far into the file before
    the save (while the review beside a cold build still has the other CPU):
    those values read back as put, and the save still keeps what was put
    after, and drops what this build did not use."""
    from hubgen.cache import Cache

    folder = tmp_path / CACHE_DIR
    first = Cache(folder)
    first.put("kind", "unused", [1])
    first.put("kind", "used", [2])
    first.save()
    first.close()
    cache = Cache(folder)
    assert cache.get("kind", "used") == [2]
    cache.put("kind", "early", {"a": [1]})
    cache.send_held()
    assert cache.has("kind", "early")
    assert cache.get("kind", "early") == {"a": [1]}
    cache.put("kind", "late", "x")
    cache.save()
    cache.close()
    db = sqlite3.connect(folder / "cache.sqlite")
    stored = dict(db.execute("SELECT key, value FROM entries WHERE kind = 'kind'").fetchall())
    db.close()
    assert stored == {"used": "[2]", "early": '{"a":[1]}', "late": '"x"'}


def test_files_no_longer_wanted_are_not_waited_for() -> None:
    """A build that fails before it takes them ends the process writing them."""
    from hubgen.cache import Cache

    meanwhile = Meanwhile(
        Cache.none(), {"a.ics": ("calendar", ["x"], lambda: time.sleep(3600) or b"")}, jobs=2
    )
    process = meanwhile._made._process if meanwhile._made is not None else None
    if process is None:
        pytest.skip("no fork here: nothing runs meanwhile")
    try:
        assert process.is_alive()
        meanwhile.close()
        assert not process.is_alive()
    finally:
        process.kill()  # (a test that failed leaves no process behind)


@pytest.mark.parametrize("found", [False, True])
def test_the_cache_file_is_not_flushed_to_the_disk_at_each_commit(
    tmp_path: Path, found: bool
) -> None:
    """A cold build commits dozens of times: when the file it made was synced
    at each commit (before 0da0649, in commits of 500), its process called
    fdatasync 442 times. The file made by this build, or found from an earlier
    one, is not synced (a killed build still leaves it whole)."""
    from hubgen.cache import Cache

    folder = tmp_path / CACHE_DIR
    if found:
        Cache(folder).close()
    cache = Cache(folder)
    assert cache._db is not None
    assert cache._db.execute("PRAGMA synchronous").fetchone() == (0,)  # OFF
    cache.close()


def test_values_written_and_not_yet_sent_are_read_and_saved(tmp_path: Path) -> None:
    """`write` sends its values to the file a batch at a time: one still held is
    found by every way of asking, and saved with the rest."""
    from hubgen.cache import Cache

    folder = tmp_path / CACHE_DIR
    cache = Cache(folder)
    cache.write("page", "p", {"size": 1})
    assert cache.get("page", "p") == {"size": 1}
    cache.write("page", "q", {"size": 2})
    assert cache.knows_any("page") and {"p", "q"} <= cache.holding("page")
    assert cache.decoded("page", ["q"], lambda v: v) == {"q": {"size": 2}}
    cache.write("page", "r", {"size": 3})
    cache.save()
    cache.close()
    again = Cache(folder)
    found = again.decoded("page", ["p", "q", "r"], lambda v: v)
    assert found == {"p": {"size": 1}, "q": {"size": 2}, "r": {"size": 3}}
    again.close()


@pytest.mark.parametrize("wanted", [550, 1100])
def test_many_values_are_read_in_one_pass_and_the_unused_ones_still_go(
    tmp_path: Path, wanted: int
) -> None:
    """Most of a kind (every drop but the one edited) is read in one pass over
    it, not key by key; either way exactly the values asked for come back,
    and those the build did not use are forgotten at its end."""
    from hubgen.cache import _BATCH, Cache

    assert wanted > _BATCH
    folder = tmp_path / CACHE_DIR
    cache = Cache(folder)
    for i in range(1200):
        cache.put("drop", f"k{i}", [i])
    cache.save()
    cache.close()
    again = Cache(folder)
    keys = [f"k{i}" for i in range(0, 2 * wanted, 2)] + ["absent"]
    found = again.decoded("drop", keys, lambda value: value[0] if value != [0] else None)
    assert found == {f"k{i}": i for i in range(2, 2 * wanted, 2) if i < 1200}  # k0: a miss
    assert len(again.holding("drop")) == 1200
    again.save()
    again.close()
    last = Cache(folder)
    assert last.holding("drop") == {f"k{i}" for i in range(0, min(2 * wanted, 1200), 2)}
    last.close()


@pytest.mark.parametrize("wanted", [20, 1100])
def test_values_are_read_in_the_order_they_lie_in_the_file(tmp_path: Path, wanted: int) -> None:
    """Not in the order of their keys (hashes: anywhere in the file), whether
    looked up key by key or in one pass: a file the operating system no longer
    holds in memory is read front to back (see `cache._IN_FILE_ORDER`)."""
    from hubgen.cache import Cache

    folder = tmp_path / CACHE_DIR
    cache = Cache(folder)
    written = [f"{(i * 7919) % 1200:04d}" for i in range(1200)]  # keys out of their order
    for key in written:
        cache.write("drop", key, [key])
    cache.save()
    cache.close()
    again = Cache(folder)
    read: list[str] = []
    again.decoded("drop", written[-wanted:], lambda value: read.append(value[0]) or value)
    again.close()
    assert read == written[-wanted:]


def test_values_written_at_once_are_committed_in_batches(tmp_path: Path) -> None:
    """Another hubgen on the same cache (a check beside serve) sees them, and is not
    kept waiting for the file till this build ends."""
    from hubgen.cache import _COMMIT, Cache

    folder = tmp_path / CACHE_DIR
    cache = Cache(folder)
    for i in range(_COMMIT):
        cache.write("drop", f"k{i}", [i])
    other = sqlite3.connect(folder / "cache.sqlite", timeout=0)
    try:
        (count,) = other.execute("SELECT count(*) FROM entries WHERE kind = 'drop'").fetchone()
        assert count == _COMMIT
        with other:  # and it can write now: no lock is held
            other.execute("INSERT INTO meta VALUES ('other', 'x')")
    finally:
        other.close()
    cache.save()
    cache.close()


def test_the_sources_digest_reads_only_files_whose_stats_changed(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild in `serve` records the sources for the next `build` without
    reading every drop again: files are known by the hashes recorded with their stats."""
    from hubgen import unchanged

    monkeypatch.setattr(unchanged.Sources, "SETTLE_NS", 0)  # as if two seconds had passed
    first = unchanged.Sources(site)
    recorded = (first.digest(), first.file_hashes())
    read: list[str] = []
    real_open = open

    def counted(path: str, *args: object, **kwargs: object) -> object:
        read.append(Path(path).relative_to(site).as_posix())
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(unchanged, "open", counted, raising=False)
    again = unchanged.Sources(site)
    again.recorded(recorded[1])
    assert again.digest() == recorded[0] and read == []
    # What it records vouches for every file too, not only for those it read:
    # else every other build would read the whole site again.
    assert again.file_hashes() == recorded[1]
    edit(drop_file(site), "title:", "title: ")
    edited = unchanged.Sources(site)
    edited.recorded(again.file_hashes())
    assert edited.digest() != recorded[0]
    assert read == ["content/drops/spring-2023/2023-05-03-meet-ada.md"]
    after = unchanged.Sources(site)
    after.recorded(edited.file_hashes())
    assert after.digest() == edited.digest()
    assert read == ["content/drops/spring-2023/2023-05-03-meet-ada.md"]  # nothing more


def forget(site: Path, kind: str) -> None:
    db = sqlite3.connect(site / CACHE_DIR / "cache.sqlite")
    with db:
        db.execute("DELETE FROM entries WHERE kind = ?", (kind,))
    db.close()


def welcome_file(site: Path) -> Path:
    """A published drop whose body links to a drop still scheduled at NOW."""
    return site / "content/drops/spring-2023/2023-05-01-welcome.md"


def test_cached_drops_hold_no_body_text_and_feeds_read_it_back_from_the_file(
    warm: Path, tmp_path: Path, drops_read: list[str]
) -> None:
    """A drop's record in the cache keeps neither its body's Markdown text nor
    its HTML, which is kept beside it. A feed's body, with absolute links, is
    made from the page's HTML (`markup.absolutize`), read back from the cache;
    only a body that must lose a link (to a page not yet published) is
    rendered again, its text read back from the drop's file."""
    import json

    db = sqlite3.connect(warm / CACHE_DIR / "cache.sqlite")
    rows = db.execute("SELECT key, value FROM entries WHERE kind = 'drop'").fetchall()
    html = dict(db.execute("SELECT key, value FROM entries WHERE kind = 'drop-html'").fetchall())
    db.close()
    records = {key: json.loads(value)["record"] for key, value in rows}
    bodies = [
        field
        for r in records.values()
        for field in r
        if isinstance(field, list) and field[:1] == ["Markup"]
    ]
    assert len(bodies) == len(records) > 0  # a drop's one Markup field: its body
    assert all(body[1] is None and body[3] is None for body in bodies)  # no text, no HTML
    assert html.keys() == records.keys()
    assert any("Ada talks about sleep." in json.loads(text) for text in html.values())
    forget(warm, "relink")
    forget(warm, "feed")  # else the feeds are known as they are: no body is made
    build(warm, tmp_path / "other-out")
    # Both are in the feeds: Ada's body from its HTML, Welcome's from its text.
    assert drop_file(warm).relative_to(warm).as_posix() not in drops_read
    assert welcome_file(warm).relative_to(warm).as_posix() in drops_read
    assert read_tree(tmp_path / "other-out") == full(warm, tmp_path)


def test_drops_whose_html_the_cache_lost_are_parsed_again(
    warm: Path, tmp_path: Path, drops_read: list[str]
) -> None:
    """A record is only taken from the cache with its body's HTML beside it: a
    cache that lost the HTML (cut short, or edited) makes each drop a miss, never a
    page without its body."""
    default = (FIXTURES.parents[1] / "themes/default/templates/drop.html").read_text("utf-8")
    override = warm / "themes/default/templates/drop.html"
    override.parent.mkdir(parents=True, exist_ok=True)
    forget(warm, "drop-html")
    ada = drop_file(warm).relative_to(warm).as_posix()
    for i, out in enumerate(["other-out", "third-out"]):  # every drop page rendered again
        override.write_text(default.replace("</article>", f"<p>{i}</p></article>", 1), "utf-8")
        build(warm, tmp_path / out)
        assert (ada in drops_read) == (i == 0)  # then the HTML was kept again
        assert read_tree(tmp_path / out) == full(warm, tmp_path)
        drops_read.clear()


def test_a_feed_the_cache_knows_is_taken_without_rendering_its_bodies_again(
    warm: Path, tmp_path: Path, drops_read: list[str]
) -> None:
    """A feed is known by its entries' values, each body by the key of its HTML:
    with the HTML forgotten, an unchanged feed reads back no drop's text (Ada
    is in the feeds). The HTML of every entry is kept for a later build, whether
    its feed was written out again or not."""
    forget(warm, "relink")
    build(warm, tmp_path / "other-out")
    assert drop_file(warm).relative_to(warm).as_posix() not in drops_read
    assert read_tree(tmp_path / "other-out") == full(warm, tmp_path)
    forget(warm, "feed")
    build(warm, tmp_path / "third-out")  # every feed written again: each body rendered
    kept = relinked(warm)
    edit(warm / "content/pages/about.md", "About", "All about")  # no feed shows pages
    build(warm, tmp_path / "fourth-out")
    assert relinked(warm) == kept and kept
    assert read_tree(tmp_path / "fourth-out") == full(warm, tmp_path)


def relinked(site: Path) -> set[str]:
    db = sqlite3.connect(site / CACHE_DIR / "cache.sqlite")
    keys = {key for (key,) in db.execute("SELECT key FROM entries WHERE kind = 'relink'")}
    db.close()
    return keys


@pytest.mark.parametrize("cache", ["warm", "cold"])
def test_a_drop_whose_text_changed_before_it_was_read_back_stops_the_build(
    warm: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    cache: str,
) -> None:
    """The body read back must be the one the build validated: a file saved
    after that (here between the checks and the feeds, which render Welcome's
    body again without its link to a scheduled drop) is reported, and the
    output stays as it was; the next build takes the new text. A cold build
    reads it back too: its records do not hold their text either."""
    from hubgen import render

    forget(warm, "relink")
    forget(warm, "feed")
    if cache == "cold":
        shutil.rmtree(warm / CACHE_DIR)
    real = render.render_site

    def saved_meanwhile(*args: object, **kwargs: object) -> object:
        edit(welcome_file(warm), "A link to a later drop", "A link to a later drop, soon")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(render, "render_site", saved_meanwhile)
    other = tmp_path / "other-out"  # not up to date, as "out" is
    capsys.readouterr()
    assert run("build", "--site", warm, "--out", other, "--now", NOW) == 1
    err = capsys.readouterr().err
    path = welcome_file(warm).relative_to(warm).as_posix()
    assert f"{path}:1:1: error: the file changed while the site was being built; build again" in err
    assert not other.exists()
    monkeypatch.setattr(render, "render_site", real)
    build(warm, other)
    assert b"A link to a later drop, soon" in read_tree(other)["spring-2023/welcome/index.html"]
    assert read_tree(other) == full(warm, tmp_path)


def test_a_cache_corrupt_past_its_first_pages_is_replaced(warm: Path, tmp_path: Path) -> None:
    """A machine that stopped mid-build can leave the cache file's header whole
    and its entries torn (hubgen does not wait for the disk at each commit):
    the build goes on without the entries it cannot read, and the file is
    replaced, so that the next builds are not all slow."""
    path = warm / CACHE_DIR / "cache.sqlite"
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    assert len(data) > 8 * page
    data[4 * page : len(data) - page] = b"\xa5" * (len(data) - 5 * page)
    path.write_bytes(bytes(data))
    files, _ = rebuilt(warm, tmp_path)
    assert files == full(warm, tmp_path)
    files, rewritten = rebuilt(warm, tmp_path)  # with a working cache again
    assert rewritten == set()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
