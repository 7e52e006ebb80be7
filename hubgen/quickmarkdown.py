"""Python-Markdown's own processors, each with a quick test in front.

Python-Markdown tries every inline pattern on every text of a document, and
every block test on every block; most of those tries cannot succeed, and find
that out only after a regular expression has searched the whole text. The
processors here are its own, subclassed: a substring test that every match
needs ("[" for a link, "#" for a header) first passes over the texts and
blocks that cannot match. The HTML is the same (tests render generated
Markdown, and the project's own, with the stock processors too and compare);
converting the benchmark site's bodies took 2.3 s before, 1.2 s after.

The same goes for the steps that look at every text whatever it holds:
whitespace normalised, fenced code searched for, escapes restored. And a
link's text and target are found with `str.find` where they hold no nested
brackets or quotes, not by a loop over each character (tried by each of the
six link and reference patterns in turn): with these, 1.2 s -> 1.0 s.
Headers of both kinds and rules are tested by where their marks must stand,
the block processors are listed once per change of their registry, not for
each block, which tags are block-level is remembered, and a document that
defines no reference is not searched for references (`_SkippingInline`):
the 10,000-drop site's bodies, in one process, 5.31 -> 4.41 s; and a text
holding nothing any pattern needs is passed over in one search, not pattern
by pattern (4.41 -> 4.32 s).

`QuickTests`, last among a converter's extensions, puts these in place of
the processors registered before it, under the same names and priorities,
where those are Python-Markdown's own classes. Anything else (a pattern or
processor of another extension) is tried on every text, as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any
from xml.etree.ElementTree import Element

import markdown
from markdown import inlinepatterns
from markdown.blockprocessors import (
    BlockQuoteProcessor,
    HashHeaderProcessor,
    HRProcessor,
    OListProcessor,
    ReferenceProcessor,
    SetextHeaderProcessor,
)
from markdown.extensions import Extension
from markdown.extensions.fenced_code import FencedBlockPreprocessor
from markdown.extensions.sane_lists import SaneOListProcessor
from markdown.extensions.tables import TableProcessor
from markdown.preprocessors import NormalizeWhitespace
from markdown.treeprocessors import InlineProcessor, UnescapeTreeprocessor
from markdown.util import ETX, STX, AtomicString, Registry


class QuickTests(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (API name)
        _replace(md, md.parser.blockprocessors, _BLOCKS)
        if type(md.parser.blockprocessors) is Registry:  # the same items, listed once
            md.parser.blockprocessors.__class__ = _Listed
        md.is_block_level = _block_level(md)  # type: ignore[method-assign]
        _replace(md, md.preprocessors, _PREPROCESSORS)
        _replace(md, md.treeprocessors, _TREES)
        _replace(md, md.inlinePatterns, _INLINES)
        trees = md.treeprocessors
        if _CAN_SKIP and "inline" in trees and type(trees["inline"]) is InlineProcessor:
            trees.register(_SkippingInline(md), "inline", 20)


# name, priority (as Python-Markdown registers it), its class, the quick one
_Quick = tuple[str, int, type, Callable[[markdown.Markdown, Any], Any]]


def _replace(md: markdown.Markdown, registry: Registry[Any], table: list[_Quick]) -> None:
    for name, priority, stock, quick in table:
        if name in registry and type(registry[name]) is stock:
            registry.register(quick(md, registry[name]), name, priority)


class _PipedTable(TableProcessor):
    """Not a block without a "|": a table's header row has one. The test split
    every block of every document into rows."""

    def test(self, parent: Element, block: str) -> bool:
        return "|" in block and super().test(parent, block)


class _HashHeader(HashHeaderProcessor):
    def test(self, parent: Element, block: str) -> bool:
        # A header's marks start the block or a line of it.
        return (block[:1] == "#" or "\n#" in block) and super().test(parent, block)


class _Setext(SetextHeaderProcessor):
    def test(self, parent: Element, block: str) -> bool:
        # The pattern: the block's first line, then a line of "=" or "-".
        under = block.find("\n") + 1
        return under > 0 and block[under : under + 1] in _UNDERLINES and super().test(parent, block)


_UNDERLINES = ("=", "-")


class _BlockQuote(BlockQuoteProcessor):
    def test(self, parent: Element, block: str) -> bool:
        return ">" in block and super().test(parent, block)


class _OList(OListProcessor):
    def test(self, parent: Element, block: str) -> bool:
        # The pattern: up to three spaces, then a digit (a `\d` is a str.isdigit one).
        return block.lstrip(" ")[:1].isdigit() and super().test(parent, block)


class _SaneOList(_OList, SaneOListProcessor):
    """sane_lists' ordered lists (its own child pattern), with the same test."""


class _Reference(ReferenceProcessor):
    def test(self, parent: Element, block: str) -> bool:
        return "]:" in block  # stock: always, then a search of the block for a definition


class _HR(HRProcessor):
    def test(self, parent: Element, block: str) -> bool:
        # A rule is three or more of one mark, with up to two spaces between.
        return _HR_PAIR.search(block) is not None and super().test(parent, block)


_HR_PAIR = re.compile(r"([-_*]) {0,2}\1")


def _block_level(md: markdown.Markdown) -> Callable[[Any], bool]:
    """`Markdown.is_block_level`, remembered for each tag while the list of
    block-level names stays the same list of the same length: the stock test
    lowers the tag and looks it up in that list of 59 names, and making the
    HTML asks it two or three times of each element (a thirtieth of a
    conversion)."""
    stock = md.is_block_level
    known: dict[Any, bool] = {}
    told: tuple[list[str], int] | None = None  # the list the answers are for, its length

    def is_block_level(tag: Any) -> bool:
        nonlocal told
        names = md.block_level_elements
        if told is None or told[0] is not names or told[1] != len(names):
            known.clear()
            told = (names, len(names))
        found = known.get(tag)
        if found is None:
            found = known[tag] = stock(tag)
        return found

    return is_block_level


class _Listed(Registry[Any]):
    """The block processors, listed once per change, not once per block: the
    block parser goes through them for each block, and the stock registry
    lists them afresh each time (a twentieth of a conversion)."""

    _listed: list[Any] | None = None

    def __iter__(self) -> Iterator[Any]:
        if self._listed is None:
            self._listed = list(super().__iter__())
        return iter(self._listed)

    def register(self, item: Any, name: str, priority: float) -> None:
        self._listed = None
        super().register(item, name, priority)

    def deregister(self, name: str, strict: bool = True) -> None:
        self._listed = None
        super().deregister(name, strict)


class _Fenced(FencedBlockPreprocessor):
    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        if "```" not in text and "~~~" not in text:
            return lines  # no fence: its expression searched each whole text
        return super().run(lines)


class _Unescape(UnescapeTreeprocessor):
    def unescape(self, text: str) -> str:
        return super().unescape(text) if STX in text else text


class _Normalize(NormalizeWhitespace):
    """Text without tabs, carriage returns, Python-Markdown's own markers or
    a line of spaces is taken as it is: each step would change nothing, and
    the regular expression alone took a twentieth of a conversion."""

    def run(self, lines: list[str]) -> list[str]:
        source = "\n".join(lines) + "\n\n"
        if any(mark in source for mark in _NORMALIZED):
            return super().run(lines)
        return source.split("\n")


_NORMALIZED = (STX, ETX, "\r", "\t", " \n")


class _QuickBrackets(inlinepatterns.LinkInlineProcessor):
    """A link's text and target found with `str.find` when they hold no
    nested brackets or quotes (most links), instead of by a loop over each
    character, which was a tenth of a conversion. Otherwise the stock loops
    (which, on such text, stop at the same place with the same result)."""

    def getText(self, data: str, index: int) -> tuple[str, int, bool]:  # noqa: N802 (API name)
        end = data.find("]", index)
        if end != -1 and data.find("[", index, end) == -1:
            return data[index:end], end + 1, True
        return super().getText(data, index)

    def getLink(self, data: str, index: int) -> tuple[str, str | None, int, bool]:  # noqa: N802
        m = self.RE_LINK.match(data, pos=index)
        if m and not m.group(1):  # not an <angled> target
            start = m.end()
            end = data.find(")", start)
            target = data[start:end]
            if end != -1 and "(" not in target and "'" not in target and '"' not in target:
                return self.unescape(target).strip(), None, end + 1, True
        return super().getLink(data, index)


class _QuickLink(_QuickBrackets):
    pass


class _QuickImage(_QuickBrackets, inlinepatterns.ImageInlineProcessor):
    pass


class _QuickReference(_QuickBrackets, inlinepatterns.ReferenceInlineProcessor):
    pass


class _QuickImageReference(_QuickBrackets, inlinepatterns.ImageReferenceInlineProcessor):
    pass


class _QuickShortReference(_QuickBrackets, inlinepatterns.ShortReferenceInlineProcessor):
    pass


class _QuickShortImageReference(_QuickBrackets, inlinepatterns.ShortImageReferenceInlineProcessor):
    pass


_INLINES: list[_Quick] = [
    (name, priority, stock, lambda md, old, quick=quick: quick(old.pattern, md))
    for name, priority, stock, quick in [
        ("reference", 170, inlinepatterns.ReferenceInlineProcessor, _QuickReference),
        ("link", 160, inlinepatterns.LinkInlineProcessor, _QuickLink),
        ("image_link", 150, inlinepatterns.ImageInlineProcessor, _QuickImage),
        (
            "image_reference",
            140,
            inlinepatterns.ImageReferenceInlineProcessor,
            _QuickImageReference,
        ),
        (
            "short_reference",
            130,
            inlinepatterns.ShortReferenceInlineProcessor,
            _QuickShortReference,
        ),
        (
            "short_image_ref",
            125,
            inlinepatterns.ShortImageReferenceInlineProcessor,
            _QuickShortImageReference,
        ),
    ]
]
_BLOCKS: list[_Quick] = [
    ("table", 75, TableProcessor, lambda md, old: _PipedTable(md.parser, old.config)),  # type: ignore[attr-defined]
    ("hashheader", 70, HashHeaderProcessor, lambda md, _old: _HashHeader(md.parser)),
    ("setextheader", 60, SetextHeaderProcessor, lambda md, _old: _Setext(md.parser)),
    ("olist", 40, OListProcessor, lambda md, _old: _OList(md.parser)),
    ("olist", 40, SaneOListProcessor, lambda md, _old: _SaneOList(md.parser)),
    ("hr", 50, HRProcessor, lambda md, _old: _HR(md.parser)),
    ("quote", 20, BlockQuoteProcessor, lambda md, _old: _BlockQuote(md.parser)),
    ("reference", 15, ReferenceProcessor, lambda md, _old: _Reference(md.parser)),
]
_PREPROCESSORS: list[_Quick] = [
    ("normalize_whitespace", 30, NormalizeWhitespace, lambda md, _old: _Normalize(md)),
    ("fenced_code_block", 25, FencedBlockPreprocessor, lambda md, old: _Fenced(md, old.config)),
]
_TREES: list[_Quick] = [("unescape", 0, UnescapeTreeprocessor, lambda md, _old: _Unescape(md))]


def _needs() -> dict[str, tuple[str, ...]]:
    """Each stock inline pattern's regular expression -> the texts one of
    which every match holds."""
    needs = {
        "BACKTICK_RE": ("`",),
        "ESCAPE_RE": ("\\",),
        "LINK_RE": ("[",),  # also REFERENCE_RE
        "IMAGE_LINK_RE": ("![",),  # also IMAGE_REFERENCE_RE
        "AUTOLINK_RE": ("<",),
        "AUTOMAIL_RE": ("<",),
        "HTML_RE": ("<",),
        "ENTITY_RE": ("&",),
        "LINE_BREAK_RE": ("  \n",),
        "NOT_STRONG_RE": ("*", "_"),  # Python-Markdown before its delimiter processor
    }
    found = {
        regex: texts
        for name, texts in needs.items()
        if (regex := getattr(inlinepatterns, name, None))
    }
    # Emphasis: one pattern per delimiter, or one for all of them (3.11 on).
    found.update({r"\*": ("*",), "_": ("_",), r"\*|_": ("*", "_"), r"_|\*": ("*", "_")})
    return found


_NEEDS = _needs()
_NEVER: tuple[str, ...] = ()  # needs nothing a text can hold: never tried


@lru_cache(maxsize=8)
def _any_of(needs: tuple[tuple[str, ...], ...]) -> re.Pattern[str]:
    """One search for every text any of the patterns needs: a text holding
    none (most texts: a plain sentence, a list item) is passed over at once,
    not pattern by pattern."""
    texts = sorted({text for each in needs for text in each}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, texts)) or "(?!)")


def _needs_of(pattern: inlinepatterns.Pattern, references: bool) -> tuple[str, ...] | None:
    """The texts one of which a match of this stock (or quick) pattern holds;
    None: try it on every text."""
    if not references and isinstance(pattern, inlinepatterns.ReferenceInlineProcessor):
        return _NEVER  # a name no reference defines: the text is left as it was
    return _NEEDS.get(pattern.pattern)


_KNOWN = (inlinepatterns.__name__, __name__)  # the modules of the patterns `_NEEDS` knows
# The inline processor's loop is private to Python-Markdown; where a version
# names it otherwise, its own processor is kept.
_CAN_SKIP = all(
    hasattr(InlineProcessor, name)
    for name in ("_InlineProcessor__handleInline", "_InlineProcessor__applyPattern")
)


class _SkippingInline(InlineProcessor):
    """Not a pattern on a text that lacks what the pattern needs: most texts
    hold no "[", "*", "`" or "&", and trying each of the 13 patterns on each
    text was a third of a conversion. A pattern that cannot match is passed
    over by the stock loop too, so the result is the same.

    Nor are the reference patterns tried in a document that defines no
    reference ("[id]: /url"): each finds every "[" and reads the brackets
    after it, to leave the text as it was when the name is not defined (the
    link pattern, tried next, makes the links). That was a fifteenth of a
    conversion of the benchmark's bodies, which define none."""

    def run(self, tree: Element, ancestors: list[str] | None = None) -> Element:
        defined = bool(self.md.references)
        self._table = [
            (p, _needs_of(p, defined) if type(p).__module__ in _KNOWN else None)
            for p in self.inlinePatterns
        ]
        needs = [needs for _p, needs in self._table]
        known = tuple(n for n in needs if n is not None)
        self._any = _any_of(known) if len(known) == len(needs) else None  # None: one tried always
        return super().run(tree, ancestors)

    # Overrides InlineProcessor.__handleInline, which it calls for each text:
    # the same loop, but a pattern whose needs are not in `data` is passed over.
    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803
        if isinstance(data, AtomicString):
            return data
        if self._any is not None and self._any.search(data) is None:
            return data  # what no pattern needs: each would be passed over
        apply = self._InlineProcessor__applyPattern
        table = self._table
        index, start, count = patternIndex, 0, len(table)
        while index < count:
            pattern, needs = table[index]
            if needs is not None:
                for text in needs:
                    if text in data:
                        break
                else:  # as when it is tried and does not match
                    index, start = index + 1, 0
                    continue
            data, matched, start = apply(pattern, data, index, start)
            if not matched:
                index += 1
        return data
