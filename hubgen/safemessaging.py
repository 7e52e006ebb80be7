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

Pure: positions come from the loaded documents, the time from `now`. What
one file's text decides is reviewed by `textreview`; the drops this build
parsed, beside the rest of the build (`aside`), and each finding kept in the
build cache with the drop's record ("drop-review", under its key).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hubgen import workers
from hubgen.aside import Aside, review_drops
from hubgen.cache import Cache, digest, file_hash
from hubgen.diagnostics import Diagnostic, Diagnostics, Span
from hubgen.helpcheck import shows_crisis_line
from hubgen.load import Document, SourceTree, read_drop
from hubgen.model import Campaign, Page
from hubgen.ruleset import safe_messaging
from hubgen.textreview import (
    DROP_REVIEW,
    Marks,
    Rows,
    Subject,
    TextReview,
    drop_subject,
    review_file,
)
from hubgen.timeparse import format_local
from hubgen.yamlmarks import Mapping, Scalar

if TYPE_CHECKING:
    from hubgen.validate import Validated

Load = Callable[[], tuple[str, Marks]]  # a file's text and marks, read when first needed
_FIELDS = {"title": "title", "summary": "summary"}  # key -> the field a rule names
_CAMPAIGN_FIELDS = {**_FIELDS, "intro": "body"}


def review_content(
    tree: SourceTree,
    v: Validated,
    diags: Diagnostics,
    *,
    now: datetime,
    cache: Cache | None = None,
    jobs: int = 1,
    drops: DropReviews | None = None,
) -> DropReviews:
    """Review every campaign, drop and page. What a file's own text decides is
    reviewed over `jobs` processes and kept in the build cache under a hash of
    that text; only the check that depends on `now` (SM030) runs every time.

    The drops this build parsed (`Validated.unreviewed`) are reviewed beside the
    rest of the build where they can be (by `drops`, begun earlier, if given):
    their findings are told by the result's `finish`. Those of the drops the
    cache knew are told now.
    """
    cache = cache or Cache.none()
    rules = safe_messaging()
    sensitive = v.site.sensitive_topics
    drops = drops if drops is not None else DropReviews(tree.root, v, cache, diags, jobs)
    for findings in v.reviewed.values():  # drops: kept with their records
        diags.extend(findings)
    subjects = list(_subjects(tree, v, reviewed=v.reviewed.keys() | v.unreviewed.keys()))
    keys = [review_key(subject, sensitive) for subject, _load in subjects]
    # Read in one pass (and kept in memory between `serve`'s rebuilds); a
    # stored value of another shape is reviewed again.
    known = cache.decoded("review", keys, Diagnostic.from_rows)
    todo = [i for i, key in enumerate(keys) if key not in known]

    def review_one(i: int) -> Rows:
        subject, load = subjects[i]
        return review_file(subject, *load(), rules, sensitive)

    for i, rows in zip(todo, workers.run(review_one, todo, jobs=jobs), strict=True):
        cache.put("review", keys[i], rows)
        known[keys[i]] = Diagnostic.from_rows(rows) or []
    for key in keys:
        diags.extend(known[key])
    needs_check = v.site.help.organisations is None
    if needs_check and not shows_crisis_line(v.site, v.organisations, now):
        when = format_local(now, v.site.timezone)
        for subject, load in _subjects(tree, v):
            TextReview(subject, *load(), rules, diags).help_needed(sensitive, when)
    return drops


class DropReviews:
    """The review of the drops a build parsed, begun beside the build (`aside`)
    when there are enough of them, and finished when their findings are due."""

    def __init__(
        self, root: Path, v: Validated, cache: Cache, diags: Diagnostics, jobs: int
    ) -> None:
        self._root, self._cache, self._diags, self._jobs = root, cache, diags, jobs
        self._sensitive = v.site.sensitive_topics
        self._keys = [key for key, _item in v.unreviewed.values()]  # of their records
        self._paths = list(v.unreviewed)
        items = [item for _key, item in v.unreviewed.values()]
        self._aside = Aside.start(root, self._sensitive, items, jobs)
        # Held here only if reviewed here: the process beside the build has them.
        self._items = items if self._aside is None else []

    @property
    def beside(self) -> bool:
        """Whether the review runs beside the build, on CPU it leaves idle."""
        return self._aside is not None

    def finish(self) -> None:
        """Tell each drop's findings, and keep them in the cache."""
        if self._aside is not None:
            found = self._aside.finish(self._jobs)
            self._aside = None
        else:
            found = review_drops(self._root, self._items, self._sensitive, self._jobs)
        for key, path, rows in zip(self._keys, self._paths, found, strict=True):
            if rows is None:
                self._diags.error(
                    Span(path),
                    "changed-during-build",
                    "the file changed while the site was being built; build again",
                )
                continue
            self._cache.write(DROP_REVIEW, key, rows)
            self._diags.extend(Diagnostic.from_rows(rows) or [])
        self._keys, self._paths, self._items = [], [], []

    def close(self) -> None:
        """Stop the review beside the build, if it still runs (the build failed)."""
        if self._aside is not None:
            self._aside.close()
            self._aside = None


def review_key(subject: Subject, sensitive: tuple[str, ...]) -> str:
    """Everything the review of one file depends on but the rules (in hubgen's code)."""
    about = repr((subject.kind, subject.topics, subject.allow, subject.content_warning))
    return digest("review", subject.path, subject.source, about, repr(sensitive))


def marks_of(doc: Document, kind: str) -> Marks:
    """Where `doc`'s parse found what the review reads (see `Marks`)."""
    meta = doc.meta if isinstance(doc.meta, Mapping) else None
    fields = []
    for key, field in (_CAMPAIGN_FIELDS if kind == "campaign" else _FIELDS).items():
        found = meta.get(key) if meta is not None else None
        if found is not None and isinstance(found[1], Scalar):
            value = found[1]
            fields.append((field, value.span.line, value.span.col, value.end.line, value.end.col))
    topics = meta.get("topics") if meta is not None else None
    return Marks(
        tuple(fields),
        doc.body_line if doc.path.endswith(".md") else None,
        (topics[0].span.line, topics[0].span.col) if topics is not None else None,
    )


def _subjects(
    tree: SourceTree, v: Validated, *, reviewed: Collection[str] = ()
) -> Iterator[tuple[Subject, Load]]:
    """The campaigns, pages and drops under review, but the drops `reviewed`,
    each with what reads its text and marks."""
    docs = {d.path: d for d in (*tree.campaigns, *tree.pages)}
    files = {f.path: f for f in tree.drops}

    def parsed(
        kind: str, record: Campaign | Page, warning: str | None, warns: bool
    ) -> tuple[Subject, Load]:
        doc = docs[record.span.path]
        subject = Subject(
            kind,
            doc.path,
            source=file_hash(doc.text.encode("utf-8", "surrogatepass")),
            topics=record.topics,
            allow=record.allow,
            content_warning=warning,
            warns=warns,
        )
        return subject, lambda: (doc.text, marks_of(doc, kind))

    def reread(path: str) -> Load:
        def load() -> tuple[str, Marks]:
            # Its problems were reported when it was validated: not again.
            doc = read_drop(tree.root, files[path], Diagnostics())[0]
            return doc.text, marks_of(doc, "drop")

        return load

    for c in v.campaigns:
        yield parsed("campaign", c, None, False)
    for d in v.drops:
        if d.span.path not in reviewed:
            yield drop_subject(d, v.sources[d.span.path]), reread(d.span.path)
    for p in v.pages:
        yield parsed("page", p, p.content_warning, True)
