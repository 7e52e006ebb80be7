"""Reading every campaign, drop and page the way a careful reviewer would.

Runs after `resolve`, on all content, published or not (`check` checks
everything), with three checks:

- the safe-messaging rules (`ruleset`) on titles, summaries and Markdown
  texts: each finding is `warning[SM001]` at the words that matched, unless
  the file's `allow` names the rule with a reason; an allow that silences
  nothing is reported, so allows do not outlive the wording they excused;
- SM032: a drop or page whose topics include a sensitive topic (site.yaml's
  `sensitive_topics`) needs a `content_warning`;
- SM030: text about suicide, self-harm or eating disorders needs a crisis line
  in the help block at `now` (checked here when the block shows every crisis
  line; a configured block is checked by `helpcheck`).

Pure: positions come from the loaded documents, the time from `now`.
"""

from __future__ import annotations

import difflib
from bisect import bisect_right
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from itertools import accumulate
from typing import TYPE_CHECKING

from hubgen import workers
from hubgen.cache import Cache, digest, file_hash
from hubgen.diagnostics import Diagnostic, Diagnostics, Span
from hubgen.helpcheck import shows_crisis_line
from hubgen.load import Document, SourceTree, read_drop
from hubgen.model import Allow, Campaign, Drop, Page
from hubgen.ruleset import RuleSet, safe_messaging
from hubgen.textscan import Hit, Passage, Term
from hubgen.timeparse import format_local
from hubgen.yamlmarks import Mapping, Scalar

if TYPE_CHECKING:
    from hubgen.validate import Validated  # which reviews each drop it parses: see review_file

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


@dataclass(frozen=True)
class Subject:
    """One file under review and what the checks need to know about it."""

    kind: str  # "campaign", "drop" or "page"
    path: str
    source: str  # a hash of the file: the review of unchanged text is in the build cache
    topics: tuple[str, ...]
    allow: tuple[Allow, ...]
    content_warning: str | None
    warns: bool  # drops and pages may carry a content warning
    load: Callable[[], Document]  # the file, parsed; drops are read again only if needed

    @cached_property
    def doc(self) -> Document:
        return self.load()


@dataclass(frozen=True)
class Region:
    """A stretch of a file's text: a field's value as written, or the Markdown body."""

    field: str  # "title", "summary" or "body"
    start: int  # offset in the file's text
    passage: Passage


def review_content(
    tree: SourceTree,
    v: Validated,
    diags: Diagnostics,
    *,
    now: datetime,
    cache: Cache | None = None,
    jobs: int = 1,
) -> None:
    """Review every campaign, drop and page. What a file's own text decides is
    reviewed over `jobs` processes and kept in the build cache under a hash of
    that text (a drop's, with its record: `validate`, which reviews each drop it
    parses); only the check that depends on `now` (SM030) runs every time."""
    cache = cache or Cache.none()
    rules = safe_messaging()
    sensitive = v.site.sensitive_topics
    for findings in v.reviewed.values():  # drops: reviewed with their records
        diags.extend(findings)
    subjects = list(_subjects(tree, v, reviewed=v.reviewed))  # drops validate did not review
    keys = [review_key(subject, sensitive) for subject in subjects]
    # Read in one pass (and kept in memory between `serve`'s rebuilds); a
    # stored value of another shape is reviewed again.
    known = cache.decoded("review", keys, Diagnostic.from_rows)
    todo = [i for i, key in enumerate(keys) if key not in known]

    def review_one(i: int) -> list[list[str | int]]:
        return review_file(subjects[i], rules, sensitive)

    for i, rows in zip(todo, workers.run(review_one, todo, jobs=jobs), strict=True):
        cache.put("review", keys[i], rows)
        known[keys[i]] = Diagnostic.from_rows(rows) or []
    for key in keys:
        diags.extend(known[key])
    needs_check = v.site.help.organisations is None
    if needs_check and not shows_crisis_line(v.site, v.organisations, now):
        when = format_local(now, v.site.timezone)
        for subject in _subjects(tree, v):
            _Review(subject, rules, diags).help_needed(sensitive, when)


def review_file(
    subject: Subject, rules: RuleSet, sensitive: tuple[str, ...]
) -> list[list[str | int]]:
    """What one file's own text decides (all but SM030), as cache rows.

    `validate` calls it for each drop it parses, while the parsed file is at
    hand, and keeps the rows with the drop's record.
    """
    found = Diagnostics()
    review = _Review(subject, rules, found)
    review.findings()
    review.allows()
    if subject.warns:
        review.content_warning(sensitive)
    return [d.as_row() for d in found.sorted()]


def review_key(subject: Subject, sensitive: tuple[str, ...]) -> str:
    """Everything the review of one file depends on but the rules (in hubgen's code)."""
    about = repr((subject.kind, subject.topics, subject.allow, subject.content_warning))
    return digest("review", subject.path, subject.source, about, repr(sensitive))


def drop_subject(drop: Drop, source: str, load: Callable[[], Document]) -> Subject:
    return Subject(
        "drop", drop.span.path, source, drop.topics, drop.allow, drop.content_warning, True, load
    )


def _subjects(
    tree: SourceTree, v: Validated, *, reviewed: Collection[str] = ()
) -> Iterator[Subject]:
    """The campaigns, pages and drops under review, but the drops `reviewed`."""
    docs = {d.path: d for d in (*tree.campaigns, *tree.pages)}
    files = {f.path: f for f in tree.drops}

    def parsed(kind: str, record: Campaign | Page, warning: str | None, warns: bool) -> Subject:
        doc = docs[record.span.path]
        return Subject(
            kind,
            doc.path,
            source=file_hash(doc.text.encode("utf-8", "surrogatepass")),
            topics=record.topics,
            allow=record.allow,
            content_warning=warning,
            warns=warns,
            load=lambda: doc,
        )

    def reread(path: str) -> Callable[[], Document]:
        # Its problems were reported when it was validated: not again.
        return lambda: read_drop(tree.root, files[path], Diagnostics())[0]

    for c in v.campaigns:
        yield parsed("campaign", c, None, False)
    for d in v.drops:
        if d.span.path not in reviewed:
            yield drop_subject(d, v.sources[d.span.path], reread(d.span.path))
    for p in v.pages:
        yield parsed("page", p, p.content_warning, True)


class _Review:
    def __init__(self, subject: Subject, rules: RuleSet, diags: Diagnostics) -> None:
        self.s = subject
        self.ruleset = rules
        self.diags = diags
        self.lines = _line_starts(subject.doc.text)
        self.regions = list(self._regions())
        self.used: set[str] = set()

    def _regions(self) -> Iterator[Region]:
        doc = self.s.doc
        meta = doc.meta if isinstance(doc.meta, Mapping) else None
        fields = {"title": "title", "summary": "summary"}
        screen = self.ruleset.screen
        if self.s.kind == "campaign":
            fields["intro"] = "body"
        for key, field in fields.items():
            found = meta.get(key) if meta is not None else None
            if found is not None and isinstance(found[1], Scalar):
                start, end = self.offset(found[1].span), self.offset(found[1].end)
                yield Region(field, start, Passage(doc.text[start:end], screen=screen))
        if doc.path.endswith(".md"):
            lines = self.lines
            start = lines[doc.body_line - 1] if doc.body_line <= len(lines) else len(doc.text)
            yield Region("body", start, Passage(doc.text[start:], screen=screen))

    def offset(self, span: Span) -> int:
        line = min(max(span.line, 1), len(self.lines))
        return min(self.lines[line - 1] + span.col - 1, len(self.s.doc.text))

    def span(self, offset: int) -> Span:
        line = bisect_right(self.lines, offset)
        return Span(self.s.doc.path, line, offset - self.lines[line - 1] + 1)

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
            self._key_span("topics"),
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
            span, what = self._key_span("topics"), f"is on the sensitive topic '{topics[0]}'"
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

    def _key_span(self, key: str) -> Span:
        meta = self.s.doc.meta
        found = meta.get(key) if isinstance(meta, Mapping) else None
        return found[0].span if found is not None else Span(self.s.doc.path)


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
