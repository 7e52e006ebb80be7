"""The safe-messaging rules: data shipped in hubgen/rules/, read once and checked.

The rules are data so that people who know the guidelines can read and change
them without reading Python: each says what it matches, what to write instead,
why, and which public guideline asks for it. This module turns the YAML into
frozen `Rule`s with compiled patterns and refuses a malformed file loudly (it
is part of hubgen, not the author's content, so a mistake is a hubgen bug).

Speed: Python's regex engine tries every position of a text for every
pattern, which for thirty patterns costs more than rendering the Markdown. So
each pattern also gets literal strings one of which any match must contain
("commit" or "suicide "); a text containing none of them is skipped with a
plain substring test. A `Screen` makes those tests for every pattern at once,
from the text's words, so a file costs a few set lookups instead of three
hundred substring searches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from re import _parser
from re._constants import (
    ASSERT,
    ASSERT_NOT,
    AT,
    BRANCH,
    LITERAL,
    MAX_REPEAT,
    MIN_REPEAT,
    SUBPATTERN,
)
from typing import Any

import yaml

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader

RULE_ID = re.compile(r"SM\d{3}")
FIELDS = ("title", "summary", "body")
LEVELS = ("warning", "error")
_RULE_KEYS = {
    "id",
    "name",
    "pattern",
    "near",
    "fields",
    "suggestion",
    "why",
    "sources",
    "level",
    "example",
    "near_miss",
}
_NEAR_KEYS = {"lexicons", "within", "topics"}


class RulesError(ValueError):
    """The rules file is malformed (a bug in hubgen's data, not in the site)."""


@dataclass(frozen=True)
class Matcher:
    """A compiled pattern and strings one of which any match contains (None: unknown)."""

    pattern: re.Pattern[str]
    factors: tuple[str, ...] | None

    def may_match(self, lowered: str) -> bool:
        """False only if the pattern cannot match `lowered` (the text in lower case)."""
        return self.factors is None or any(map(lowered.__contains__, self.factors))


@dataclass(frozen=True)
class Near:
    """A match counts only within `within` words of a lexicon term, or in a file on `topics`."""

    lexicons: tuple[str, ...]
    within: int
    topics: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    matcher: Matcher
    near: Near | None
    fields: tuple[str, ...]
    suggestion: str
    why: str
    sources: tuple[str, ...]  # names of public guidelines
    level: str
    example: str  # a sentence the rule flags
    near_miss: str  # a similar one it does not


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    lexicons: dict[str, Matcher]  # one alternation per lexicon
    sources: dict[str, str]  # key -> guideline name

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    @cached_property
    def screen(self) -> Screen:
        return Screen([*(r.matcher for r in self.rules), *self.lexicons.values()])


class Screen:
    """`Matcher.may_match` for many matchers at once, with the same answers.

    A factor without a space occurs in a text exactly when it occurs inside one
    of the text's space-separated words, and which factors a word holds is
    remembered across texts: a site's vocabulary is small, its text is not. A
    factor with spaces needs its longest piece inside some word, and then the
    plain substring test decides. Matchers are told apart by identity: hashing
    one hashes its pattern and factors, which costs more than the test.
    """

    _MEMO_LIMIT = 200_000  # words remembered; then start over (long-running serve)

    def __init__(self, matchers: list[Matcher]) -> None:
        self._known = {id(m) for m in matchers}
        self._always: set[int] = set()  # matchers without factors
        self._by_piece: dict[str, set[int]] = {}  # factors without spaces
        self._spaced: dict[str, list[tuple[int, str]]] = {}  # by their longest piece
        for m in matchers:
            if m.factors is None:
                self._always.add(id(m))
            for factor in _shortest(m.factors or ()):
                if " " in factor:
                    piece = max(factor.split(" "), key=len)
                    self._spaced.setdefault(piece, []).append((id(m), factor))
                else:
                    self._by_piece.setdefault(factor, set()).add(id(m))
        self._pieces = tuple(sorted({*self._by_piece, *self._spaced} - {""}))
        self._seen: set[str] = set()  # words whose pieces are known
        self._holding: dict[str, frozenset[str]] = {}  # those that hold any

    def knows(self, matcher: Matcher) -> bool:
        return id(matcher) in self._known

    def possible(self, lowered: str) -> set[int]:
        """The ids of the matchers whose `may_match(lowered)` is true."""
        found = self._pieces_in(lowered)
        ids = set(self._always)
        for piece in found:
            ids.update(self._by_piece.get(piece, ()))
        for piece in ("", *found):
            for matcher_id, factor in self._spaced.get(piece, ()):
                if matcher_id not in ids and factor in lowered:
                    ids.add(matcher_id)
        return ids

    def _pieces_in(self, text: str) -> set[str]:
        """The factor pieces that occur inside the text's words."""
        if len(self._seen) > self._MEMO_LIMIT:
            self._seen.clear()
            self._holding.clear()
        words = set(text.split(" "))
        for word in words.difference(self._seen):
            self._seen.add(word)
            held = frozenset(p for p in self._pieces if p in word)
            if held:
                self._holding[word] = held
        # A view of the memo's words and the text's: walks the text's words (in C),
        # not every word remembered (links' words are new in each drop).
        holding = self._holding
        return set().union(*(holding[w] for w in holding.keys() & words))


def _shortest(factors: tuple[str, ...]) -> list[str]:
    """The factors that hold no other factor: if "suicide" is absent, so is "suicides"."""
    kept: list[str] = []
    for factor in sorted(set(factors), key=len):
        if not any(k in factor for k in kept):
            kept.append(factor)
    return kept


@cache
def safe_messaging() -> RuleSet:
    """The rules shipped with hubgen (read from the package once per process)."""
    text = resources.files("hubgen").joinpath("rules/safe_messaging.yaml").read_text("utf-8")
    return parse_rules(text)


def parse_rules(text: str) -> RuleSet:
    data = _mapping(yaml.load(text, Loader=_Loader), "the rules file")
    sources = {str(k): str(v) for k, v in _mapping(data.get("sources"), "sources").items()}
    lexicons = {
        str(name): _compile(_lexicon(_strings(terms, f"lexicon {name}")), name)
        for name, terms in _mapping(data.get("lexicons"), "lexicons").items()
    }
    rules = tuple(_rule(item, sources, lexicons) for item in data.get("rules") or ())
    ids = [r.id for r in rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RulesError(f"duplicate rule ids: {', '.join(duplicates)}")
    return RuleSet(rules=rules, lexicons=lexicons, sources=sources)


def _lexicon(terms: list[str]) -> str:
    """One pattern for a lexicon's terms, each starting a word: "spend their
    lives" does not hold "end their lives", nor "a skill himself" "kill himself"."""
    return r"\b(?:" + "|".join(f"(?:{t})" for t in terms) + ")"


def _rule(item: Any, sources: dict[str, str], lexicons: dict[str, Matcher]) -> Rule:
    item = _mapping(item, "a rule")
    rule_id = str(item.get("id", ""))
    if not RULE_ID.fullmatch(rule_id):
        raise RulesError(f"rule id {rule_id!r} is not like SM001")
    unknown = set(item) - _RULE_KEYS
    missing = _RULE_KEYS - {"near", "fields"} - set(item)
    if unknown or missing:
        raise RulesError(f"{rule_id}: unknown keys {sorted(unknown)}, missing {sorted(missing)}")
    fields = tuple(_strings(item.get("fields", list(FIELDS)), f"{rule_id} fields"))
    if not set(fields) <= set(FIELDS):
        raise RulesError(f"{rule_id}: fields must be among {', '.join(FIELDS)}")
    keys = _strings(item["sources"], f"{rule_id} sources")
    if not keys or not set(keys) <= set(sources):
        raise RulesError(f"{rule_id}: sources must be keys of 'sources', found {keys}")
    if item["level"] not in LEVELS:
        raise RulesError(f"{rule_id}: level must be one of {', '.join(LEVELS)}")
    return Rule(
        id=rule_id,
        name=str(item["name"]),
        matcher=_compile(str(item["pattern"]), rule_id),
        near=_near(item.get("near"), rule_id, lexicons),
        fields=fields,
        suggestion=str(item["suggestion"]),
        why=str(item["why"]),
        sources=tuple(sources[k] for k in keys),
        level=str(item["level"]),
        example=str(item["example"]),
        near_miss=str(item["near_miss"]),
    )


def _near(value: Any, rule_id: str, lexicons: dict[str, Matcher]) -> Near | None:
    if value is None:
        return None
    value = _mapping(value, f"{rule_id} near")
    names = tuple(_strings(value.get("lexicons"), f"{rule_id} near.lexicons"))
    within = value.get("within")
    if set(value) - _NEAR_KEYS or not names or not set(names) <= set(lexicons):
        raise RulesError(f"{rule_id}: near needs lexicons from {sorted(lexicons)} and within")
    if not isinstance(within, int) or within < 0:
        raise RulesError(f"{rule_id}: near.within must be a whole number of words")
    topics = tuple(_strings(value.get("topics", []), f"{rule_id} near.topics"))
    return Near(lexicons=names, within=within, topics=topics)


def _compile(pattern: str, owner: str) -> Matcher:
    """Patterns are matched against text whose ASCII letters are lowered (faster than
    re.IGNORECASE, and it keeps offsets), so they must be written in lower case."""
    if re.search(r"(?<!\\)[A-Z]", pattern):
        raise RulesError(f"{owner}: write the pattern in lower case: {pattern}")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise RulesError(f"{owner}: bad pattern: {exc}") from None
    found = _factors(_parser.parse(pattern).data)
    return Matcher(compiled, tuple(sorted({f.lower() for f in found})) if found else None)


def _factors(items: list[Any]) -> set[str] | None:
    """Literal strings one of which every match of a parsed pattern contains.

    Of the candidates in a sequence (runs of literal characters; the
    alternatives of a group or alternation; the body of a repeat done at least
    once), the likeliest to be rare wins: long strings (a digit counting twice),
    and few of them. None when there is no such set (the pattern could match
    with no fixed text).
    """
    best: set[str] | None = None

    def score(found: set[str]) -> int:
        # Long strings are rare, and so are few of them; a digit counts twice,
        # being rarer in prose than a letter ("800" over "talk" for a hotline).
        return 10 * min(len(s) + sum(c.isdigit() for c in s) for s in found) - len(found)

    def consider(found: set[str] | None) -> None:
        nonlocal best
        if found and (best is None or score(found) > score(best)):
            best = found

    run = ""
    for op, av in items:
        if op is LITERAL:
            run += chr(av)
            continue
        if op in (AT, ASSERT, ASSERT_NOT):
            continue  # zero-width: the literal run goes on
        heads = _prefixes([(op, av)]) if run else None
        consider({run + head for head in heads} if heads else {run} if run else None)
        run = ""
        if op is SUBPATTERN:
            consider(_factors(av[3].data))
        elif op is BRANCH:
            alternatives = [_factors(branch.data) for branch in av[1]]
            if all(alternatives):
                consider(set().union(*alternatives))  # type: ignore[arg-type]
        elif op in (MAX_REPEAT, MIN_REPEAT) and av[0] >= 1:
            consider(_factors(av[2].data))
    consider({run} if run else None)
    return best


def _prefixes(items: list[Any]) -> set[str] | None:
    """Literal strings one of which every match starts with (None: not known)."""
    prefix = ""
    for op, av in items:
        if op in (AT, ASSERT, ASSERT_NOT):
            continue
        if op is LITERAL:
            prefix += chr(av)
            continue
        inner: set[str] | None = None
        if op is SUBPATTERN:
            inner = _prefixes(av[3].data)
        elif op is BRANCH:
            alternatives = [_prefixes(branch.data) for branch in av[1]]
            if all(alternatives):
                inner = set().union(*alternatives)  # type: ignore[arg-type]
        if inner:
            return {prefix + head for head in inner}
        break
    return {prefix} if prefix else None


def _mapping(value: Any, what: str) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise RulesError(f"{what} must be a mapping")
    return value


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RulesError(f"{what} must be a list of strings")
    return value
