"""markup: Markdown with escaped raw HTML, rewritten site links, found positions."""

from __future__ import annotations

from hubgen.diagnostics import Span
from hubgen.markup import Converter

ORIGIN = Span("d.md", 5, 1)


def convert(source: str, *, allow_html: bool = False, gone: set[str] = frozenset()) -> object:
    return Converter(allow_html=allow_html).convert(
        source, origin=ORIGIN, rewrite=lambda p: None if p in gone else "/hub" + p
    )


def test_raw_html_is_escaped_by_default() -> None:
    m = convert('Hi <script>alert(1)</script>\n\n<div onclick="x">y</div>\n')
    assert "<script" not in m.html and "<div" not in m.html
    assert "&lt;script&gt;" in m.html


def test_raw_html_passes_when_the_site_allows_it() -> None:
    assert "<b>bold</b>" in convert("<b>bold</b>", allow_html=True).html


def test_site_paths_get_the_base_path_and_positions() -> None:
    m = convert("Intro\n\nSee [help](/help/) and ![a moon](/media/moon.svg).\n")
    assert '<a href="/hub/help/">help</a>' in m.html
    assert 'src="/hub/media/moon.svg"' in m.html
    assert [(r.url, r.span.line, r.span.col, r.image) for r in m.refs] == [
        ("/help/", 7, 12, False),
        ("/media/moon.svg", 7, 34, True),
    ]


def test_links_to_unpublished_pages_become_plain_text() -> None:
    m = convert("[soon](/may/secret/) and [ok](/help/)", gone={"/may/secret/"})
    assert "secret" not in m.html
    assert "<span>soon</span>" in m.html and 'href="/hub/help/"' in m.html


def test_disallowed_schemes_never_reach_the_page() -> None:
    m = convert("[x](javascript:alert(1)) [y](https://example.org/)")
    assert "javascript" not in m.html
    assert 'href="https://example.org/"' in m.html


def test_converter_is_reusable_without_leaking_state() -> None:
    c = Converter(allow_html=False)
    first = c.convert("[a](/a/)", origin=ORIGIN, rewrite=lambda p: p)
    second = c.convert("plain", origin=ORIGIN, rewrite=lambda p: p)
    assert len(first.refs) == 1 and second.refs == ()


def test_email_autolinks_are_checked_as_the_mailto_links_they_are() -> None:
    """Python-Markdown hides <a@b.c> behind entities; the check sees through them."""
    m = convert("Mail <hi@example.org> now")
    assert [(r.url, r.span.line, r.span.col) for r in m.refs] == [("mailto:hi@example.org", 5, 7)]
    assert "&#109;&#97;&#105;&#108;" in m.html  # still obfuscated on the page
