"""Properties of the scheduler over random schedules and random moments.

1. The published set is exactly what the rule says.
2. Two builds at any two moments between the same two boundaries are identical.
3. A build reports the first boundary after it, and is found up to date from
   the boundary before it until that one, and not a moment outside.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import read_tree, write_site
from hypothesis import given, settings
from hypothesis import strategies as st

from hubgen.pipeline import build, check
from hubgen.publish import around, boundaries, publish, upcoming

START = datetime(2023, 5, 1, 4, 0, tzinfo=UTC)  # 2023-05-01 00:00 in New York
SPAN_MINUTES = 31 * 24 * 60


@dataclass(frozen=True)
class Plan:
    publish: int  # minutes after START
    expires: int | None  # minutes after publish
    draft: bool


plans = st.lists(
    st.builds(
        Plan,
        publish=st.integers(0, SPAN_MINUTES),
        expires=st.none() | st.integers(1, 10 * 24 * 60),
        draft=st.booleans(),
    ),
    min_size=1,
    max_size=6,
)
moments = st.integers(-3 * 24 * 60, SPAN_MINUTES + 3 * 24 * 60)


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def local(minutes: int) -> str:
    """Wall-clock New York time, as an author writes it (May has no DST change)."""
    return f"{at(minutes) - timedelta(hours=4):%Y-%m-%d %H:%M}"


def site_files(schedule: list[Plan]) -> dict[str, str]:
    files = {
        "site.yaml": "title: T\nbase_url: https://example.org/hub/\ntimezone: America/New_York\n",
        "campaigns/may.yaml": "title: May\nstarts: 2023-05-01\nends: 2023-05-31\n",
        "content/creators/c.md": "---\nname: Cee\n---\n",
    }
    for i, plan in enumerate(schedule):
        lines = [
            f"title: Drop number {i}",
            f"publish_at: {local(plan.publish)}",
            f"topics: [topic-{i}]",
            "creators: [c]",
        ]
        if plan.expires is not None:
            lines.append(f"expires_at: {local(plan.publish + plan.expires)}")
        if plan.draft:
            lines.append("draft: true")
        files[f"content/drops/may/drop-{i}.md"] = "---\n" + "\n".join(lines) + "\n---\nBody.\n"
    return files


def rule(plan: Plan, now: datetime) -> bool:
    """The publishing rule, written out independently of hubgen."""
    expires = None if plan.expires is None else at(plan.publish + plan.expires)
    return not plan.draft and at(plan.publish) <= now and (expires is None or now < expires)


@settings(max_examples=40, deadline=None)
@given(schedule=plans, minute=moments)
def test_published_set_follows_the_rule(schedule: list[Plan], minute: int) -> None:
    now = at(minute)
    with tempfile.TemporaryDirectory() as tmp:
        site = write_site(Path(tmp), site_files(schedule))
        pub = publish(check(site, now=now).graph, now)
    expected = {f"drop-{i}" for i, plan in enumerate(schedule) if rule(plan, now)}
    assert {d.slug for d in pub.drops} == expected
    expected_topics = {f"topic-{i}" for i, plan in enumerate(schedule) if rule(plan, now)}
    assert set(pub.topics) == expected_topics


@settings(max_examples=25, deadline=None)
@given(schedule=plans, minute=moments, fraction=st.floats(0, 1))
def test_output_is_identical_between_boundaries(
    schedule: list[Plan], minute: int, fraction: float
) -> None:
    now = at(minute)
    with tempfile.TemporaryDirectory() as tmp:
        site = write_site(Path(tmp), site_files(schedule))
        checked = check(site, now=now)
        times = [b.at for b in boundaries(checked.graph)]
        previous = max((t for t in times if t <= now), default=now - timedelta(days=30))
        following = min((t for t in times if t > now), default=now + timedelta(days=30))
        other = previous + (following - previous - timedelta(microseconds=1)) * fraction
        out = Path(tmp) / "out"
        build(site, out / "first", now=now, cache=False, jobs=1)
        build(site, out / "second", now=other, cache=False, jobs=1)
        first, second = read_tree(out / "first"), read_tree(out / "second")
    assert first == second


@settings(max_examples=25, deadline=None)
@given(schedule=plans, minute=moments)
def test_next_change_and_up_to_date_span(schedule: list[Plan], minute: int) -> None:
    """The moments are whole minutes, as the boundaries are: a build often
    falls exactly on one, which then has passed (it is no longer to come)."""
    now = at(minute)
    tick = timedelta(microseconds=1)
    with tempfile.TemporaryDirectory() as tmp:
        site = write_site(Path(tmp), site_files(schedule))
        out = Path(tmp) / "out"
        graph = check(site, now=now, cache=False, jobs=1).graph
        times = [b.at for b in boundaries(graph)]
        after = [t for t in times if t > now]
        coming = upcoming(graph, now)
        assert [b.at for b in coming] == after
        before = [t for t in times if t <= now]
        assert around(graph, now) == (max(before, default=None), coming[0] if coming else None)
        built = build(site, out, now=now, jobs=1)
        assert built.next_change == (min(after) if after else None)
        if after:
            assert build(site, out, now=min(after) - tick, jobs=1).unchanged
            assert not build(site, out, now=min(after), jobs=1).unchanged
            build(site, out, now=now, jobs=1)
        if before:
            assert build(site, out, now=max(before), jobs=1).unchanged
            assert not build(site, out, now=max(before) - tick, jobs=1).unchanged
