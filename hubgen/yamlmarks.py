"""YAML as a tree of values that remember where they were written.

PyYAML's parser (the fast libyaml one) gives events with line and column
marks; we build our own nodes from them and never let PyYAML construct Python
values (nor compose its nodes, which recurses without limit). Scalars
stay the text the author typed, and the schema decides what a field means.
That is what keeps YAML 1.1 surprises out of the site: `NO` is not `False`,
`18:00` is not 1080, and a quoted date means the same as an unquoted one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from hubgen.diagnostics import Diagnostic, Diagnostics, Span

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader

# Aliases let a few lines expand to billions of values ("billion laughs").
MAX_NODES = 100_000
# No hubgen file nests more than a few levels; deeper nesting is an attack.
MAX_DEPTH = 50
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})


@dataclass(frozen=True)
class Scalar:
    text: str
    span: Span
    plain: bool  # written without quotes or block style
    end: Span  # just after the value as written (for a block scalar: its last line)

    @property
    def is_null(self) -> bool:
        return self.plain and self.text in _NULLS


@dataclass(frozen=True)
class Mapping:
    items: tuple[tuple[Scalar, Node], ...]
    span: Span

    def get(self, key: str) -> tuple[Scalar, Node] | None:
        """The key and value written for `key`, or None."""
        return next((item for item in self.items if item[0].text == key), None)


@dataclass(frozen=True)
class Sequence:
    items: tuple[Node, ...]
    span: Span


Node = Scalar | Mapping | Sequence


def describe(node: Node) -> str:
    """How a value reads in an error message: "a list", "the text 'x'"."""
    if isinstance(node, Mapping):
        return "a mapping"
    if isinstance(node, Sequence):
        return "a list"
    if node.is_null:
        return "nothing"
    return f"'{node.text}'"


def parse_yaml(
    text: str, *, path: str, diags: Diagnostics, line_offset: int = 0, remember: bool = False
) -> Node | None:
    """Parse one YAML document; on failure report it and return None.

    `line_offset` is added to every line so that front matter errors point at
    the line of the Markdown file, not of the extracted block. With `remember`,
    the tree (nodes are frozen) and what was reported are kept for the same
    text at the same place, for the rest of the process: `serve` loads every
    creator's, organisation's and page's file again on each rebuild.
    """
    if not remember:
        return _parse(text, path=path, diags=diags, line_offset=line_offset)
    root, found = _remembered(text, path, line_offset)
    diags.extend(found)
    return root


@lru_cache(maxsize=1024)
def _remembered(
    text: str, path: str, line_offset: int
) -> tuple[Node | None, tuple[Diagnostic, ...]]:
    found = Diagnostics()
    return _parse(text, path=path, diags=found, line_offset=line_offset), tuple(found.sorted())


def _parse(text: str, *, path: str, diags: Diagnostics, line_offset: int) -> Node | None:
    builder = _Builder(path, line_offset, diags)
    loader = None
    try:
        loader = _Loader(text)  # the pure-Python one checks characters here
        # The parser's own get_event (None after the stream's end), not
        # yaml.parse's generator around it: a Python call less per event.
        root = builder.run(iter(loader.get_event, None))
    except yaml.MarkedYAMLError as exc:
        if not _too_deep_before(exc, text, path=path, diags=diags, line_offset=line_offset):
            _syntax_error(exc, text, path=path, diags=diags, line_offset=line_offset)
        return None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        before = text[: exc.position]
        line = before.count("\n") + 1
        col = exc.position - (before.rfind("\n") + 1) + 1
        diags.error(
            Span(path, line + line_offset, col),
            "yaml-syntax",
            f"invalid YAML: the control character U+{exc.character:04X} is not allowed; remove it",
        )
        return None
    except yaml.YAMLError as exc:
        diags.error(Span(path, 1 + line_offset, 1), "yaml-syntax", f"invalid YAML: {exc}")
        return None
    except _TooLarge as exc:
        diags.error(
            exc.span,
            "yaml-size",
            f"the YAML expands to more than {MAX_NODES} values (aliases used to blow up size?)",
        )
        return None
    except _Refused as exc:
        diags.error(exc.span, exc.code, exc.message)
        return None
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        diags.error(Span(path, 1 + line_offset, 1), "empty-file", "no YAML fields found")
    return root


def _syntax_error(
    exc: yaml.MarkedYAMLError, text: str, *, path: str, diags: Diagnostics, line_offset: int
) -> None:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    span = Span(path, line + line_offset, col)
    if mark and _char_at(text, mark.line, mark.column) == "\t":
        message = "a tab character; YAML indents with spaces only, so replace the tab with spaces"
        diags.error(span, "yaml-tab", f"invalid YAML: {message}")
        return
    problem = exc.problem or "invalid YAML"
    if exc.context and exc.context_mark and exc.context_mark is not mark:
        opened = exc.context_mark
        where = f"line {opened.line + 1 + line_offset}, column {opened.column + 1}"
        problem = f"{exc.context} (opened at {where}), {problem}"
    elif exc.context:
        problem = f"{exc.context}, {problem}"
    diags.error(span, "yaml-syntax", f"invalid YAML: {problem}")


def _too_deep_before(
    exc: yaml.MarkedYAMLError, text: str, *, path: str, diags: Diagnostics, line_offset: int
) -> bool:
    """Report our nesting error where libyaml stopped at its own limit (PyYAML
    6.0.4 on: 1,000 levels) before giving the events in which ours is found:
    it looks ahead through a run of brackets, so the text up to where it
    stopped, parsed again, gives our error at the 51st level, whichever PyYAML
    this is. False when `exc` is another error, or no such error is found."""
    mark = exc.problem_mark
    if mark is None or "maximum nesting depth" not in (exc.problem or ""):
        return False
    end = sum(len(line) + 1 for line in text.split("\n")[: mark.line]) + mark.column
    found = Diagnostics()  # the shorter text's other problems are not the author's
    parse_yaml(text[:end], path=path, diags=found, line_offset=line_offset)
    deep = [d for d in found.sorted() if d.code == "yaml-depth"]
    diags.extend(deep)
    return bool(deep)


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n")
    return lines[line][column : column + 1] if line < len(lines) else ""


class _TooLarge(Exception):
    def __init__(self, span: Span) -> None:
        super().__init__(str(span))
        self.span = span  # where the values passed MAX_NODES


class _Refused(Exception):
    """A document hubgen will not build: too deep, several documents, an unknown alias."""

    def __init__(self, span: Span, code: str, message: str) -> None:
        super().__init__(message)
        self.span, self.code, self.message = span, code, message


@dataclass
class _Open:
    """A list or mapping whose items are still being read."""

    span: Span
    anchor: str | None
    mapping: bool
    items: list = field(default_factory=list)
    key: Node | None = None  # a mapping's key, waiting for its value
    seen: dict[str, Span] = field(default_factory=dict)
    size: int = 1


class _Builder:
    """Builds nodes from the parser's events with a stack, never by recursion.

    Composing nested nodes recursively lets a small file of brackets crash the
    process (libyaml's composer recurses in C), so nesting is capped here, as
    the events arrive, and so is the number of values aliases expand to.
    """

    def __init__(self, path: str, line_offset: int, diags: Diagnostics) -> None:
        self.path = path
        self.line_offset = line_offset
        self.diags = diags
        self.count = 0
        self.anchors: dict[str, tuple[Node, int]] = {}  # anchor -> (node, expanded size)

    def span(self, event: yaml.Event) -> Span:
        mark = event.start_mark
        return Span(self.path, mark.line + 1 + self.line_offset, mark.column + 1)

    def end(self, event: yaml.Event) -> Span:
        mark = event.end_mark
        return Span(self.path, mark.line + 1 + self.line_offset, mark.column + 1)

    def run(self, events: Iterator[yaml.Event]) -> Node | None:
        stack: list[_Open] = []
        root: list[Node] = []
        for event in events:
            kind = type(event)  # PyYAML's event classes, never subclassed
            if kind is yaml.ScalarEvent:  # the most common first
                plain = not event.style  # libyaml: "" = plain
                scalar = Scalar(event.value, self.span(event), plain, self.end(event))
                self.add(stack, root, scalar, 1, event.anchor, scalar.span)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if len(stack) >= MAX_DEPTH:
                    raise _Refused(
                        self.span(event),
                        "yaml-depth",
                        f"the YAML nests more than {MAX_DEPTH} levels deep",
                    )
                mapping = kind is yaml.MappingStartEvent
                stack.append(_Open(self.span(event), event.anchor, mapping))
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                done = stack.pop()
                node: Node = (
                    Mapping(tuple(done.items), done.span)
                    if done.mapping
                    else Sequence(tuple(done.items), done.span)
                )
                self.add(stack, root, node, done.size, done.anchor, done.span)
            elif kind is yaml.AliasEvent:
                if event.anchor not in self.anchors:
                    raise _Refused(
                        self.span(event),
                        "yaml-syntax",
                        f"invalid YAML: *{event.anchor} refers to no &{event.anchor} before it",
                    )
                node, size = self.anchors[event.anchor]
                self.add(stack, root, node, size, None, self.span(event))
            elif kind is yaml.DocumentStartEvent and root:
                raise _Refused(
                    self.span(event),
                    "yaml-syntax",
                    "invalid YAML: a second document ('---'); a file holds one document",
                )
        return root[0] if root else None

    def add(
        self,
        stack: list[_Open],
        root: list[Node],
        node: Node,
        size: int,
        anchor: str | None,
        where: Span,
    ) -> None:
        self.count += size
        if self.count > MAX_NODES:
            raise _TooLarge(where)
        if anchor is not None:
            self.anchors[anchor] = (node, size)
        if not stack:
            root.append(node)
            return
        parent = stack[-1]
        parent.size += size
        if not parent.mapping:
            parent.items.append(node)
        elif parent.key is None:
            parent.key = node
        else:
            self.pair(parent, parent.key, node)
            parent.key = None

    def pair(self, parent: _Open, key: Node, value: Node) -> None:
        if not isinstance(key, Scalar):
            self.diags.error(key.span, "key-type", "a key must be plain text, not " + describe(key))
            return
        if key.text in parent.seen:
            first = parent.seen[key.text]
            self.diags.error(
                key.span,
                "duplicate-key",
                f"duplicate key '{key.text}' (first defined at line {first.line}); "
                "YAML would silently keep only the last one",
            )
            return
        parent.seen[key.text] = key.span
        parent.items.append((key, value))
