"""The safe-messaging rules: data shipped in hubgen/rules/, read once and checked.

The rules are data so that people who know the guidelines can read and change
them without reading Python: each says what it matches, what to write instead,
why, and which public guideline asks for it. This module turns the YAML into
frozen `Rule`s with compiled patterns and refuses a malformed file loudly (it
is part of hubgen, not the author's content, so a mistake is a hubgen bug).

Speed: Python's regex engine tries every position of a text for every
pattern, which for thirty patterns costs more than rendering the Markdown. So
each pattern also gets literal strings one of which any match must contain
("commit" or "suicide "), and for each way it can match, the strings each
part of that way holds ("hurt" and " himself"); a text that cannot hold a
match is skipped after plain substring tests. A `Screen` makes those tests
for every pattern at once, in one pass over the text instead of hundreds of
substring searches.
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

import ahocorasick
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


# A match holds one string of each set, for one way of matching at least.
Needs = tuple[tuple[frozenset[str], ...], ...]


@dataclass(frozen=True)
class Matcher:
    """A compiled pattern, and strings its matches contain.

    `factors`: one of them is in any match (None: not known). `needs`, finer:
    for each alternative of the pattern's outermost alternation, sets of
    strings one of each of which a match that way holds ("hurt" and
    " himself"), where `factors` knows only the likeliest to be rare
    (" himself"). A text that has a factor but not all of what any way
    needs cannot match either.
    """

    pattern: re.Pattern[str]
    factors: tuple[str, ...] | None
    needs: Needs = ()

    def may_match(self, lowered: str) -> bool:
        """False only if the pattern cannot match `lowered` (the text in lower case)."""
        has = lowered.__contains__
        if self.factors is not None and not any(map(has, self.factors)):
            return False
        return not self.needs or any(all(any(map(has, c)) for c in way) for way in self.needs)


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

    Every string that a matcher's factors and needs name is looked for in one
    pass over the text, by an Aho-Corasick automaton (pyahocorasick, in C).
    For the benchmark's drops that took 14 us a text, where remembering which
    factors each word of a site's vocabulary holds took 37 us (47 in a new
    process), and knowing what each way of matching needs leaves the
    expressions a third of the texts they were run on and matched nothing in.
    Matchers are told apart by identity: hashing one hashes its pattern and
    factors, which costs more than the test.
    """

    def __init__(self, matchers: list[Matcher]) -> None:
        self._known = {id(m) for m in matchers}
        self._always = frozenset(id(m) for m in matchers if m.factors is None)
        # What each way of matching needs, for the matchers it can screen out: not
        # one with a way that needs nothing. A way of one clause is met by any of
        # its strings, so those of all such ways are tried at once, in one set
        # (`_one_of`); a way of several clauses needs all of them (`_all_of`,
        # way by way): 41 -> 33 us a drop's body.
        screened = [m for m in matchers if m.needs and all(m.needs)]
        self._one_of = {
            id(m): frozenset(s for way in m.needs if len(way) == 1 for s in way[0])
            for m in screened
        }
        self._all_of = {id(m): tuple(way for way in m.needs if len(way) > 1) for m in screened}
        having: dict[str, set[int]] = {}  # a factor: the matchers it may let through
        strings = {c for m in matchers for way in m.needs for clause in way for c in clause}
        for m in matchers:
            for factor in _shortest(m.factors or ()):
                having.setdefault(factor, set()).add(id(m))
        self._having = {s: frozenset(ids) for s, ids in having.items()}
        self._automaton = ahocorasick.Automaton()
        for string in strings | set(having):
            self._automaton.add_word(string, string)
        if len(self._automaton):
            self._automaton.make_automaton()

    def knows(self, matcher: Matcher) -> bool:
        return id(matcher) in self._known

    def possible(self, lowered: str) -> set[int]:
        """The ids of the matchers whose `may_match(lowered)` is true."""
        if self._automaton.kind != ahocorasick.AHOCORASICK:
            return set(self._always)
        found = {string for _, string in self._automaton.iter(lowered)}
        having = self._having
        ids = set(self._always).union(*(having[s] for s in found if s in having))
        for matcher_id in ids & self._all_of.keys():
            if found.isdisjoint(self._one_of[matcher_id]) and not any(
                all(not c.isdisjoint(found) for c in way) for way in self._all_of[matcher_id]
            ):
                ids.discard(matcher_id)
        return ids


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
    parsed = _parser.parse(pattern).data
    found = _factors(parsed)
    factors = tuple(sorted(found)) if found else None
    return Matcher(compiled, factors, _needs(parsed))


def _factors(items: list[Any]) -> set[str] | None:
    """Literal strings one of which every match of a parsed pattern contains.

    Of the candidates in a sequence (`_candidates`), the likeliest to be rare
    wins: long strings (a digit counting twice), and few of them. None when
    there is no such set (the pattern could match with no fixed text).
    """
    found = _candidates(items)
    return max(found, key=_rarity) if found else None


def _rarity(found: set[str]) -> int:
    # Long strings are rare, and so are few of them; a digit counts twice,
    # being rarer in prose than a letter ("800" over "talk" for a hotline).
    return 10 * min(len(s) + sum(c.isdigit() for c in s) for s in found) - len(found)


# Strings shorter than this are in most texts: a set holding one tells little
# and costs the screen a report at nearly every word.
_NEEDED_LENGTH = 4


def _needs(items: list[Any]) -> Needs:
    """What each alternative of the outermost alternation needs (`Matcher.needs`):
    its candidates of at least `_NEEDED_LENGTH` characters."""
    ways = tuple(
        tuple(
            frozenset(_shortest(tuple(c)))
            for c in _candidates(way)
            if min(map(len, c)) >= _NEEDED_LENGTH
        )
        for way in _ways(items)
    )
    return () if all(not way for way in ways) else ways


def _ways(items: list[Any]) -> list[list[Any]]:
    """The alternatives of a parsed pattern's outermost alternation (itself if none)."""
    core = [(op, av) for op, av in items if op not in (AT, ASSERT, ASSERT_NOT)]
    if len(core) == 1 and core[0][0] is SUBPATTERN:
        return _ways(core[0][1][3].data)
    if len(core) == 1 and core[0][0] is BRANCH:
        return [way for branch in core[0][1][1] for way in _ways(branch.data)]
    return [items]


def _candidates(items: list[Any]) -> list[set[str]]:
    """Sets of literal strings, in order, a match of a parsed sequence holds one
    of each of: its runs of literal characters (each with what the next item
    starts with), and what its groups, its alternations (every alternative's
    factors) and its repeats done at least once hold."""
    found: list[set[str]] = []
    run = ""
    for op, av in items:
        if op is LITERAL:
            run += chr(av)
            continue
        if op in (AT, ASSERT, ASSERT_NOT):
            continue  # zero-width: the literal run goes on
        if run:
            heads = _prefixes([(op, av)])
            found.append({run + head for head in heads} if heads else {run})
        run = ""
        if op is SUBPATTERN:
            found += _candidates(av[3].data)
        elif op is BRANCH:
            alternatives = [_factors(branch.data) for branch in av[1]]
            if all(alternatives):
                found.append(set().union(*alternatives))  # type: ignore[arg-type]
        elif op in (MAX_REPEAT, MIN_REPEAT) and av[0] >= 1:
            found += _candidates(av[2].data)
    if run:
        found.append({run})
    return found


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
