"""load: finding files, splitting front matter, keeping file line numbers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hubgen.diagnostics import Diagnostics
from hubgen.load import load_site
from hubgen.yamlmarks import Mapping


def test_front_matter_lines_are_file_lines(make_site: Callable[..., Path]) -> None:
    site = make_site({"content/pages/p.md": "---\ntitle: P\nsummary: S\n---\n\nBody text\n"})
    tree = load_site(site, Diagnostics())
    (page,) = tree.pages
    assert isinstance(page.meta, Mapping)
    assert [k.span.line for k, _ in page.meta.items] == [2, 3]
    assert page.body_line == 5 and page.body == "\nBody text\n"


def test_drops_are_grouped_by_campaign_folder(make_site: Callable[..., Path]) -> None:
    site = make_site(
        {
            "content/drops/may/b.md": "---\ntitle: B\npublish_at: 2023-05-02\n---\n",
            "content/drops/may/a.md": "---\ntitle: A\npublish_at: 2023-05-01\n---\n",
            "content/drops/may/notes.txt": "not a drop\n",
        }
    )
    tree = load_site(site, Diagnostics())
    assert [(d.folder, d.path) for d in tree.drops] == [
        ("may", "content/drops/may/a.md"),
        ("may", "content/drops/may/b.md"),
    ]


def test_media_and_static_files_are_listed_not_read(make_site: Callable[..., Path]) -> None:
    site = make_site(
        {
            "content/media/img/a.svg": "<svg/>",
            "content/media/.cache/x": "hidden",
            "content/static/.well-known/security.txt": "x",
            "content/static/CNAME": "x",
        }
    )
    tree = load_site(site, Diagnostics())
    assert sorted(tree.media) == ["/media/img/a.svg"]
    assert sorted(tree.static) == [".well-known/security.txt", "CNAME"]


def test_shipped_default_theme_is_always_there(make_site: Callable[..., Path]) -> None:
    tree = load_site(make_site({}), Diagnostics())
    default = tree.themes["default"]
    assert any((d / "base.html").is_file() for d in default.template_dirs)
    assert "style.css" in default.assets


def test_unreadable_files_are_reported_and_skipped(make_site: Callable[..., Path]) -> None:
    diags = Diagnostics()
    site = make_site(
        {
            "content/pages/empty.md": "",
            "content/pages/latin1.md": "---\ntitle: caf\xe9\n---\n".encode("latin-1"),
            "content/pages/list.md": "---\n- a\n- b\n---\n",
        }
    )
    tree = load_site(site, diags)
    assert [d.format() for d in diags.sorted()] == [
        "content/pages/empty.md:1:1: error: the file is empty",
        "content/pages/latin1.md:2:11: error: the file is not UTF-8 (byte 0xe9); save it as UTF-8",
    ]
    assert [p.meta is None for p in tree.pages] == [True, True, False]
