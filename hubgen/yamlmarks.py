"""YAML as a tree of values that remember where they were written.

PyYAML's composer (the fast libyaml one) gives nodes with line and column
marks; we stop there and never let PyYAML construct Python values. Scalars
stay the text the author typed, and the schema decides what a field means.
That is what keeps YAML 1.1 surprises out of the site: `NO` is not `False`,
`18:00` is not 1080, and a quoted date means the same as an unquoted one.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from hubgen.diagnostics import Diagnostics, Span

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader

# Aliases let a few lines expand to billions of values ("billion laughs").
MAX_NODES = 100_000
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


def parse_yaml(text: str, *, path: str, diags: Diagnostics, line_offset: int = 0) -> Node | None:
    """Parse one YAML document; on failure report it and return None.

    `line_offset` is added to every line so that front matter errors point at
    the line of the Markdown file, not of the extracted block.
    """
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "invalid YAML"
        if exc.context and exc.context_mark and exc.context_mark is not mark:
            opened = exc.context_mark
            where = f"line {opened.line + 1 + line_offset}, column {opened.column + 1}"
            problem = f"{exc.context} (opened at {where}), {problem}"
        elif exc.context:
            problem = f"{exc.context}, {problem}"
        diags.error(Span(path, line + line_offset, col), "yaml-syntax", f"invalid YAML: {problem}")
        return None
    except yaml.YAMLError as exc:
        diags.error(Span(path, 1 + line_offset, 1), "yaml-syntax", f"invalid YAML: {exc}")
        return None
    if root is None:
        diags.error(Span(path, 1 + line_offset, 1), "empty-file", "no YAML fields found")
        return None
    builder = _Builder(path, line_offset, diags)
    try:
        return builder.build(root)
    except _TooLarge:
        diags.error(
            Span(path, 1 + line_offset, 1),
            "yaml-size",
            f"the YAML expands to more than {MAX_NODES} values (aliases used to blow up size?)",
        )
        return None


class _TooLarge(Exception):
    pass


class _Builder:
    def __init__(self, path: str, line_offset: int, diags: Diagnostics) -> None:
        self.path = path
        self.line_offset = line_offset
        self.diags = diags
        self.count = 0

    def span(self, node: yaml.Node) -> Span:
        mark = node.start_mark
        return Span(self.path, mark.line + 1 + self.line_offset, mark.column + 1)

    def end(self, node: yaml.Node) -> Span:
        mark = node.end_mark
        return Span(self.path, mark.line + 1 + self.line_offset, mark.column + 1)

    def build(self, node: yaml.Node) -> Node:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge
        if isinstance(node, yaml.ScalarNode):
            plain = not node.style  # libyaml: "" = plain
            return Scalar(node.value, self.span(node), plain, self.end(node))
        if isinstance(node, yaml.SequenceNode):
            return Sequence(tuple(self.build(item) for item in node.value), self.span(node))
        return self.build_mapping(node)

    def build_mapping(self, node: yaml.MappingNode) -> Mapping:
        items: list[tuple[Scalar, Node]] = []
        seen: dict[str, Span] = {}
        for key_node, value_node in node.value:
            key = self.build(key_node)
            if not isinstance(key, Scalar):
                self.diags.error(
                    key.span, "key-type", "a key must be plain text, not " + describe(key)
                )
                continue
            if key.text in seen:
                first = seen[key.text]
                self.diags.error(
                    key.span,
                    "duplicate-key",
                    f"duplicate key '{key.text}' (first defined at line {first.line}); "
                    "YAML would silently keep only the last one",
                )
                continue
            seen[key.text] = key.span
            items.append((key, self.build(value_node)))
        return Mapping(tuple(items), self.span(node))
