"""`{% once key %}...{% endonce %}`: a piece of a template rendered once per key.

The "Get help now" block is on every page (twice on a drop's) and the same on
each, yet rendering it for every page was over a third of the time spent in
templates. A
template that wraps itself in `{% once site %}` says that its output depends
on `site` alone (like Hugo's `partialCached`), so it is rendered for the first
page and taken as it was for the others. Keys are compared by identity, and
kept referenced: a build makes one `site` for all its pages, so a new build
(a rebuild in `serve`) renders the piece afresh, and a key can never match a
different object that happens to reuse an old one's id.

Each piece is kept as itself, not by its keys alone: a header and a footer
both `{% once site %}` are two pieces, and neither is given the other's text.

The theme assets the piece asks for (`asset()`) are recorded with it and asked
for again on each page that takes it, so every page still names its assets.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from jinja2 import Environment, nodes
from jinja2.ext import Extension
from jinja2.parser import Parser

# Renderings of one piece (by its keys) held at once: one per theme in a build is the need.
_KEPT = 4


class Once(Extension):
    tags = {"once"}

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        # piece (a number for each `once` tag parsed) -> its renderings: keys, text, assets
        self._kept: dict[int, list[tuple[tuple[object, ...], str, frozenset[str]]]] = {}
        self._pieces = itertools.count()
        environment.extend(once_assets=set())  # the set `asset()` adds to (`Themes.used`)

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        keys = [parser.parse_expression()]
        while parser.stream.skip_if("comma"):
            keys.append(parser.parse_expression())
        body = parser.parse_statements(("name:endonce",), drop_needle=True)
        piece = nodes.Const(next(self._pieces))
        call = self.call_method("_render", [piece, nodes.Tuple(keys, "load")])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _render(self, piece: int, keys: tuple[object, ...], caller: Callable[[], Any]) -> str:
        used: set[str] = self.environment.once_assets  # type: ignore[attr-defined]
        kept = self._kept.setdefault(piece, [])
        for known, text, assets in kept:
            if len(known) == len(keys) and all(a is b for a, b in zip(known, keys, strict=True)):
                used.update(assets)
                return text
        before = set(used)
        used.clear()
        try:
            text = caller()
            assets = frozenset(used)
        finally:
            used.update(before)
        kept[:] = [(keys, text, assets), *kept[: _KEPT - 1]]
        return text
