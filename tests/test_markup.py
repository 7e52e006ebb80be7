"""markup: Markdown with escaped raw HTML, rewritten site links, found positions."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import SubElement

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubgen.diagnostics import Span
from hubgen.markup import Converter, absolutize
from hubgen.urls import Urls

ORIGIN = Span("d.md", 5, 1)


def convert(source: str, *, allow_html: bool = False, gone: set[str] = frozenset()) -> object:
    return Converter(allow_html=allow_html).convert(
        source, origin=ORIGIN, rewrite=lambda p: None if p in gone else "/hub" + p
    )


def test_raw_html_is_escaped_by_default() -> None:
    m = convert('Hi <script>alert(1)</script>\n\n<div onclick="x">y</div>\n')
    assert "<script" not in m.html and "<div" not in m.html
    assert "&lt;script&gt;" in m.html
    # where each was written, for the warning that it shows as text
    assert m.raw_html == (("<script>", Span("d.md", 5, 4)), ("<div>", Span("d.md", 7, 1)))
    assert convert("No tags: a < b, and `<code>` is code\n").raw_html == ()


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
    assert len(first.refs) == 1 and len(second.refs) == 0


def test_email_autolinks_are_checked_as_the_mailto_links_they_are() -> None:
    """Python-Markdown hides <a@b.c> behind entities; the check sees through them."""
    m = convert("Mail <hi@example.org> now")
    assert [(r.url, r.span.line, r.span.col) for r in m.refs] == [("mailto:hi@example.org", 5, 7)]
    assert "&#109;&#97;&#105;&#108;" in m.html  # still obfuscated on the page


# A feed's bodies are the pages' HTML with absolute links (`absolutize`), not
# their Markdown rendered again: the same bytes, or a feed reader would see
# other links than the page shows.
TRICKY = [
    'See [help](/help/ \'the "help" page\') and ![a "moon" src="/x"](/media/m.svg "t").',
    "[ref][r] and [other][o]\n\n[r]: /may/one/\n[o]: //cdn.example.com/x",
    "<https://example.org/a> and <mailto:a@b.c> and <a@b.c> and <https://other.org/>",
    '`<a href="/x">` and <a href="/y">raw</a> and <img src="/z">\n\n    <a href="/code">',
    "| a | b |\n| - | - |\n| [t](/t/) | ![i](/i.png) |\n\n- [l](/l/?q=1&r=2#f)\n- [e](/é ü/)",
    "[rel](relative/page) [frag](#top) [q](?x=1) ![ext](https://other.org/i.png)",
    "A [link *with* `code`](/a/b/) in **bold [nested](/n/)** text.",
]


def _both(source: str, base_url: str) -> tuple[str | None, str]:
    u = Urls.for_base(base_url)
    converter = Converter(allow_html=False, external=u.is_external)
    page = converter.convert(source, origin=ORIGIN, rewrite=u.href).html
    feed = converter.convert(source, origin=ORIGIN, rewrite=u.absolute).html
    return absolutize(page, u.origin), feed


def test_absolute_links_are_made_from_the_page_html_as_markdown_would() -> None:
    for source in TRICKY:
        for base_url in ("https://example.org/", "https://example.org/hub/"):
            derived, rendered = _both(source, base_url)
            assert derived == rendered, (source, base_url)
    derived, _ = _both(TRICKY[0], "https://example.org/")
    assert 'href="https://example.org/help/"' in str(derived)
    assert 'src="https://example.org/media/m.svg"' in str(derived)


_MARKDOWNISH = st.lists(
    st.sampled_from(
        ["[", "]", "(", ")", "!", "<", ">", '"', "'", "&", "*", "`", "\n", " ", "#", "|", "-"]
        + ["/", "//", "a", "é", "/help/", "https://other.org/", "http://example.org/x"]
        + ["[x](/p/)", "![i](/m.png)", '<a href="/r">', "\n\n", "    ", "\n[r]: /ref/\n"]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None, derandomize=bool(os.environ.get("CI")))
@given(source=_MARKDOWNISH, base_url=st.sampled_from(["https://example.org/", "http://x.org/a/"]))
def test_absolutize_agrees_with_markdown_on_any_text(source: str, base_url: str) -> None:
    derived, rendered = _both(source, base_url)
    assert derived == rendered


def test_an_origin_that_would_be_escaped_is_not_absolutized() -> None:
    assert absolutize('<a href="/x">x</a>', "https://a&b.org") is None


_INLINE = st.lists(
    st.sampled_from(
        ["*", "**", "_", "__", "`", "``", "\\", "[", "]", "(", ")", "!", "<", ">", "&", ";"]
        + ["#x41", "amp", "  \n", "\n", "\n\n", " ", "a", "b c", "/p/", "x@y.org", "https://o.org"]
        + ["[x](/p/)", "![i](/m.png)", "[r]", "[r][]", "\n[r]: /ref/\n", "<b>", "<!-- c -->"]
        + ["> ", "- ", "1. ", "    ", "| a | b |\n|---|---|\n", "```\n", "&amp;", "&#65;"]
        + ["|", "a | b\n--- | ---\n", "|x|\n|-|\n", ":-:", "\\|"]
        + ["#", "# ", "## h", "\n#", "1. ", "2.", "12. x", "1) ", "\u0663. ", "\u00b2. ", "\n> q"]
        + ["   1. ", "    1. ", " > ", "\n\n    - ", "\n- ", "text\n1. a\n2. b"]
        + ['"', "'", "](", "](/y)", "(x)", "[a [b] c](/x)", '[t](/x "q")', "[t](/x 'q')"]
        + ["[x](<a b>)", "[x](/p(1))", '[x](/a "b)', "![i][r]", "[r] [r]", " \\]"]
        + ["\t", "\r", "\r\n", " \n", "\n \n", "\u0002", "\u0003", "~~~\n", "---\n", "* * *"]
        + ["\n[q]:/q/\n", "[q]", "  [q]:\n  /q/ 'Q'\n"]
        + ["=", "-", "\n===\n", "\n--", "Title\n=", "_ _", "*  *", "- -", " - "]
    ),
    max_size=40,
).map("".join)


def _stock(allow_html: bool) -> Converter:
    """A converter with Python-Markdown's own processors in place of each quick
    one (`quickmarkdown`): its inline processor, which tries every pattern; its
    block processors, which test every block; its link patterns, whitespace,
    fenced-code and unescaping steps, which look at every text."""
    from markdown import inlinepatterns as stock
    from markdown.blockprocessors import (
        BlockQuoteProcessor,
        HashHeaderProcessor,
        HRProcessor,
        ReferenceProcessor,
        SetextHeaderProcessor,
    )
    from markdown.extensions.fenced_code import FencedBlockPreprocessor
    from markdown.extensions.sane_lists import SaneOListProcessor
    from markdown.extensions.tables import TableProcessor
    from markdown.preprocessors import NormalizeWhitespace
    from markdown.treeprocessors import InlineProcessor, UnescapeTreeprocessor
    from markdown.util import Registry

    converter = Converter(allow_html=allow_html)
    md = converter.md
    del md.is_block_level  # the stock method: the names looked up at each call
    md.treeprocessors.register(InlineProcessor(md), "inline", 20)
    md.treeprocessors.register(UnescapeTreeprocessor(md), "unescape", 0)
    md.preprocessors.register(NormalizeWhitespace(md), "normalize_whitespace", 30)
    fenced = md.preprocessors["fenced_code_block"]
    md.preprocessors.register(FencedBlockPreprocessor(md, fenced.config), "fenced_code_block", 25)
    links = md.inlinePatterns
    links.register(stock.ReferenceInlineProcessor(stock.REFERENCE_RE, md), "reference", 170)
    links.register(stock.LinkInlineProcessor(stock.LINK_RE, md), "link", 160)
    links.register(stock.ImageInlineProcessor(stock.IMAGE_LINK_RE, md), "image_link", 150)
    image_reference = stock.ImageReferenceInlineProcessor(stock.IMAGE_REFERENCE_RE, md)
    links.register(image_reference, "image_reference", 140)
    short = stock.ShortReferenceInlineProcessor(stock.REFERENCE_RE, md)
    links.register(short, "short_reference", 130)
    short_image = stock.ShortImageReferenceInlineProcessor(stock.IMAGE_REFERENCE_RE, md)
    links.register(short_image, "short_image_ref", 125)
    blocks = md.parser.blockprocessors
    blocks.__class__ = Registry  # listed afresh for each block
    blocks.register(TableProcessor(md.parser, {"use_align_attribute": True}), "table", 75)
    blocks.register(HashHeaderProcessor(md.parser), "hashheader", 70)
    blocks.register(SetextHeaderProcessor(md.parser), "setextheader", 60)
    blocks.register(SaneOListProcessor(md.parser), "olist", 40)
    blocks.register(HRProcessor(md.parser), "hr", 50)
    blocks.register(BlockQuoteProcessor(md.parser), "quote", 20)
    blocks.register(ReferenceProcessor(md.parser), "reference", 15)
    return converter


_FAST = {flag: Converter(allow_html=flag) for flag in (False, True)}
_SLOW = {flag: _stock(flag) for flag in (False, True)}


def _same_as_stock(source: str, allow_html: bool) -> None:
    def rewrite(path: str) -> str:
        return "/hub" + path

    fast = _FAST[allow_html].convert(source, origin=ORIGIN, rewrite=rewrite)
    slow = _SLOW[allow_html].convert(source, origin=ORIGIN, rewrite=rewrite)
    assert (fast.html, fast.refs, fast.raw_html) == (slow.html, slow.refs, slow.raw_html), source


@settings(max_examples=500, deadline=None, derandomize=bool(os.environ.get("CI")))
@given(source=_INLINE, allow_html=st.booleans())
def test_inline_patterns_passed_over_change_nothing(source: str, allow_html: bool) -> None:
    """Patterns are not tried on texts that lack what they need (`quickmarkdown`):
    the HTML, links and raw tags are those of Python-Markdown's own processor."""
    _same_as_stock(source, allow_html)


@pytest.mark.parametrize("mark", ["-", "_", "*"])
@pytest.mark.parametrize("gap", ["", " ", "  "])
def test_horizontal_rules_of_every_spacing_render_as_with_every_test_made(
    mark: str, gap: str
) -> None:
    rule = gap.join(mark * 3)
    for text in (rule, f"Text\n{rule}\n", f"   {rule}  ", f"a {rule} b", f"- x\n\n{rule}{mark}"):
        for allow_html in (False, True):
            _same_as_stock(text, allow_html)
    assert "<hr" in _FAST[False].convert(rule, origin=ORIGIN, rewrite=str).html


@pytest.mark.parametrize(
    "text",
    [
        "# Title",
        "Text\n## Title ##\nmore",
        "Text #not a title",
        " # not a title",
        "Title\n=====",
        "Title\n---  \n",
        "Title\n=\nText",
        "One\nTwo\n---",
        "Title\n- item",
        "Title\n ===",
        "- item\n---",
        "[a][r] and [r] and ![i][r] and ![r]\n\n[r]: /x/",
        "[a][r] and [r] and ![i][r] and ![r]",
        "[a] [R]\n\n[r]: /x/ 'T'",
        "[a](/p/) [b][] [c]\n\n[c]: /c/",
    ],
)
def test_headers_and_references_render_as_with_every_test_made(text: str) -> None:
    """Headers of both kinds are tested only where their marks can stand, and
    a document that defines no reference is not searched for references."""
    for allow_html in (False, True):
        _same_as_stock(text, allow_html)


def test_processors_and_block_names_changed_after_a_conversion_are_used() -> None:
    """The quick converter lists its block processors and remembers which tags
    are block-level once per change, not never again."""
    from markdown.blockprocessors import BlockProcessor

    class Shout(BlockProcessor):
        def test(self, parent: object, block: str) -> bool:
            return block.startswith("!!")

        def run(self, parent: Any, blocks: list[str]) -> None:
            SubElement(parent, "strong").text = blocks.pop(0)[2:]

    converter = Converter(allow_html=False)
    md = converter.md
    assert converter.convert("!!hey", origin=ORIGIN, rewrite=str).html == "<p>!!hey</p>"
    md.parser.blockprocessors.register(Shout(md.parser), "shout", 200)
    assert converter.convert("!!hey", origin=ORIGIN, rewrite=str).html == "<strong>hey</strong>"
    assert not md.is_block_level("strong")
    md.block_level_elements.append("strong")
    assert md.is_block_level("strong")
    md.parser.blockprocessors.deregister("shout")
    assert converter.convert("!!hey", origin=ORIGIN, rewrite=str).html == "<p>!!hey</p>"


def test_the_projects_markdown_renders_as_with_every_pattern_tried() -> None:
    root = Path(__file__).parent.parent
    files = sorted(
        {*root.glob("content/**/*.md"), *root.glob("tests/**/*.md"), *root.glob("docs/*.md")}
        | {root / "README.md"}
    )
    assert len(files) > 20
    for path in files:
        text = path.read_text("utf-8", errors="replace")
        for allow_html in (False, True):
            _same_as_stock(text, allow_html)
    assert type(_FAST[False].md.treeprocessors["inline"]).__name__ == "_SkippingInline"
    blocks = _FAST[False].md.parser.blockprocessors
    assert type(blocks).__name__ == "_Listed"
    assert type(_SLOW[False].md.parser.blockprocessors).__name__ == "Registry"
    assert "is_block_level" in vars(_FAST[False].md)
    assert "is_block_level" not in vars(_SLOW[False].md)
    names = ("table", "hashheader", "setextheader", "hr", "olist", "quote", "reference")
    assert [type(blocks[name]).__name__ for name in names] == [
        "_PipedTable",
        "_HashHeader",
        "_Setext",
        "_HR",
        "_SaneOList",
        "_BlockQuote",
        "_Reference",
    ]
    trees, preprocessors = _FAST[False].md.treeprocessors, _FAST[False].md.preprocessors
    assert type(trees["unescape"]).__name__ == "_Unescape"
    assert type(preprocessors["fenced_code_block"]).__name__ == "_Fenced"
    assert type(preprocessors["normalize_whitespace"]).__name__ == "_Normalize"
    inlines = _FAST[False].md.inlinePatterns
    assert [type(inlines[name]).__name__ for name in ("link", "image_link", "reference")] == [
        "_QuickLink",
        "_QuickImage",
        "_QuickReference",
    ]


@settings(max_examples=200, deadline=None, derandomize=bool(os.environ.get("CI")))
@given(source=_INLINE)
def test_quick_tests_change_nothing_in_python_markdown_s_own_configuration(source: str) -> None:
    """`QuickTests` after Python-Markdown's stock lists (not sane_lists) and
    raw HTML on: the same HTML as without it."""
    import markdown

    from hubgen.quickmarkdown import QuickTests

    quick = markdown.Markdown(extensions=["tables", QuickTests()])
    stock = markdown.Markdown(extensions=["tables"])
    assert type(quick.parser.blockprocessors["olist"]).__name__ == "_OList"
    assert type(quick.inlinePatterns["short_image_ref"]).__name__ == "_QuickShortImageReference"
    assert quick.convert(source) == stock.convert(source), source
