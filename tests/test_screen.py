"""The fast paths of the safe-messaging review give the answers of the slow ones."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubgen.ruleset import Matcher, safe_messaging
from hubgen.textscan import Passage, normalise

RULES = safe_messaging()
MATCHERS = [*(r.matcher for r in RULES.rules), *RULES.lexicons.values()]
# Text made of the rules' own strings, cut up and glued back, so that factors
# occur, almost occur, and span words.
NEEDED = {s for m in MATCHERS for way in m.needs for clause in way for s in clause}
PIECES = sorted({f for m in MATCHERS for f in m.factors or ()} | NEEDED | {" ", "  ", "x", "s "})
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


@pytest.mark.parametrize("matcher", MATCHERS, ids=lambda m: m.pattern.pattern[:30])
@settings(max_examples=40)
@given(data=st.data())
def test_no_text_a_pattern_matches_is_screened_out(matcher: Matcher, data: st.DataObject) -> None:
    """Texts made to hold a match of the pattern (Hypothesis writes them from the
    pattern itself): the quick test and the screen let each through."""
    text = data.draw(st.from_regex(matcher.pattern).map(str.lower))
    if matcher.pattern.search(text):  # lowering some letters ("İ") changes the text more
        assert matcher.may_match(text), text
        assert id(matcher) in RULES.screen.possible(text), text


def test_what_a_way_of_matching_needs_screens_out_texts_with_a_factor_alone() -> None:
    """ " himself" is the self-harm lexicon's factor, but "hurt himself" needs "hurt"."""
    self_harm = RULES.lexicons["self-harm"]
    for text, possible in [
        ("he looked after himself", False),
        ("self-care, for yourself", False),
        ("he hurt himself", True),
        ("self harm", True),
    ]:
        assert self_harm.may_match(text) is possible, text
        assert (id(self_harm) in RULES.screen.possible(text)) is possible, text


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


@given(st.text(alphabet="aBZÉéİẞΣ\U0001f600\ud800 *_\n", max_size=30))
def test_lowered_text_keeps_offsets_and_lowers_only_ascii(raw: str) -> None:
    passage = Passage(raw)
    assert len(passage.lowered) == len(passage.text)
    assert passage.lowered == "".join(c.lower() if "A" <= c <= "Z" else c for c in passage.text)
