"""Helplines a reader can trust at `now`.

A reader in distress taps "Get help now" and must find a line that answers
people in crisis, with details someone has checked lately, for the right
country. `resolve` already refuses a help block that could never show a crisis
line; here, at the `now` that `check --now` or `build --now` gives:

- the configured help block must still show a crisis line (lines past their
  `until` are gone);
- SM050: a current line's `last_verified` may be at most `helpline_max_age_days`
  old (a warning naming the line);
- SM051: a helpline's regions must be regions of its organisation.

Pure: positions come from the loaded documents, the time from `now`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from hubgen.diagnostics import Diagnostics, Span
from hubgen.load import Document, SourceTree
from hubgen.model import Helpline, Organisation, Site
from hubgen.publish import help_block, helpline_current
from hubgen.timeparse import format_local
from hubgen.validate import Validated
from hubgen.yamlmarks import Mapping, Node, Scalar, Sequence


def shows_crisis_line(site: Site, organisations: Iterable[Organisation], now: datetime) -> bool:
    """Whether the "Get help now" block has a crisis line to show at `now`."""
    return any(line.crisis for _, line in help_block(site, organisations, now))


def check_helplines(tree: SourceTree, v: Validated, diags: Diagnostics, *, now: datetime) -> None:
    _help_block_now(v, diags, now)
    docs = {doc.path: doc for doc in tree.organisations}
    for org in v.organisations:
        doc = docs.get(org.span.path)
        for line in org.helplines:
            node = _helpline_node(doc, line)
            if helpline_current(line, now):
                _freshness(v.site, line, node, diags, now)
            _regions(org, line, node, diags)


def _help_block_now(v: Validated, diags: Diagnostics, now: datetime) -> None:
    """A configured block whose crisis lines have all ended shows none at `now`."""
    chosen = v.site.help.organisations
    if not chosen:
        return
    chosen_slugs = {r.slug for r in chosen}
    orgs = [o for o in v.organisations if o.slug in chosen_slugs]
    if not any(h.crisis for o in orgs for h in o.helplines):
        return  # resolve reports a block that can never show a crisis line
    if not shows_crisis_line(v.site, v.organisations, now):
        diags.error(
            chosen[0].span,
            "no-crisis-line",
            f"the help block shows no crisis line at {format_local(now, v.site.timezone)}: "
            "every crisis line of help.organisations has passed its 'until'; add an "
            "organisation with a current helpline marked crisis: true",
        )


def _freshness(
    site: Site, line: Helpline, node: Mapping | None, diags: Diagnostics, now: datetime
) -> None:
    if line.last_verified is None:
        return
    today = now.astimezone(site.timezone).date()
    age = (today - line.last_verified).days
    if age <= site.helpline_max_age_days:
        return
    diags.warning(
        _value_span(node, "last_verified", line.span),
        "SM050",
        f"helpline '{line.name}' was last verified on {line.last_verified}, {age} days "
        f"before {today} (helpline_max_age_days: {site.helpline_max_age_days}): check its "
        "details with the organisation and update last_verified",
    )


def _regions(org: Organisation, line: Helpline, node: Mapping | None, diags: Diagnostics) -> None:
    spans = _region_spans(node)
    for region in line.regions:
        if region in org.regions:
            continue
        if org.regions:
            fix = (
                f"which is not one of the regions of '{org.name}' ({', '.join(org.regions)}): "
                f"add {region} to the organisation's regions or remove it here"
            )
        else:
            fix = f"but '{org.name}' lists no regions: add regions: [{region}] to the organisation"
        diags.error(
            spans.get(region, line.span),
            "SM051",
            f"helpline '{line.name}' serves region {region}, {fix}",
        )


def _helpline_node(doc: Document | None, line: Helpline) -> Mapping | None:
    """The YAML mapping a helpline was written as, to point at its fields."""
    if doc is None or not isinstance(doc.meta, Mapping):
        return None
    found = doc.meta.get("helplines")
    if found is None or not isinstance(found[1], Sequence):
        return None
    return next((n for n in found[1].items if isinstance(n, Mapping) and n.span == line.span), None)


def _value_span(node: Mapping | None, key: str, default: Span) -> Span:
    found = node.get(key) if node is not None else None
    return found[1].span if found is not None else default


def _region_spans(node: Mapping | None) -> dict[str, Span]:
    found = node.get("regions") if node is not None else None
    if found is None:
        return {}
    value: Node = found[1]
    items = value.items if isinstance(value, Sequence) else (value,)
    return {n.text.strip(): n.span for n in items if isinstance(n, Scalar)}
