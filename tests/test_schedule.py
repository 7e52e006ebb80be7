"""Scheduling: exact times, `hubgen schedule`, and output that changes only at boundaries."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FIXTURES, read_tree, run

NOW = "2023-05-10T12:00"


def test_schedule_json_lists_exactly_the_future_boundaries(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run("schedule", "--site", FIXTURES / "site", "--now", NOW, "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["now"] == "2023-05-10T16:00:00Z"
    found = [(b["at"], b["local"], b["event"], b["title"], b["file"]) for b in doc["boundaries"]]
    spring = "campaigns/spring-2023.yaml"
    autumn = "campaigns/autumn-2023.yaml"
    assert found == [
        (
            "2023-05-15T13:00:00Z",
            "2023-05-15T09:00:00-04:00",
            "drop-live",
            "Later drop still hidden",
            "content/drops/spring-2023/2023-05-15-later-drop.md",
        ),
        (
            "2023-06-01T04:00:00Z",
            "2023-06-01T00:00:00-04:00",
            "campaign-ends",
            "Spring Check-in 2023",
            spring,
        ),
        (
            "2023-10-01T04:00:00Z",
            "2023-10-01T00:00:00-04:00",
            "campaign-starts",
            "Autumn 2023",
            autumn,
        ),
        (
            "2023-10-02T04:00:00Z",
            "2023-10-02T00:00:00-04:00",
            "drop-live",
            "Autumn opens",
            "content/drops/autumn-2023/2023-10-02-autumn-opens.md",
        ),
        (
            "2023-10-11T04:00:00Z",
            "2023-10-11T00:00:00-04:00",
            "campaign-ends",
            "Autumn 2023",
            autumn,
        ),
    ]
    assert doc["next"] == doc["boundaries"][0]


def test_schedule_text_marks_the_next_change(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("schedule", "--site", FIXTURES / "site", "--now", NOW) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "now: 2023-05-10 12:00 EDT (2023-05-10 16:00 UTC)"
    assert lines[2] == (
        "→ 2023-05-15 09:00 EDT  (2023-05-15 13:00 UTC)  drop goes live: Later drop still "
        "hidden  [content/drops/spring-2023/2023-05-15-later-drop.md:2]"
    )
    assert all(line.startswith("  ") for line in lines[3:])


def test_schedule_after_everything_says_nothing_is_coming(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run("schedule", "--site", FIXTURES / "site", "--now", "2024-01-01") == 0
    assert "nothing is scheduled" in capsys.readouterr().out


def test_build_prints_a_summary_with_the_next_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("build", "--site", FIXTURES / "site", "--out", tmp_path / "o", "--now", NOW) == 0
    assert capsys.readouterr().out == (
        f"built 31 files into {tmp_path / 'o'}: 3 drops published, 2 scheduled, "
        "next change at 2023-05-15 09:00 EDT\n"
    )


LONDON = {
    "site.yaml": "title: T\nbase_url: https://e.org/\ntimezone: Europe/London\n",
    "campaigns/spring.yaml": "title: Spring\nstarts: 2023-03-01\nends: 2023-11-30\n",
}


def test_a_time_that_does_not_exist_is_an_error_naming_the_gap(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # In London the clocks went from 01:00 GMT to 02:00 BST on 26 March 2023.
    site = make_site(
        {
            **LONDON,
            "content/drops/spring/gap.md": "---\ntitle: Gap\npublish_at: 2023-03-26 01:30\n---\n",
        },
        minimal=False,
    )
    assert run("check", "--site", site) == 1
    assert capsys.readouterr().err == (
        "content/drops/spring/gap.md:3:13: error: 2023-03-26 01:30 does not exist in "
        "Europe/London: that night the clocks go forward from 01:00 GMT to 02:00 BST; "
        "use 00:59 or 02:00, or give a UTC offset\n1 error, 0 warnings\n"
    )


def test_half_past_two_on_the_london_spring_day_exists(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(
        {
            **LONDON,
            "content/drops/spring/ok.md": "---\ntitle: OK\npublish_at: 2023-03-26 02:30\n---\n",
        },
        minimal=False,
    )
    assert run("schedule", "--site", site, "--now", "2023-03-01", "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["next"]["at"] == "2023-03-26T01:30:00Z"  # 02:30 BST


def test_a_time_that_happens_twice_warns_and_uses_the_first(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(
        {
            **LONDON,
            "content/drops/spring/twice.md": "---\ntitle: Twice\n"
            "publish_at: 2023-10-29 01:30\n---\n",
        },
        minimal=False,
    )
    assert run("schedule", "--site", site, "--now", "2023-10-01", "--json") == 0
    out, err = capsys.readouterr()
    assert err == (
        "content/drops/spring/twice.md:3:13: warning: 2023-10-29 01:30 happens twice in "
        "Europe/London (clocks go back); using the first, 2023-10-29 01:30 BST "
        "(2023-10-29 00:30 UTC); add a UTC offset to choose\n0 errors, 1 warning\n"
    )
    assert json.loads(out)["next"]["at"] == "2023-10-29T00:30:00Z"
    assert run("check", "--site", site, "--strict") == 1


def test_an_explicit_offset_silences_the_twice_warning(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(
        {
            **LONDON,
            "content/drops/spring/twice.md": "---\ntitle: Twice\n"
            "publish_at: 2023-10-29 01:30+00:00\n---\n",
        },
        minimal=False,
    )
    assert run("check", "--site", site, "--strict") == 0
    assert capsys.readouterr().err == "0 errors, 0 warnings\n"


def test_a_drop_publishing_outside_its_campaign_warns(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The campaign runs from 00:00 on its first day to 00:00 after its last,
    local time: a drop at either edge is inside, or just after, it."""
    drop = "---\ntitle: {0}\npublish_at: {1}\n---\n"
    site = make_site(
        {
            **LONDON,
            "content/drops/spring/first.md": drop.format("First", "2023-03-01 00:00"),
            "content/drops/spring/last.md": drop.format("Last", "2023-11-30 23:59"),
            "content/drops/spring/after.md": drop.format("After", "2023-12-01 00:00"),
            "content/drops/spring/before.md": drop.format("Before", "2023-02-28 23:59"),
        },
        minimal=False,
    )
    assert run("check", "--site", site) == 0
    assert capsys.readouterr().err == (
        "content/drops/spring/after.md:2:1: warning: drop 'after' publishes at "
        "2023-12-01 00:00 GMT (2023-12-01 00:00 UTC), outside its campaign "
        "(2023-03-01 to 2023-11-30)\n"
        "content/drops/spring/before.md:2:1: warning: drop 'before' publishes at "
        "2023-02-28 23:59 GMT (2023-02-28 23:59 UTC), outside its campaign "
        "(2023-03-01 to 2023-11-30)\n"
        "0 errors, 2 warnings\n"
    )


def build_at(now: str, out: Path) -> dict[str, bytes]:
    assert run("build", "--site", FIXTURES / "site", "--out", out, "--now", now) == 0
    return read_tree(out)


def test_builds_between_two_boundaries_are_identical(tmp_path: Path) -> None:
    # Boundaries around: 2023-05-09 04:00 UTC (expiry) and 2023-05-15 13:00 UTC (next drop).
    early = build_at("2023-05-09T04:00Z", tmp_path / "a")
    late = build_at("2023-05-15T12:59:59Z", tmp_path / "b")
    assert early == late


def test_a_build_after_a_boundary_differs_only_where_it_must(tmp_path: Path) -> None:
    before = build_at("2023-05-15T12:59Z", tmp_path / "a")
    after = build_at("2023-05-15T13:00Z", tmp_path / "b")
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    assert changed == {
        ".hubgen-manifest",
        "index.html",  # latest updates
        "spring-2023/index.html",  # the new drop is listed, "next update" is gone
        "spring-2023/welcome/index.html",  # its link to the new drop becomes a link
        "spring-2023/later-drop/index.html",  # the drop itself
        "creators/index.html",  # Ben is credited now
        "creators/ben-example/index.html",
        "topics/index.html",
        "topics/future-topic/index.html",
        "media/future.svg",
        "feed.xml",  # a new entry in both feeds
        "spring-2023/feed.xml",
        "sitemap.xml",  # new pages
    }


def test_the_publish_workflow_rebuilds_hourly_and_deploys_to_pages() -> None:
    import yaml
    from conftest import REPO

    workflow = yaml.safe_load((REPO / ".github/workflows/publish.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"] == [{"cron": "7 * * * *"}]
    assert "push" in triggers and "pull_request" in triggers
    steps = workflow["jobs"]["build"]["steps"]
    commands = [s.get("run", "") for s in steps]
    assert "hubgen check --format github" in commands
    assert "hubgen build --out public" in commands
    uses = [s.get("uses", "") for job in workflow["jobs"].values() for s in job["steps"]]
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)


def test_the_publish_workflow_keeps_the_build_cache_and_output_between_runs() -> None:
    import yaml
    from conftest import REPO

    workflow = yaml.safe_load((REPO / ".github/workflows/publish.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    names = [s.get("uses", "") or s.get("run", "") for s in steps]
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    # The output too: its unchanged pages are taken as they are; and the output
    # before it, brought up to date rather than a new folder (see test_incremental).
    assert cache["with"]["path"].split() == [".hubgen-cache", "public", ".public.spare"]
    assert "${{ github.run_id }}" in cache["with"]["key"]  # a new entry every run
    assert cache["with"]["restore-keys"].startswith("hubgen-cache-${{ github.ref }}-")
    # Restored before the first hubgen command, which is what reads it.
    first_hubgen = next(i for i, n in enumerate(names) if n.startswith("hubgen "))
    assert names.index(cache["uses"]) < first_hubgen
