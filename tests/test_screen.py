"""The fast paths of the safe-messaging review give the answers of the slow ones."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from hubgen.ruleset import safe_messaging
from hubgen.textscan import Passage, normalise

RULES = safe_messaging()
MATCHERS = [*(r.matcher for r in RULES.rules), *RULES.lexicons.values()]
# Text made of the rules' own strings, cut up and glued back, so that factors
# occur, almost occur, and span words.
PIECES = sorted({f for m in MATCHERS for f in m.factors or ()} | {" ", "  ", "x", "s "})
texts = st.lists(
    st.sampled_from(PIECES).flatmap(
        lambda f: st.tuples(st.integers(0, len(f)), st.integers(0, len(f))).map(
            lambda ij: f[min(ij) : max(ij)] if ij[0] != ij[1] else f
        )
    ),
    max_size=12,
).map("".join)


@given(texts)
def test_the_screen_answers_as_each_pattern_s_quick_test_does(text: str) -> None:
    screen = RULES.screen
    possible = screen.possible(text)
    for matcher in MATCHERS:
        assert (id(matcher) in possible) == matcher.may_match(text), matcher.pattern.pattern


def test_the_screen_passes_every_rule_s_example_and_only_knows_its_own_matchers() -> None:
    for rule in RULES.rules:
        passage = Passage(rule.example, screen=RULES.screen)
        assert passage.may_match(rule.matcher), rule.id
    other = safe_messaging.__wrapped__().rules[0].matcher  # equal, but not the same object
    assert not RULES.screen.knows(other)
    assert Passage("he committed suicide", screen=RULES.screen).may_match(other)


def _normalise_by_regex(raw: str) -> str:
    """normalise as it was first written: four regex passes."""
    straight = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
    text = re.sub(r"^[ \t>]+", " ", raw.translate(straight), flags=re.MULTILINE)
    return re.sub(r"\s+", " ", re.sub(r"[*_]+", "", text)).strip()


@given(st.text(alphabet="ab >*_\n\t\r\x0b\x0c\x1c\x85\u00a0\u2028\u3000’‘“”É", max_size=40))
def test_normalise_equals_the_regex_version(raw: str) -> None:
    assert normalise(raw) == _normalise_by_regex(raw)


@given(st.text(alphabet="aBÉé *_\n", max_size=30))
def test_lowered_text_keeps_offsets_and_lowers_only_ascii(raw: str) -> None:
    passage = Passage(raw)
    assert len(passage.lowered) == len(passage.text)
    assert passage.lowered == "".join(c.lower() if "A" <= c <= "Z" else c for c in passage.text)
