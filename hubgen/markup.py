"""Markdown to HTML, through Python-Markdown's own extension points.

One `markdown.Markdown` instance per configuration is reused (`reset()` between
documents), because building one is costly. A tree processor sees every link
and image: it rewrites site paths ("/about/", "/media/x.png") to URLs under
`base_url`, records them with their position for validation, and can unlink
targets that will not be published, and marks links to other hosts
`rel="noopener"`. Raw HTML is escaped by removing the two processors that pass
it through, unless the site opts in with `allow_html`; where it was written is
recorded, so that the author is told it shows as text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

import markdown
from markdown.extensions import Extension
from markdown.extensions.fenced_code import FencedCodeExtension
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.tables import TableExtension
from markdown.treeprocessors import Treeprocessor
from markdown.util import AMP_SUBSTITUTE
from markupsafe import Markup as Html

from hubgen.cache import file_hash
from hubgen.diagnostics import Span
from hubgen.fieldtypes import url_problem
from hubgen.model import LinkRef, LinkRefs, Markup
from hubgen.quickmarkdown import QuickTests

# Given a site path, the URL to write, or None to drop the link (keep its text).
Rewrite = Callable[[str], str | None]
# Tables align cells with the align attribute, not style="": pages satisfy a
# Content-Security-Policy without 'unsafe-inline' styles. No "smarty": its
# inline patterns more than doubled the cost of every conversion, for curly
# quotes that authors can type themselves.
# Instances, not names: a name is looked up among every installed package's
# entry points, about 20 ms of a build that renders any Markdown.
_EXTENSIONS = [
    TableExtension(use_align_attribute=True),
    FencedCodeExtension(),
    SaneListExtension(),
    QuickTests(),  # last: Python-Markdown's processors, with quick tests in front
]
# What a browser would take for a tag or a comment, had it not been escaped.
_RAW_TAG = re.compile(r"<(/?[A-Za-z][A-Za-z0-9-]*)[^<>]*>|<!")


class TooDeep(Exception):
    """The Markdown nests lists or quotes too deeply to be rendered."""


def _never(url: str) -> bool:
    return False


class _Links(Treeprocessor):
    def __init__(self, md: markdown.Markdown, external: Callable[[str], bool]) -> None:
        super().__init__(md)
        self.rewrite: Rewrite = lambda path: path
        self.external = external
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
        if AMP_SUBSTITUTE in href:  # an <a@b.c> autolink, obfuscated with entities
            href = html.unescape(href.replace(AMP_SUBSTITUTE, "&"))
        self.found.append((href, False, ""))
        if not _is_site_path(href):
            if url_problem(href, site_paths=False) and not href.startswith("#"):
                del el.attrib["href"]  # reported by validation; never written
            elif self.external(href):
                el.set("rel", "noopener")
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


# A link's href or an image's src that is a site path: Python-Markdown writes
# attributes in name order, each value escaped (no '"' or '>' inside).
_SITE_TARGET = re.compile(r'(<a\b[^>]*? href="|<img\b[^>]*? src=")(?=/(?!/))')


def absolutize(rendered: str, origin: str) -> str | None:
    """HTML rendered with raw HTML off and each site path `p` written as
    `Urls.href(p)`, as it would have been rendered with `origin + href(p)`
    (`Urls.absolute`): without Markdown again, a feed's second rendering of
    every body. Only Markdown wrote its tags and links, so every `href` or
    `src` starting with one "/" is a site path it rewrote. None when `origin`
    would be escaped in an attribute (never, for a scheme and a host)."""
    if any(c in origin for c in '&<>"'):
        return None
    return _SITE_TARGET.sub(lambda m: m.group(1) + origin, rendered)


def _is_site_path(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")


class _RawHtml(Treeprocessor):
    """Finds text that was written as HTML (and so is shown escaped), outside code."""

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        self.found: list[str] = []  # "<div", "</b", "<!--", in document order
        self.skip = False  # the source holds no "<": nothing to find in its text

    def run(self, root: Element) -> None:
        if self.skip:
            return
        # Depth first, in document order, with a stack: nesting can be deep.
        stack: list[Element | str | None] = [root]
        while stack:
            item = stack.pop()
            if item is None or isinstance(item, str):
                self._text(item)
                continue
            if item is not root:
                stack.append(item.tail)
            if item.tag not in ("code", "pre"):
                for child in reversed(item):
                    stack.append(child)
                stack.append(item.text)

    def _text(self, text: str | None) -> None:
        for m in _RAW_TAG.finditer(text or ""):
            self.found.append("<!" if m.group(1) is None else "<" + m.group(1))


class _LinkExtension(Extension):
    def __init__(self, external: Callable[[str], bool]) -> None:
        super().__init__()
        self.external = external

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (API name)
        md.treeprocessors.register(_Links(md, self.external), "hubgen_links", 1)
        md.treeprocessors.register(_RawHtml(md), "hubgen_raw_html", 2)


@dataclass
class Converter:
    """A reusable Markdown converter for one `allow_html` setting.

    `external` says whether an absolute URL leads to another site; such links
    get rel="noopener".
    """

    allow_html: bool
    external: Callable[[str], bool] = field(default=_never)

    def __post_init__(self) -> None:
        extensions = [*_EXTENSIONS, _LinkExtension(self.external)]
        self.md = markdown.Markdown(extensions=extensions)
        self.raw: _RawHtml = self.md.treeprocessors["hubgen_raw_html"]
        if self.allow_html:
            self.md.treeprocessors.deregister("hubgen_raw_html")
        else:
            self.md.preprocessors.deregister("html_block")
            self.md.inlinePatterns.deregister("html")
        self.links: _Links = self.md.treeprocessors["hubgen_links"]

    def convert(
        self, source: str, *, origin: Span, rewrite: Rewrite, verbatim: str | None = None
    ) -> Markup:
        """Render `source`, which starts in its file at `origin`.

        When `source` is not the file's text as written (a YAML value, unfolded
        and unindented), `verbatim` is that text from `origin` on, so that link
        positions are found where the author wrote them. Raises `TooDeep`
        for text nested beyond what Python-Markdown (which recurses) can render.
        """
        self.md.reset()
        self.links.found = []
        self.links.rewrite = rewrite
        self.raw.found = []
        self.raw.skip = "<" not in source  # a tag, comment or autolink needs one
        try:
            html = self.md.convert(source)
        except RecursionError:
            raise TooDeep from None
        haystack = source if verbatim is None else verbatim
        refs = _locate(haystack, origin, self.links.found)
        raw = tuple(_locate_tags(haystack, origin, self.raw.found))
        return Markup(source, text_hash(source), Html(html), refs, raw)


def _locate(text: str, origin: Span, found: list[tuple[str, bool, str]]) -> LinkRefs:
    """Find each link's position by searching its URL in the text, in order."""
    flat: list[str | int | bool] = []
    pos = 0
    for url, image, alt in found:
        index = _find_url(text, url, pos)
        if index >= 0:
            pos = index + len(url)
        flat += (url, *_position(text, max(index, 0), origin), image, alt)
    return LinkRefs(tuple(flat), origin.path)


def _locate_tags(text: str, origin: Span, found: list[str]) -> list[tuple[str, Span]]:
    """Each raw tag's position, searched in order like links; one per line is enough."""
    tags: dict[int, tuple[str, Span]] = {}
    pos = 0
    for tag in found:
        index = text.find(tag, pos)
        if index < 0:
            continue
        pos = index + len(tag)
        span = _span_at(text, index, origin)
        shown = text[index : index + 4] if tag == "<!" else tag + ">"
        tags.setdefault(span.line, (shown, span))
    return list(tags.values())


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
        if url.startswith("mailto:") and (i := text.find("<" + url[7:], begin)) >= 0:
            return i + 1  # written as <a@b.c>
    # Markdown expanded tabs to spaces: match any run of blanks as written.
    loose = r"[ \t]+".join(re.escape(part) for part in url.split())
    found = re.compile(loose).search(text, start) if loose else None
    return found.start() if found else -1


def _span_at(text: str, index: int, origin: Span) -> Span:
    return Span(origin.path, *_position(text, index, origin))


def _position(text: str, index: int, origin: Span) -> tuple[int, int]:
    """Where `text[index]` is in the file, `text` starting at `origin`."""
    line = text.count("\n", 0, index)
    line_start = text.rfind("\n", 0, index) + 1
    col = index - line_start + (origin.col if line == 0 else 1)
    return origin.line + line, col


def text_hash(source: str) -> str:
    """The hash a Markdown text is known by (`Markup.source_hash`): its
    bytes', as a file's in the cache."""
    return file_hash(source.encode("utf-8", "surrogatepass"))


def to_json(markup: Markup) -> dict[str, object]:
    """A Markup as plain data for the build cache (its source is the cache key)."""
    return {
        "html": markup.html,
        "refs": [[r.url, r.span.line, r.span.col, r.image, r.alt] for r in markup.refs],
        "raw": [[tag, span.line, span.col] for tag, span in markup.raw_html],
    }


def from_json(value: object, source: str, path: str) -> Markup | None:
    """The Markup `to_json` stored, or None for anything of another shape."""
    try:
        html, refs, raw = value["html"], value["refs"], value["raw"]  # type: ignore[index]
        links = LinkRefs.of(
            [
                LinkRef(url, Span(path, line, col), image, alt)
                for url, line, col, image, alt in refs
            ],
            path,
        )
        tags = tuple((tag, Span(path, line, col)) for tag, line, col in raw)
    except (KeyError, TypeError, ValueError):
        return None
    shapes = [isinstance(html, str)]
    shapes += [
        isinstance(r.url, str)
        and isinstance(r.alt, str)
        and isinstance(r.image, bool)
        and _line_col(r.span)
        for r in links
    ]
    shapes += [isinstance(tag, str) and _line_col(span) for tag, span in tags]
    if not all(shapes):
        return None
    return Markup(source, text_hash(source), Html(html), links, tags)


def _line_col(span: Span) -> bool:
    return type(span.line) is int and type(span.col) is int
