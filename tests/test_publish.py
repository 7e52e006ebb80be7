"""publish: the published set, campaign states, and what may be shown."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import FIXTURES, read_tree, run

from hubgen.diagnostics import Diagnostics
from hubgen.load import load_site
from hubgen.publish import boundaries, campaign_state, drop_status, publish
from hubgen.resolve import SiteGraph, resolve_site
from hubgen.validate import validate_site


def graph() -> SiteGraph:
    diags = Diagnostics()
    tree = load_site(FIXTURES / "site", diags)
    g = resolve_site(tree, validate_site(tree, diags, base_url=None), diags)
    assert not diags.has_errors()
    return g


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("slug", "now", "status"),
    [
        ("welcome", "2023-05-01T12:59", "scheduled"),  # 09:00 EDT is 13:00 UTC
        ("welcome", "2023-05-01T13:00", "published"),
        ("expired-note", "2023-05-08T12:00", "published"),
        ("expired-note", "2023-05-09T04:00", "expired"),  # expires_at is exclusive
        ("draft-idea", "2030-01-01T00:00", "draft"),
        ("later-drop", "2023-05-10T12:00", "scheduled"),
    ],
)
def test_drop_status_follows_the_rule(slug: str, now: str, status: str) -> None:
    drop = next(d for d in graph().drops if d.slug == slug)
    assert drop_status(drop, at(now)) == status


def test_campaign_state_uses_local_midnights() -> None:
    spring = graph().campaigns["spring-2023"]
    assert campaign_state(spring, at("2023-05-01T03:59")) == "upcoming"
    assert campaign_state(spring, at("2023-05-01T04:00")) == "live"
    assert campaign_state(spring, at("2023-06-01T03:59")) == "live"
    assert campaign_state(spring, at("2023-06-01T04:00")) == "ended"


def test_boundaries_list_every_instant_the_output_may_change() -> None:
    found = [b.at.astimezone(UTC).isoformat() for b in boundaries(graph())]
    assert "2023-05-15T13:00:00+00:00" in found  # later-drop goes live
    assert "2023-05-09T04:00:00+00:00" in found  # expired-note expires
    assert "2023-05-05T04:00:00+00:00" in found  # a helpline's until
    assert "2023-06-01T04:00:00+00:00" in found  # spring ends
    assert not any(b.startswith("2023-05-06") for b in found)  # drafts are not scheduled
    assert found == sorted(found)


def test_published_set_drives_lists_topics_and_media() -> None:
    pub = publish(graph(), at("2023-05-10T16:00"))
    assert [d.slug for d in pub.drops] == ["live-chat", "meet-ada", "welcome"]
    assert pub.creators == ("ada-example",)
    assert sorted(pub.topics) == ["anxiety", "sleep"]
    assert pub.media == {"/media/ada.svg", "/media/hero.svg", "/media/moon.svg"}
    assert pub.next_drop["spring-2023"].isoformat() == "2023-05-15"
    assert [h.name for h in pub.helplines["lifeline"]] == ["Example Lifeline", "Example Night Line"]


def test_preview_shows_everything() -> None:
    pub = publish(graph(), at("2023-05-10T16:00"), preview=True)
    assert len(pub.drops) == len(graph().drops)
    assert "ben-example" in pub.creators


UNPUBLISHED = [
    "Later drop still hidden",
    "later-drop",
    "Future body text",
    "future.svg",
    "Future image alt text",
    "future-topic",
    "Draft idea never shown",
    "draft-idea",
    "Draft body text",
    "secret-topic",
    "Expired housekeeping note",
    "expired-note",
    "This note expired",
    "Ben Example",
    "ben-example",
    "Retired Line",
    "Autumn opens",
    "autumn-opens",
]


def test_nothing_unpublished_appears_in_any_output_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("build", "--site", FIXTURES / "site", "--out", out, "--now", "2023-05-10T12:00") == 0
    for path, content in read_tree(out).items():
        text = content.decode("utf-8", errors="replace")
        for secret in UNPUBLISHED:
            assert secret not in text and secret not in path, f"{secret!r} leaked into {path}"


def test_preview_build_labels_and_noindexes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        run(
            "build",
            "--site",
            FIXTURES / "site",
            "--out",
            out,
            "--now",
            "2023-05-10T12:00",
            "--preview",
        )
        == 0
    )
    hub = (out / "spring-2023/index.html").read_text()
    assert "Scheduled for Monday 15 May 2023, 09:00 EDT" in hub
    assert "Draft" in (out / "spring-2023/draft-idea/index.html").read_text()
    assert "Preview." in hub
    for page in out.rglob("*.html"):
        assert '<meta name="robots" content="noindex">' in page.read_text(), page


def test_the_published_sets_digest_tells_its_drops_apart() -> None:
    """Pages known by this digest (`reads.published`) are taken as they were:
    it must change when any drop's place in the set or any drop's address does."""
    from dataclasses import replace

    from hubgen.reads import published

    g = graph()
    pub = publish(g, at("2023-05-10T16:00"))
    assert published(pub) == published(publish(graph(), at("2023-05-10T16:00")))
    assert len(pub.drops) > 1
    assert published(replace(pub, drops=pub.drops[::-1])) != published(pub)
    renamed = tuple(replace(d, slug=d.slug + "-again") if d is pub.drops[0] else d for d in g.drops)
    # The same drop objects in the same places, one at another address:
    moved = publish(replace(g, drops=renamed), at("2023-05-10T16:00"))
    assert published(moved) != published(pub)
    assert published(publish(g, at("2023-05-20T16:00"))) != published(pub)  # a drop went live
