"""One file's own text, reviewed: the safe-messaging checks that need nothing
but the file (`safemessaging` runs them over the site).

This module reads no YAML and renders no Markdown: a file comes as its text
and its `Marks`, where its parse found the parts the checks read. So the
process that reviews the drops beside the build (`aside`) needs only this and
the rules, not the half of hubgen that parses and renders.
"""

from __future__ import annotations

import difflib
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import NamedTuple

from hubgen.diagnostics import Diagnostics, Span
from hubgen.model import Allow, Drop
from hubgen.ruleset import RuleSet
from hubgen.textscan import Hit, Passage, Term

Rows = list[list[str | int]]  # diagnostics as cache data (`Diagnostic.as_row`)
DROP_REVIEW = "drop-review"  # the build cache's kind for a drop's findings, under its record's key

HELP_LEXICONS = {
    "suicide": "suicide",
    "self-harm": "self-harm",
    "eating-disorders": "eating disorders",
}
_SHOWN = 60  # longest matched text quoted in a message
# Checks with ids that `allow` cannot silence (docs/safe-messaging.md).
REQUIRED = {
    "SM030": "help resources on sensitive pages",
    "SM032": "content warnings on sensitive topics",
    "SM050": "helplines verified lately",
    "SM051": "helpline regions",
}


class Subject(NamedTuple):
    """One file under review and what its record says the checks need (a
    tuple: cheap to pickle, and `aside` is handed one per drop parsed)."""

    kind: str  # "campaign", "drop" or "page"
    path: str
    source: str  # a hash of the file: the review of unchanged text is in the build cache
    topics: tuple[str, ...]
    allow: tuple[Allow, ...]
    content_warning: str | None
    warns: bool  # drops and pages may carry a content warning


class Marks(NamedTuple):
    """Where a file's parse found what the review reads: each reviewed field's
    value as written, from its first character to just after its last
    (field, line, column, end line, end column: "title", "summary", or "body"
    for a campaign's intro), the line its Markdown body starts on (None: a
    YAML file), and where its `topics` key is (None: it has none)."""

    fields: tuple[tuple[str, int, int, int, int], ...]
    body_line: int | None
    topics: tuple[int, int] | None


Item = tuple[Subject, Marks]  # a drop to review, from its file read again


def drop_subject(drop: Drop, source: str) -> Subject:
    return Subject(
        "drop", drop.span.path, source, drop.topics, drop.allow, drop.content_warning, True
    )


@dataclass(frozen=True)
class Region:
    """A stretch of a file's text: a field's value as written, or the Markdown body."""

    field: str  # "title", "summary" or "body"
    start: int  # offset in the file's text
    passage: Passage


def review_file(
    subject: Subject, text: str, marks: Marks, rules: RuleSet, sensitive: tuple[str, ...]
) -> Rows:
    """What one file's own text decides (all but SM030), as cache rows."""
    found = Diagnostics()
    review = TextReview(subject, text, marks, rules, found)
    review.findings()
    review.allows()
    if subject.warns:
        review.content_warning(sensitive)
    return [d.as_row() for d in found.sorted()]


class TextReview:
    def __init__(
        self, subject: Subject, text: str, marks: Marks, rules: RuleSet, diags: Diagnostics
    ) -> None:
        self.s = subject
        self.text = text
        self.marks = marks
        self.ruleset = rules
        self.diags = diags
        self.lines = _line_starts(text)
        self.regions = list(self._regions())
        self.used: set[str] = set()

    def _regions(self) -> Iterator[Region]:
        screen = self.ruleset.screen
        for field, line, col, end_line, end_col in self.marks.fields:
            start, end = self.offset(line, col), self.offset(end_line, end_col)
            yield Region(field, start, Passage(self.text[start:end], screen=screen))
        body_line = self.marks.body_line
        if body_line is not None:
            lines = self.lines
            start = lines[body_line - 1] if body_line <= len(lines) else len(self.text)
            yield Region("body", start, Passage(self.text[start:], screen=screen))

    def offset(self, line: int, col: int) -> int:
        line = min(max(line, 1), len(self.lines))
        return min(self.lines[line - 1] + col - 1, len(self.text))

    def span(self, offset: int) -> Span:
        line = bisect_right(self.lines, offset)
        return Span(self.s.path, line, offset - self.lines[line - 1] + 1)

    def findings(self) -> None:
        allowed = {a.rule for a in self.s.allow}
        topics = frozenset(self.s.topics)
        lexicons = self.ruleset.lexicons
        for region in self.regions:
            passage = region.passage
            possible = passage.possible()  # the matchers' ids, in one set: 28 rules a region
            for rule in self.ruleset.rules:
                if id(rule.matcher) not in possible or region.field not in rule.fields:
                    continue
                for hit in passage.hits(rule, lexicons, topics, quick_test=False):
                    if rule.id in allowed:
                        self.used.add(rule.id)
                    else:
                        self.finding(region, hit)

    def finding(self, region: Region, hit: Hit) -> None:
        shown = hit.text if len(hit.text) <= _SHOWN else hit.text[: _SHOWN - 1] + "…"
        near = f' (near "{hit.near}")' if hit.near else ""
        rule = hit.rule
        message = f'"{shown}"{near} — {rule.suggestion} ({rule.why})'
        span = self.span(region.start + hit.offset)
        if rule.level == "error":
            self.diags.error(span, rule.id, message)
        else:
            self.diags.warning(span, rule.id, message)

    def allows(self) -> None:
        known = [r.id for r in self.ruleset.rules]
        for a in self.s.allow:
            if a.rule in REQUIRED:
                self.diags.error(
                    a.span,
                    "unknown-rule",
                    f"allow cannot silence {a.rule} ({REQUIRED[a.rule]}): it is required; "
                    "fix what it reports",
                )
            elif a.rule not in known:
                hint = _did_you_mean(a.rule, known)
                self.diags.error(
                    a.span,
                    "unknown-rule",
                    f"allow names an unknown rule '{a.rule}'{hint}: use the id of a "
                    "safe-messaging rule listed in docs/safe-messaging.md",
                )
            elif a.rule not in self.used:
                self.diags.warning(
                    a.span,
                    "unused-allow",
                    f"unused allow: {a.rule} finds nothing in this file; remove this entry",
                )

    def content_warning(self, sensitive: tuple[str, ...]) -> None:
        topics = [t for t in self.s.topics if t in sensitive]
        if not topics or self.s.content_warning is not None:
            return
        names = ", ".join(f"'{t}'" for t in topics)
        self.diags.error(
            self._topics_span(),
            "SM032",
            f"this {self.s.kind} is on the sensitive topic {names} but has no content_warning: "
            'add one that says what it discusses, like content_warning: "This post talks '
            f'about {topics[0].replace("-", " ")}."',
        )

    def help_needed(self, sensitive: tuple[str, ...], when: str) -> None:
        """SM030: text about suicide, self-harm or eating disorders, and no crisis line."""
        found = self._first_mention()
        topics = [t for t in self.s.topics if t in sensitive]
        if found is not None:
            span, what = self.span(found[0]), f'talks about {found[1]} ("{found[2].text}")'
        elif topics:
            span, what = self._topics_span(), f"is on the sensitive topic '{topics[0]}'"
        else:
            return
        self.diags.error(
            span,
            "SM030",
            f"this {self.s.kind} {what} but the help block shows no crisis line at {when}: "
            "add an organisation with a current helpline marked crisis: true",
        )

    def _first_mention(self) -> tuple[int, str, Term] | None:
        found: list[tuple[int, str, Term]] = []
        for region in self.regions:
            for name, label in HELP_LEXICONS.items():
                terms = region.passage.terms(name, self.ruleset.lexicons[name])
                found += [
                    (region.start + region.passage.where(t.index), label, t) for t in terms[:1]
                ]
        return min(found, key=lambda f: f[0]) if found else None

    def _topics_span(self) -> Span:
        at = self.marks.topics
        return Span(self.s.path, *at) if at is not None else Span(self.s.path)


def _did_you_mean(rule: str, known: list[str]) -> str:
    """' (did you mean SM001?)' for SM0O1, sm001 or SM01, if one is close."""
    fixed = rule.strip().upper().replace("O", "0").replace("I", "1").replace("L", "1")
    fixed = fixed if fixed in known else f"SM{fixed.removeprefix('SM').zfill(3)}"
    close = [fixed] if fixed in known else difflib.get_close_matches(rule.upper(), known, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _line_starts(text: str) -> list[int]:
    # Each line's length and its newline, summed in C: a generator was a
    # tenth of reviewing a drop.
    return list(accumulate(map((1).__add__, map(len, text.split("\n")[:-1])), initial=0))
