"""Markdown to HTML, through Python-Markdown's own extension points.

One `markdown.Markdown` instance per configuration is reused (`reset()` between
documents), because building one is costly. A tree processor sees every link
and image: it rewrites site paths ("/about/", "/media/x.png") to URLs under
`base_url`, records them with their position for validation, and can unlink
targets that will not be published. Raw HTML is escaped by removing the two
processors that pass it through, unless the site opts in with `allow_html`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from hubgen.diagnostics import Span
from hubgen.fieldtypes import url_problem
from hubgen.model import LinkRef, Markup

# Given a site path, the URL to write, or None to drop the link (keep its text).
Rewrite = Callable[[str], str | None]
_EXTENSIONS = ["tables", "fenced_code", "sane_lists", "smarty"]


class _Links(Treeprocessor):
    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        self.rewrite: Rewrite = lambda path: path
        self.found: list[tuple[str, bool, str]] = []  # (url, is image, alt text)

    def run(self, root: Element) -> None:
        for parent in root.iter():
            for el in list(parent):
                if el.tag == "a" and "href" in el.attrib:
                    self._link(parent, el)
                elif el.tag == "img":
                    self._image(el)

    def _link(self, parent: Element, el: Element) -> None:
        href = el.attrib["href"]
        self.found.append((href, False, ""))
        if not _is_site_path(href):
            if url_problem(href, site_paths=False) and not href.startswith("#"):
                del el.attrib["href"]  # reported by validation; never written
            return
        target = self.rewrite(href)
        if target is not None:
            el.set("href", target)
            return
        # Unlink: keep the text and children, drop the element itself.
        el.tag = "span"
        el.attrib.clear()

    def _image(self, el: Element) -> None:
        src = el.attrib.get("src", "")
        self.found.append((src, True, el.attrib.get("alt", "")))
        if _is_site_path(src):
            el.set("src", self.rewrite(src) or "")
        el.set("loading", "lazy")


def _is_site_path(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")


class _LinkExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (API name)
        md.treeprocessors.register(_Links(md), "hubgen_links", 1)


@dataclass
class Converter:
    """A reusable Markdown converter for one `allow_html` setting."""

    allow_html: bool

    def __post_init__(self) -> None:
        self.md = markdown.Markdown(extensions=[*_EXTENSIONS, _LinkExtension()])
        if not self.allow_html:
            self.md.preprocessors.deregister("html_block")
            self.md.inlinePatterns.deregister("html")
        self.links: _Links = self.md.treeprocessors["hubgen_links"]

    def convert(
        self, source: str, *, origin: Span, rewrite: Rewrite, verbatim: str | None = None
    ) -> Markup:
        """Render `source`, which starts in its file at `origin`.

        When `source` is not the file's text as written (a YAML value, unfolded
        and unindented), `verbatim` is that text from `origin` on, so that link
        positions are found where the author wrote them.
        """
        self.md.reset()
        self.links.found = []
        self.links.rewrite = rewrite
        html = self.md.convert(source)
        haystack = source if verbatim is None else verbatim
        refs = tuple(_locate(haystack, origin, self.links.found))
        return Markup(source=source, html=html, refs=refs)


def _locate(text: str, origin: Span, found: list[tuple[str, bool, str]]) -> list[LinkRef]:
    """Find each link's position by searching its URL in the text, in order."""
    refs = []
    pos = 0
    for url, image, alt in found:
        index = _find_url(text, url, pos)
        if index >= 0:
            pos = index + len(url)
        refs.append(LinkRef(url, _span_at(text, max(index, 0), origin), image, alt))
    return refs


def _find_url(text: str, url: str, start: int) -> int:
    """Where `url` is written as a link target: after "(" or "<" if possible."""
    if not url:
        return -1
    for begin in (start, 0):
        hits = [i + 1 for mark in "(<" if (i := text.find(mark + url, begin)) >= 0]
        if hits:
            return min(hits)
        if (i := text.find(url, begin)) >= 0:
            return i
    return -1


def _span_at(text: str, index: int, origin: Span) -> Span:
    line = text.count("\n", 0, index)
    line_start = text.rfind("\n", 0, index) + 1
    col = index - line_start + (origin.col if line == 0 else 1)
    return Span(origin.path, origin.line + line, col)
