"""The rules file, its quick substring tests, and the text normalisation the rules see."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubgen.ruleset import RulesError, parse_rules, safe_messaging
from hubgen.textscan import Passage, _runs, normalise

RULE = """\
sources: {S: A guideline}
lexicons: {suicide: ['suicide']}
rules:
  - id: SM001
    name: N
    pattern: '{pattern}'
    suggestion: say x
    why: because
    sources: [S]
    level: warning
    example: e
    near_miss: n
"""


def test_the_shipped_rules_load_with_unique_ids_and_known_sources() -> None:
    rules = safe_messaging()
    ids = [r.id for r in rules.rules]
    assert len(ids) == len(set(ids)) >= 20
    assert set(rules.lexicons) == {"suicide", "self-harm", "eating-disorders"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (RULE.replace("'{pattern}'", "'(unclosed'"), "SM001: bad pattern"),
        (RULE.replace("'{pattern}'", "'Capital'"), "SM001: write the pattern in lower case"),
        (RULE.replace("[S]", "[T]").replace("{pattern}", "x"), "SM001: sources must be keys"),
        (RULE.replace("SM001", "X1").replace("{pattern}", "x"), "rule id 'X1' is not like SM001"),
        (
            RULE.replace("    level", "    colour: red\n    level").replace("{pattern}", "x"),
            "SM001: unknown keys ['colour']",
        ),
        (
            RULE.replace("level: warning", "level: loud").replace("{pattern}", "x"),
            "SM001: level must be one of warning, error",
        ),
        (
            RULE.replace(
                "    suggestion", "    near: {lexicons: [grief], within: 3}\n    suggestion"
            ).replace("{pattern}", "x"),
            "SM001: near needs lexicons",
        ),
    ],
)
def test_a_malformed_rules_file_is_refused(text: str, problem: str) -> None:
    with pytest.raises(RulesError, match=re.escape(problem)):
        parse_rules(text)


@pytest.mark.parametrize(
    ("pattern", "factors"),
    [
        (r"\bcommit(?:s|ted)? suicide\b", (" suicide",)),
        (r"\bsuicide (?:was|is) committed\b", (" committed",)),
        (r"\b(?:psycho|schizo)s?\b", ("psycho", "schizo")),
        (r"(?:\b1-)?800-273-(?:8255|talk)", ("800-273-8255", "800-273-talk")),
        (r"800\)?[-. ]?273[-. ]?(?:8255|talk)\b", ("800",)),  # not "talk": common in prose
        (r"\b\d+ ?(?:kg|kilos?)\b", ("kg", "kilo")),
        (r"\b\d+\b", None),
        (r"(?:x|)", None),
    ],
)
def test_each_pattern_knows_strings_every_match_contains(
    pattern: str, factors: tuple[str, ...] | None
) -> None:
    rules = parse_rules(RULE.replace("{pattern}", pattern))
    assert rules.rules[0].matcher.factors == factors


def test_the_quick_test_never_skips_a_text_a_shipped_rule_matches() -> None:
    rules = safe_messaging()
    for rule in rules.rules:
        passage = Passage(rule.example)
        assert rule.matcher.pattern.search(passage.lowered), rule.id
        assert rule.matcher.may_match(passage.lowered), rule.id


@given(st.text(alphabet="ab *_>\n\t’“", max_size=40))
def test_positions_map_back_to_the_characters_the_author_typed(raw: str) -> None:
    """Every kept character of the normalised text comes from the same character in `raw`."""
    passage = Passage(raw)
    straight = raw.translate(str.maketrans({"’": "'", "“": '"'}))
    for i, ch in enumerate(passage.text):
        if ch != " ":
            assert straight[passage.where(i)] == ch
    starts, offsets = _runs(raw)
    assert starts == sorted(starts) and offsets == sorted(offsets)


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("committed\n  suicide", "committed suicide"),
        ("**committed** _suicide_", "committed suicide"),
        ("> committed\n> suicide", "committed suicide"),
        ("it’s “quoted”", 'it\'s "quoted"'),
        ("a**b**c", "abc"),
    ],
)
def test_normalise(raw: str, text: str) -> None:
    assert normalise(raw) == text
