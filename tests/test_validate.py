"""validate + schema: each file on its own becomes a record with defaults."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from hubgen.diagnostics import Diagnostics
from hubgen.load import load_site
from hubgen.validate import Validated, validate_site


def validated(site: Path) -> tuple[Validated, list[str]]:
    diags = Diagnostics()
    v = validate_site(load_site(site, diags), diags, base_url=None)
    return v, [d.format() for d in diags.sorted()]


def test_defaults_of_site_campaign_and_drop(make_site: Callable[..., Path]) -> None:
    site = make_site(
        {
            "content/drops/may/2023-05-04-hello.md": "---\ntitle: Hi\npublish_at: 2023-05-04\n"
            "---\nBody\n"
        }
    )
    v, errors = validated(site)
    assert errors == []
    assert v.site.language == "en" and v.site.theme == "default"
    assert v.site.timezone == ZoneInfo("UTC")
    assert v.site.sensitive_topics == ("suicide", "self-harm", "eating-disorders")
    assert v.site.helpline_max_age_days == 180 and v.site.allow_html is False
    (campaign,) = v.campaigns
    assert campaign.timezone == ZoneInfo("UTC") and campaign.theme == "default"
    (drop,) = v.drops
    assert (drop.slug, drop.kind, drop.draft, drop.campaign) == ("hello", "article", False, "may")


def test_campaign_timezone_applies_to_its_drops(make_site: Callable[..., Path]) -> None:
    site = make_site(
        {
            "site.yaml": "title: T\nbase_url: https://example.org/\ntimezone: Europe/London\n",
            "campaigns/may.yaml": "title: May\nstarts: 2023-05-01\nends: 2023-05-31\n"
            "timezone: America/New_York\n",
            "content/drops/may/a.md": "---\ntitle: A\npublish_at: 2023-05-04 09:00\n---\n",
            "content/organisations/o.md": "---\nname: O\nwebsite: https://o.example\n"
            "helplines:\n  - name: L\n    phone: '123'\n    until: 2023-06-01\n---\n",
        }
    )
    v, errors = validated(site)
    assert errors == []
    assert v.drops[0].publish_at.utcoffset().total_seconds() == -4 * 3600
    assert v.organisations[0].helplines[0].until.tzinfo == ZoneInfo("Europe/London")


def test_slug_front_matter_overrides_the_file_name(make_site: Callable[..., Path]) -> None:
    site = make_site(
        {
            "content/drops/may/2023-05-04-x.md": "---\ntitle: A\npublish_at: 2023-05-04\n"
            "slug: custom\n---\n"
        }
    )
    v, _ = validated(site)
    assert v.drops[0].slug == "custom"


def test_yaml_11_words_stay_text(make_site: Callable[..., Path]) -> None:
    site = make_site(
        {
            "content/organisations/o.md": "---\nname: O\nwebsite: https://o.example\n"
            "summary: yes\nregions: [NO, GB]\nhelplines:\n  - name: on\n    phone: '1 2 3'\n"
            "    hours: 18:00\n---\n",
        }
    )
    v, errors = validated(site)
    assert errors == []
    (org,) = v.organisations
    assert org.summary == "yes" and org.regions == ("NO", "GB")
    assert org.helplines[0].name == "on" and org.helplines[0].hours == "18:00"


def test_quoted_and_unquoted_times_mean_the_same(make_site: Callable[..., Path]) -> None:
    site = make_site(
        {
            "content/drops/may/a.md": "---\ntitle: A\npublish_at: 2023-05-04 09:00\n---\n",
            "content/drops/may/b.md": "---\ntitle: B\npublish_at: '2023-05-04 09:00'\n---\n",
        }
    )
    v, _ = validated(site)
    assert v.drops[0].publish_at == v.drops[1].publish_at


def test_a_single_topic_may_be_written_without_a_list(make_site: Callable[..., Path]) -> None:
    site = make_site(
        {"content/drops/may/a.md": "---\ntitle: A\npublish_at: 2023-05-04\ntopics: sleep\n---\n"}
    )
    v, _ = validated(site)
    assert v.drops[0].topics == ("sleep",)


def test_every_problem_in_a_file_is_reported(make_site: Callable[..., Path]) -> None:
    site = make_site(
        {
            "content/drops/may/a.md": "---\ntitle: A\npublish_at: 2023-05-04\ndraft: maybe\n"
            "kind: essay\ntopics: [Bad Topic]\n---\n",
        }
    )
    _, errors = validated(site)
    assert errors == [
        "content/drops/may/a.md:4:8: error: 'draft' expects true or false, found 'maybe'",
        "content/drops/may/a.md:5:7: error: unknown value 'essay'; expected one of article, "
        "video, resource, spotlight, event, announcement",
        "content/drops/may/a.md:6:10: error: invalid slug 'Bad Topic': use lowercase letters, "
        "digits and single hyphens (like 'world-mental-health-day'); try 'bad-topic'",
    ]


def test_empty_required_value_is_reported_at_its_key(make_site: Callable[..., Path]) -> None:
    site = make_site({"content/drops/may/a.md": "---\ntitle:\npublish_at: 2023-05-04\n---\n"})
    _, errors = validated(site)
    assert errors == ["content/drops/may/a.md:2:1: error: 'title' has no value"]


def test_key_with_trailing_space_is_named(make_site: Callable[..., Path]) -> None:
    site = make_site({"content/pages/p.md": "---\n'title ': P\ntitle: P\n---\n"})
    _, errors = validated(site)
    assert errors == [
        "content/pages/p.md:2:1: error: unknown key 'title ': remove the spaces around 'title'"
    ]


def test_bom_and_crlf_files_simply_work(make_site: Callable[..., Path]) -> None:
    site = make_site({"content/pages/p.md": "\ufeff---\r\ntitle: P\r\n---\r\nBody\r\n".encode()})
    v, errors = validated(site)
    assert errors == []
    assert v.pages[0].title == "P" and v.pages[0].body.html == "<p>Body</p>"


def test_helpline_shapes_are_checked(make_site: Callable[..., Path]) -> None:
    site = make_site(
        {
            "content/organisations/o.md": "---\nname: O\nwebsite: https://o.example\n"
            "regions: [uk]\nhelplines:\n  - name: A\n    phone: 1-800-950-NAMI\n"
            "  - name: B\n    phone: '12'\n    languages: [english]\n  - name: C\n---\n",
        }
    )
    _, errors = validated(site)
    assert errors == [
        "content/organisations/o.md:4:11: error: invalid region 'uk': use a two-letter "
        "ISO 3166-1 code like US, GB or NO",
        "content/organisations/o.md:7:12: error: invalid number '1-800-950-NAMI': write digits, "
        "spaces and hyphens, like 1-800-950-6264",
        "content/organisations/o.md:9:12: error: invalid number '12': write digits, "
        "spaces and hyphens, like 1-800-950-6264",
        "content/organisations/o.md:10:17: error: invalid language tag 'english': use BCP 47, "
        "like en or es-MX",
        "content/organisations/o.md:11:5: error: a helpline needs at least one of phone, sms, "
        "text, chat or url",
    ]


def test_time_order_errors_show_the_resolved_utc_instants(make_site: Callable[..., Path]) -> None:
    site = make_site(
        {
            "site.yaml": "title: T\nbase_url: https://e.org/\ntimezone: America/New_York\n",
            "content/drops/may/a.md": "---\ntitle: A\npublish_at: 2023-05-04 09:00\n"
            "expires_at: 2023-05-03\n---\n",
        }
    )
    _, errors = validated(site)
    assert errors == [
        "content/drops/may/a.md:4:1: error: 'expires_at' is before 'publish_at': "
        "2023-05-03 00:00 EDT (2023-05-03 04:00 UTC) comes before "
        "2023-05-04 09:00 EDT (2023-05-04 13:00 UTC)"
    ]


def test_records_share_the_strings_they_repeat(make_site: Callable[..., Path]) -> None:
    """Records made over two processes hold one object for each repeated value
    (a topic, a kind, a link's URL), and are equal to those one process makes."""
    drop = (
        "---\ntitle: Drop {n}\npublish_at: 2023-05-{n:02}\nkind: video\n"
        "topics: [sleep, anxiety]\ncontent_warning: Talks about sleep loss.\n"
        "links:\n  - title: Mind\n    url: https://www.mind.org.uk/\n"
        "---\nSee [help](/help/) and [Mind](https://www.mind.org.uk/).\n"
    )
    site = make_site(
        {f"content/drops/may/2023-05-{n:02}-d{n}.md": drop.format(n=n) for n in range(1, 29)}
        | {f"content/drops/june/2023-06-{n:02}-d{n}.md": drop.format(n=n) for n in range(1, 29)}
    )
    made = {}
    for jobs in (1, 2):
        diags = Diagnostics()
        v = validate_site(load_site(site, diags), diags, base_url=None, jobs=jobs)
        assert [d.format() for d in diags.sorted()] == []
        made[jobs] = v.drops
    assert made[1] == made[2]
    drops = made[2]
    assert len(drops) == 56
    first = drops[0]
    for d in drops:
        assert d.topics is first.topics and d.kind is first.kind
        assert d.content_warning is first.content_warning
        assert d.links[0].url is first.links[0].url is first.body.refs.urls()[1]
        assert d.body.refs.urls()[0] is first.body.refs.urls()[0]  # "/help/"
    assert {d.campaign for d in drops} == {"may", "june"}
    assert len({id(d.campaign) for d in drops}) == 2
