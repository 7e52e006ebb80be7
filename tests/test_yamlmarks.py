"""yamlmarks: positions, raw scalar text, duplicate keys, alias bombs."""

from __future__ import annotations

from hubgen.diagnostics import Diagnostics, Span
from hubgen.yamlmarks import Mapping, Scalar, Sequence, parse_yaml


def parse(text: str, *, offset: int = 0) -> tuple[object, list[str]]:
    diags = Diagnostics()
    node = parse_yaml(text, path="f.yaml", diags=diags, line_offset=offset)
    return node, [d.format() for d in diags.sorted()]


def test_scalars_keep_the_text_the_author_typed() -> None:
    node, errors = parse("region: NO\nhours: 18:00\nflag: yes\nwhen: 2023-05-01\n")
    assert errors == []
    assert isinstance(node, Mapping)
    values = {k.text: v.text for k, v in node.items if isinstance(v, Scalar)}
    assert values == {"region": "NO", "hours": "18:00", "flag": "yes", "when": "2023-05-01"}


def test_positions_are_one_based_and_offset_for_front_matter() -> None:
    node, _ = parse("a: 1\nlist:\n  - x\n", offset=1)
    assert isinstance(node, Mapping)
    key, value = node.items[1]
    assert key.span == Span("f.yaml", 3, 1)
    assert isinstance(value, Sequence)
    assert value.items[0].span == Span("f.yaml", 4, 5)


def test_plain_null_is_null_but_quoted_null_is_text() -> None:
    node, _ = parse("a:\nb: ~\nc: 'null'\n")
    assert isinstance(node, Mapping)
    nulls = [v.is_null for _, v in node.items if isinstance(v, Scalar)]
    assert nulls == [True, True, False]


def test_duplicate_key_is_reported_at_its_second_occurrence() -> None:
    _, errors = parse("title: a\nsummary: b\ntitle: c\n")
    assert errors == [
        "f.yaml:3:1: error: duplicate key 'title' (first defined at line 1); "
        "YAML would silently keep only the last one"
    ]


def test_syntax_error_points_at_the_problem() -> None:
    node, errors = parse("title: ok\nbad: [unclosed\n")
    assert node is None
    assert len(errors) == 1 and errors[0].startswith("f.yaml:3:1: error: invalid YAML:")


def test_alias_bomb_is_refused_not_expanded() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        prev = chr(ord("a") + i - 1)
        name = chr(ord("a") + i)
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 10)}]")
    node, errors = parse("\n".join(lines) + "\n")
    assert node is None
    assert errors == [
        "f.yaml:5:32: error: the YAML expands to more than 100000 values "
        "(aliases used to blow up size?)"
    ]


def test_empty_document_is_an_error() -> None:
    node, errors = parse("# only a comment\n")
    assert node is None
    assert errors == ["f.yaml:1:1: error: no YAML fields found"]


def test_a_remembered_parse_reports_its_problems_every_time_and_only_for_its_place() -> None:
    """`serve` parses the same creator files on every rebuild: a remembered
    tree comes back with what its parse reported, and the same text elsewhere
    (another file, another line offset) is parsed for that place."""
    text = "title: a\ntitle: b\n"

    def parse_again(path: str, offset: int) -> tuple[object, list[str]]:
        diags = Diagnostics()
        node = parse_yaml(text, path=path, diags=diags, line_offset=offset, remember=True)
        return node, [d.format() for d in diags.sorted()]

    first, errors = parse_again("creator.md", 1)
    again, errors_again = parse_again("creator.md", 1)
    assert again is first and errors_again == errors
    assert errors and errors[0].startswith("creator.md:3:1: error:")
    other, other_errors = parse_again("other.md", 0)
    assert other is not first and other_errors[0].startswith("other.md:2:1: error:")
