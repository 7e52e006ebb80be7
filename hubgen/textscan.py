"""Finding rule matches in author text, and where the author wrote them.

Rules are written for prose, but a site's prose is Markdown and YAML values: a
phrase may be broken across lines, indented, quoted, emphasised or inside a
block quote. A `Passage` normalises one stretch of a file (every run of
whitespace becomes one space; `*` and `_` emphasis and line-leading `>` go;
curly quotes become straight) and remembers, for every character it keeps, its
offset in the original, so a match points at the line and column the author
typed. Proximity ("within N words of a suicide term") counts words in the
normalised text.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from hubgen.ruleset import Matcher, Near, Rule, Screen

_WORD = re.compile(r"\w+(?:'\w+)*")
_RUN = re.compile(r"[^\s*_]+")  # what is kept: all but whitespace and emphasis marks
_QUOTE_MARKS = re.compile(r"^[ \t>]+", re.MULTILINE)  # indentation and block-quote markers
_CURLY = (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'))


def straight_quotes(text: str) -> str:
    """Curly quotes made straight, one replace per kind present: `str.translate`
    maps a text that is not ASCII a character at a time through a dict (150 us
    for a drop's 2.5 KB, against 2 us)."""
    for curly, straight in _CURLY:
        if curly in text:
            text = text.replace(curly, straight)
    return text


def ascii_lower(text: str) -> str:
    """Only A to Z lowered, so that lengths and offsets hold (`str.lower` would
    also lower other letters, and "İ" to two characters). `bytes.lower` lowers
    only those: UTF-8 leaves every other character in bytes of 128 and more
    (8 us for a drop that is not ASCII, against 142 through `str.translate`)."""
    if text.isascii():
        return text.lower()
    return text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class Term:
    """A lexicon term found in a passage: its word range and text."""

    first: int  # index of its first word
    last: int  # index of its last word
    index: int  # in the normalised text (`Passage.where` maps it back)
    text: str


@dataclass(frozen=True)
class Hit:
    rule: Rule
    offset: int  # where the match starts in the original text
    text: str  # the matched words, normalised
    near: str | None  # for proximity rules: the term that made the match count


class Passage:
    """One stretch of author text, normalised for matching.

    With a `screen` (the rule set's), the quick tests of every pattern are made
    at once, on first use; without one, pattern by pattern. Same answers.
    """

    def __init__(self, raw: str, *, screen: Screen | None = None) -> None:
        self.raw = raw
        self.text = normalise(raw)
        self.lowered = ascii_lower(self.text)  # of the same length: offsets hold
        self._screen = screen
        self._possible: set[int] | None = None
        self._map: tuple[list[int], list[int]] | None = None
        self._words: tuple[list[int], list[int]] | None = None
        self._terms: dict[str, list[Term]] = {}

    def may_match(self, matcher: Matcher) -> bool:
        """False only if the matcher's pattern cannot match here (`Matcher.may_match`)."""
        if self._screen is None or not self._screen.knows(matcher):
            return matcher.may_match(self.lowered)
        return id(matcher) in self.possible()

    def possible(self) -> set[int]:
        """The ids of the screen's matchers that may match here (`may_match`)."""
        if self._possible is None:
            assert self._screen is not None, "a passage made with a screen"
            self._possible = self._screen.possible(self.lowered)
        return self._possible

    def where(self, index: int) -> int:
        """The offset in the original text of the normalised text's character `index`."""
        if self._map is None:
            self._map = _runs(self.raw)
        norm_starts, raw_starts = self._map
        k = max(0, bisect_right(norm_starts, index) - 1)
        return raw_starts[k] + index - norm_starts[k] if raw_starts else 0

    def words(self, start: int, end: int) -> tuple[int, int]:
        """The indexes of the first and last word touching text[start:end]."""
        if self._words is None:
            found = list(_WORD.finditer(self.lowered))
            self._words = ([m.start() for m in found], [m.end() for m in found])
        starts, ends = self._words
        first = bisect_right(ends, start)
        last = bisect_left(starts, end) - 1
        return first, max(first, last)

    def terms(self, name: str, lexicon: Matcher) -> list[Term]:
        """Every term of the lexicon `name` in this passage (cached)."""
        if name not in self._terms:
            found = []
            if self.may_match(lexicon):
                for m in lexicon.pattern.finditer(self.lowered):
                    if m.end() > m.start():
                        first, last = self.words(m.start(), m.end())
                        found.append(Term(first, last, m.start(), self.text[m.start() : m.end()]))
            self._terms[name] = found
        return self._terms[name]

    def hits(
        self,
        rule: Rule,
        lexicons: dict[str, Matcher],
        topics: frozenset[str],
        *,
        quick_test: bool = True,
    ) -> Iterator[Hit]:
        """The rule's matches here (`quick_test=False`: the caller did it for a larger text)."""
        if quick_test and not self.may_match(rule.matcher):
            return
        near = rule.near
        if near is not None and topics & set(near.topics):
            near = None  # on the rule's topics, a match counts anywhere in the file
        if near is not None and not any(self.terms(n, lexicons[n]) for n in near.lexicons):
            return
        for m in rule.matcher.pattern.finditer(self.lowered):
            if m.end() == m.start():
                continue
            term = None
            if near is not None:
                term = self._nearby(m.start(), m.end(), near, lexicons)
                if term is None:
                    continue
            shown = self.text[m.start() : m.end()]
            yield Hit(rule, self.where(m.start()), shown, term)

    def _nearby(self, start: int, end: int, near: Near, lexicons: dict[str, Matcher]) -> str | None:
        """The closest lexicon term within `near.within` words of text[start:end], if any."""
        first, last = self.words(start, end)
        best: tuple[int, str] | None = None
        for name in near.lexicons:
            for term in self.terms(name, lexicons[name]):
                gap = max(0, term.first - last - 1, first - term.last - 1)
                if gap <= near.within and (best is None or gap < best[0]):
                    best = (gap, term.text)
        return best[1] if best else None


def normalise(raw: str) -> str:
    """The text rules see: one space for each run of whitespace, no emphasis marks.

    Each step is skipped when it would change nothing (no curly quotes in ASCII
    text; quote markers matter only with a ">", as the indentation they also
    match becomes one space anyway). str.split() collapses whitespace (the
    same characters as the regex `\\s`, several times faster), and
    str.replace takes the emphasis marks out (a regex doing it was a third of
    the time a review took to read a drop's title, summary and body).
    """
    text = raw if raw.isascii() else straight_quotes(raw)
    if ">" in text:
        text = _QUOTE_MARKS.sub(" ", text)
    text = text.replace("*", "").replace("_", "")
    return " ".join(text.split())


def _runs(raw: str) -> tuple[list[int], list[int]]:
    """Where `normalise(raw)` comes from: for each run of kept characters, the
    index in the normalised text at which it starts and its offset in `raw`."""
    raw = _QUOTE_MARKS.sub(lambda m: " " * len(m.group()), straight_quotes(raw))
    norm_starts: list[int] = []
    raw_starts: list[int] = []
    length = 0
    previous_end = 0
    for m in _RUN.finditer(raw):
        if norm_starts and raw[previous_end : m.start()].strip("*_"):  # whitespace between
            length += 1
        norm_starts.append(length)
        raw_starts.append(m.start())
        length += m.end() - m.start()
        previous_end = m.end()
    return norm_starts, raw_starts
