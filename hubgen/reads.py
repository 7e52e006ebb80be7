"""What a page reads, as keys known before the page's views are made.

Everything a page can show falls in three parts. One is the drops it shows,
each known by its record's key (`validate`: a hash of its file's path and
bytes, and of the settings its record was made with). Another is what every
page reads: every other source file, the options, and what the header and
help block read of the published set, hashed once as `Inputs.site`. A page's `key` is those two,
its path and its templates. The third is what the page reads of the published
set (which drops are public at `now`, and in which lists): the facts its views
asked for (`views.Views.fact`), noted when they were made.

So a page is known in one of two ways. By `Inputs.now`, its key with a hash of
the whole published set: after an edit that leaves the published set as it
was, most pages are known so, in one lookup. Or, when the published set
changed (a drop went live), by its key and the answers to the facts it read
then, asked again now (`produce`): only the pages that read something that
changed, such as a link to the new drop or the list it joins, are looked at.

The drops a page shows are declared where it is planned (`render`), and each
time a page's views are made, every drop they show is checked against that
list: a page that shows an undeclared drop stops the build, never goes stale.
Likewise its views read the published set only through facts.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from functools import partial
from typing import TYPE_CHECKING

from hubgen.cache import digest
from hubgen.model import Drop

if TYPE_CHECKING:
    from hubgen.publish import Published
    from hubgen.unchanged import Sources


@dataclass(frozen=True)
class Inputs:
    """What every page of one build reads, and how to key the drops they show."""

    site: str  # hash of what every page reads: other sources, options, the header's facts
    published: str  # hash of the whole published set
    drops: Mapping[str, str]  # drop file -> its record's key (a hash), as the build read it
    steady: Callable[[], Collection[str] | None]  # files still as hashed (see `_steady`)
    # drop file -> its record's key in the last build, if its text alone changed since
    before: Mapping[str, str] = field(default_factory=dict)

    def reading(self, asked: str) -> Inputs:
        """These inputs, with `asked` (a hash of what every page reads of the
        published set) in `site`."""
        return replace(self, site=digest("site-reads", self.site, asked))

    def key(self, out: str, templates: str, shown: Iterable[Drop]) -> str | None:
        """The page's key, all but the published set; None if a drop it shows
        has no known key. The drops' keys are joined as they are: hashes of
        one length, each naming its file."""
        return self._key(out, templates, shown, self.drops)

    def key_before(self, out: str, templates: str, shown: Iterable[Drop]) -> str | None:
        """The page's `key` with each drop it shows whose text alone changed
        (`before`) as the last build knew it, all else as now; None if it
        shows no such drop (or one with no known key)."""
        if not any(d.span.path in self.before for d in shown):
            return None
        return self._key(out, templates, shown, ChainMap(self.before, self.drops))

    def _key(
        self, out: str, templates: str, shown: Iterable[Drop], keys: Mapping[str, str]
    ) -> str | None:
        parts = []
        for d in shown:
            found = keys.get(d.span.path)
            if found is None:
                return None
            parts.append(found)
        return digest("reads", out, self.site, templates, "".join(parts))

    def now(self, key: str) -> str:
        """A page's `key` with the whole published set: the two hashes side by
        side (each of a fixed length), not hashed again for every page."""
        return key + self.published

    def drop_key(self, d: Drop) -> str | None:
        """The key of what a drop's view read: its record's; None if unknown."""
        return self.drops.get(d.span.path)


def inputs(
    sources: Sources,
    drops: Mapping[str, str],
    pub: Published,
    before: Mapping[str, str] | None = None,
) -> Inputs:
    """`drops`: each drop record's key, as validation made or found it;
    `before`: the last build's, of drops whose text alone changed since
    (`validate.Validated.before`); `sources` knows the rest."""
    others = sources.digest_except(drops)
    site = digest("site-reads", others, pub.graph.urls.base_url, repr(pub.preview))
    steady = partial(_steady, sources, drops)
    return Inputs(site, published(pub), drops, steady, before or {})


def _steady(sources: Sources, drops: Mapping[str, str]) -> Collection[str] | None:
    """The steady files (`Sources.steady`); None unless every file but the drops
    is steady, since every page reads those."""
    found = sources.steady()
    return found if sources.stats.keys() - drops.keys() <= found else None


def published(pub: Published) -> str:
    """Every field of the published set but the graph, each drop as its file and
    address (pages link to drops they do not show): a field added to `Published`
    counts here without a change."""
    drops = pub.graph.drops
    text = _Text(drops)
    parts = [f"{f.name}={text.of(getattr(pub, f.name))}" for f in fields(pub) if f.name != "graph"]
    # One part, each drop's reprs self-delimiting: not 10,000 parts to prefix.
    every = "".join([f"{d.span.path!r}/{d.slug!r}" for d in drops])
    return digest("published", *parts, "every drop", every)


class _Text:
    """Text that differs when a value does, each drop of `drops` written as its
    place among them (the published set's digest holds their files and
    addresses once, in order: a drop is in five or six of its fields, and its
    path in each was most of the text), any other as its path and slug."""

    def __init__(self, drops: Iterable[Drop]) -> None:
        self._drops = {id(d): f"#{i}" for i, d in enumerate(drops)}

    def of(self, value: object) -> str:
        if type(value) is Drop:
            known = self._drops.get(id(value))
            return known if known is not None else f"{value.span.path!r}/{value.slug!r}"
        if isinstance(value, dict):
            return "{" + ",".join(f"{self.of(k)}:{self.of(v)}" for k, v in value.items()) + "}"
        if isinstance(value, (tuple, list)):
            return "(" + ",".join(map(self.of, value)) + ")"
        if isinstance(value, (set, frozenset)):
            return "{" + ",".join(sorted(map(self.of, value))) + "}"
        return repr(value)
