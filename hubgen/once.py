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

The theme assets the piece asks for (`asset()`) are recorded with it and asked
for again on each page that takes it, so every page still names its assets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import Environment, nodes
from jinja2.ext import Extension
from jinja2.parser import Parser

_KEPT = 4  # pieces (or keys) held at once: one per theme in a build is the need


class Once(Extension):
    tags = {"once"}

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self._kept: list[tuple[tuple[object, ...], str, frozenset[str]]] = []
        environment.extend(once_assets=set())  # the set `asset()` adds to (`Themes.used`)

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        keys = [parser.parse_expression()]
        while parser.stream.skip_if("comma"):
            keys.append(parser.parse_expression())
        body = parser.parse_statements(("name:endonce",), drop_needle=True)
        call = self.call_method("_render", [nodes.Tuple(keys, "load")])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _render(self, keys: tuple[object, ...], caller: Callable[[], Any]) -> str:
        used: set[str] = self.environment.once_assets  # type: ignore[attr-defined]
        for kept, text, assets in self._kept:
            if len(kept) == len(keys) and all(a is b for a, b in zip(kept, keys, strict=True)):
                used.update(assets)
                return text
        before = set(used)
        used.clear()
        try:
            text = caller()
            assets = frozenset(used)
        finally:
            used.update(before)
        self._kept = [(keys, text, assets), *self._kept[: _KEPT - 1]]
        return text
