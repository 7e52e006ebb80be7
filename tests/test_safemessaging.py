"""The safe-messaging check as authors see it: findings, positions, allows, content warnings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CRISIS_LINE, run

from hubgen.ruleset import Rule, safe_messaging

NOW = "2023-05-10T12:00"
RULES = safe_messaging().rules


def _page(rule: Rule, text: str) -> str:
    """A page with `text` in the first field the rule reads (the title or the body)."""
    if rule.fields[0] == "title":
        return f"---\ntitle: {json.dumps(text)}\n---\nBody.\n"
    return f"---\ntitle: A page\n---\n{text}\n"


def _codes(site: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    run("check", "--site", site, "--now", NOW, "--format", "json")
    return [d["rule"] for d in json.loads(capsys.readouterr().out)["diagnostics"]]


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_each_rule_flags_its_example(
    rule: Rule, make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(
        {"content/organisations/l.md": CRISIS_LINE, "content/pages/p.md": _page(rule, rule.example)}
    )
    assert rule.id in _codes(site, capsys)


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_each_rule_passes_its_near_miss(
    rule: Rule, make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(
        {
            "content/organisations/l.md": CRISIS_LINE,
            "content/pages/p.md": _page(rule, rule.near_miss),
        }
    )
    assert rule.id not in _codes(site, capsys)


def test_there_are_at_least_twenty_rules_each_with_a_source() -> None:
    assert len(RULES) >= 20
    assert all(r.sources and r.suggestion and r.why and r.level == "warning" for r in RULES)


def test_findings_point_at_the_words_across_lines_quotes_and_emphasis(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(
        {
            "content/organisations/l.md": CRISIS_LINE,
            "campaigns/may.yaml": "title: May\nstarts: 2023-05-01\nends: 2023-05-31\n"
            "intro: |\n  Our story: a man who\n  committed suicide.\n",
            "content/drops/may/a.md": '---\ntitle: "Why we never say committed suicide"\n'
            "publish_at: 2023-05-02\nsummary: >-\n  He was not a\n  psycho.\n---\n"
            "Intro line.\n\nPeople **suffering\nfrom depression** are\n"
            "> not a *happy\n> pills* story.\n",
        }
    )
    assert run("check", "--site", site, "--now", NOW) == 0
    assert capsys.readouterr().err == (
        'campaigns/may.yaml:6:3: warning[SM001]: "committed suicide" — say "died by suicide" '
        'or "took their own life" ("commit" links suicide to crime and sin, which adds to '
        "stigma)\n"
        'content/drops/may/a.md:2:26: warning[SM001]: "committed suicide" — say "died by '
        'suicide" or "took their own life" ("commit" links suicide to crime and sin, which '
        "adds to stigma)\n"
        'content/drops/may/a.md:6:3: warning[SM007]: "psycho" — describe the person, such as '
        '"a person living with schizophrenia" or "someone experiencing psychosis" (labels like '
        "these reduce people to an illness and feed fear and stigma)\n"
        'content/drops/may/a.md:10:10: warning[SM008]: "suffering from depression" — say '
        '"living with", "has a diagnosis of" or "is being treated for" (it suggests '
        "helplessness and that recovery is unlikely)\n"
        'content/drops/may/a.md:12:10: warning[SM011]: "happy pills" — say "antidepressants", '
        '"mental health hospital" or "psychiatrist" (slang for treatment mocks the help people '
        "need and can put them off seeking it)\n"
        "0 errors, 5 warnings\n"
    )


def test_proximity_rules_name_the_term_they_are_near(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    body = "She took her own life.\n\nShe had been\ncollecting pills for weeks.\n"
    site = make_site(
        {
            "content/organisations/l.md": CRISIS_LINE,
            "content/pages/p.md": f"---\ntitle: P\n---\n{body}",
        }
    )
    assert run("check", "--site", site, "--now", NOW) == 0
    assert capsys.readouterr().err.splitlines()[0] == (
        'content/pages/p.md:7:12: warning[SM020]: "pills" (near "took her own life") — leave '
        'out how; say the person "died by suicide" or "self-harmed" and talk about help and '
        "hope (details of a method can lead people at risk to copy it)"
    )


def test_an_eating_disorders_topic_makes_numbers_count_anywhere_in_the_file(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    page = "---\ntitle: P\ntopics: [{topic}]\ncontent_warning: About food.\n---\n1200 calories.\n"
    site = make_site(
        {
            "content/organisations/l.md": CRISIS_LINE,
            "content/pages/ed.md": page.format(topic="eating-disorders"),
            "content/pages/food.md": page.format(topic="nutrition"),
        }
    )
    assert _codes(site, capsys) == ["SM040"]


def test_strict_makes_findings_errors(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({"content/pages/p.md": "---\ntitle: P\n---\nA crazy week.\n"})
    assert run("check", "--site", site, "--now", NOW) == 0
    capsys.readouterr()
    assert run("check", "--site", site, "--now", NOW, "--strict") == 1
    assert capsys.readouterr().err.startswith("content/pages/p.md:4:3: error[SM013]: ")


def test_allow_silences_one_rule_for_one_file_and_unused_allows_are_reported(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    allow = (
        "allow:\n  - rule: SM013\n    reason: Quotes a listener's words.\n"
        "  - rule: SM054\n    reason: Left over from an earlier draft.\n"
    )
    site = make_site(
        {
            "content/pages/a.md": f"---\ntitle: A\n{allow}---\nA crazy week.\nSo crazy.\n",
            "content/pages/b.md": "---\ntitle: B\n---\nA crazy week.\n",
        }
    )
    assert run("check", "--site", site, "--now", NOW) == 0
    assert capsys.readouterr().err == (
        "content/pages/a.md:6:5: warning: unused allow: SM054 finds nothing in this file; "
        "remove this entry\n"
        'content/pages/b.md:4:3: warning[SM013]: "crazy" — use a precise word, such as '
        '"surprising", "overwhelming" or "unfair" (illness words used as insults make people '
        "less likely to talk about their own mental health)\n"
        "0 errors, 2 warnings\n"
    )


def test_allow_must_name_a_rule_it_can_silence_and_give_a_reason(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    allow = (
        "allow:\n  - rule: SM0O1\n    reason: Typo.\n"
        "  - rule: SM032\n    reason: We would rather not.\n"
        "  - rule: SM013\n"
    )
    site = make_site({"content/pages/a.md": f"---\ntitle: A\n{allow}---\nText.\n"})
    assert run("check", "--site", site, "--now", NOW) == 1
    assert capsys.readouterr().err == (
        "content/pages/a.md:4:5: error: allow names an unknown rule 'SM0O1' (did you mean "
        "SM001?): use the id of a safe-messaging rule listed in docs/safe-messaging.md\n"
        "content/pages/a.md:6:5: error: allow cannot silence SM032 (content warnings on "
        "sensitive topics): it is required; fix what it reports\n"
        "content/pages/a.md:8:5: error: missing required field 'reason' in an allow entry\n"
        "3 errors, 0 warnings\n"
    )


def test_campaigns_accept_allow_too(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(
        {
            "campaigns/may.yaml": "title: May\nstarts: 2023-05-01\nends: 2023-05-31\n"
            "summary: A crazy idea that worked.\n"
            "allow:\n  - rule: SM013\n    reason: The campaign's registered slogan.\n"
        }
    )
    assert run("check", "--site", site, "--now", NOW, "--strict") == 0
    assert capsys.readouterr().err == "0 errors, 0 warnings\n"


@pytest.mark.parametrize("kind", ["drop", "page"])
def test_a_sensitive_topic_needs_a_content_warning(
    kind: str, make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = "content/drops/may/a.md" if kind == "drop" else "content/pages/a.md"
    head = "title: A\npublish_at: 2023-05-02\n" if kind == "drop" else "title: A\n"
    site = make_site(
        {
            "content/organisations/l.md": CRISIS_LINE,
            path: f"---\n{head}topics: [anxiety, self-harm]\n---\nText.\n",
        }
    )
    line = 4 if kind == "drop" else 3
    assert run("check", "--site", site, "--now", NOW) == 1
    assert capsys.readouterr().err == (
        f"{path}:{line}:1: error[SM032]: this {kind} is on the sensitive topic 'self-harm' but "
        "has no content_warning: add one that says what it discusses, like content_warning: "
        '"This post talks about self harm."\n1 error, 0 warnings\n'
    )
    with_warning = (
        f"---\n{head}topics: [self-harm]\ncontent_warning: Mentions self-harm.\n---\nT.\n"
    )
    make_site({path: with_warning})
    assert run("check", "--site", site, "--now", NOW) == 0


def test_sensitive_topics_come_from_site_yaml(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(
        {
            "site.yaml": "title: T\nsensitive_topics: [grief]\n",
            "content/pages/a.md": "---\ntitle: A\ntopics: [grief]\n---\nText.\n",
            "content/pages/b.md": "---\ntitle: B\ntopics: [eating-disorders]\n---\nText.\n",
        }
    )
    assert run("check", "--site", site, "--now", NOW) == 1
    err = capsys.readouterr().err
    assert "content/pages/a.md:3:1: error[SM032]:" in err
    assert "content/pages/b.md" not in err


def test_a_drops_review_is_kept_with_it_and_made_again_when_sensitive_topics_change(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The build cache keeps what the review found in a drop with its record:
    told again on every run without the drop being read, and found afresh
    when site.yaml's sensitive topics change though the drop did not."""
    drop = "---\ntitle: Loss\npublish_at: 2023-05-02\ntopics: [grief]\n---\nHe committed suicide.\n"
    site = make_site({"content/organisations/l.md": CRISIS_LINE, "content/drops/may/loss.md": drop})
    finding = "content/drops/may/loss.md:6:4: warning[SM001]:"
    for _ in range(2):  # parsed, then known from the cache
        assert run("check", "--site", site, "--now", NOW) == 0
        err = capsys.readouterr().err
        assert finding in err and "SM032" not in err
    site_yaml = site / "site.yaml"
    site_yaml.write_text(site_yaml.read_text() + "sensitive_topics: [grief]\n")
    for _ in range(2):
        assert run("check", "--site", site, "--now", NOW) == 1
        err = capsys.readouterr().err
        assert finding in err and "content/drops/may/loss.md:4:1: error[SM032]:" in err


def test_a_drop_validation_did_not_review_is_reviewed_with_the_other_files(
    make_site: Callable[..., Path],
) -> None:
    """`review_content` reports what `validate` found in each drop, and reviews
    any drop it was not given findings for rather than skip it."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from hubgen.diagnostics import Diagnostics
    from hubgen.load import load_site
    from hubgen.safemessaging import review_content
    from hubgen.validate import validate_site

    drop = "---\ntitle: Loss\npublish_at: 2023-05-02\n---\nHe committed suicide.\n"
    site = make_site({"content/organisations/l.md": CRISIS_LINE, "content/drops/may/loss.md": drop})
    now = datetime(2023, 5, 10, tzinfo=UTC)
    found = []
    for given in (True, False):
        diags = Diagnostics()
        v = validate_site(load_site(site, diags), diags, base_url=None)
        assert list(v.reviewed) == ["content/drops/may/loss.md"]
        review_content(
            load_site(site, Diagnostics()), v if given else replace(v, reviewed={}), diags, now=now
        )
        found.append([f"{d.span}: {d.code}" for d in diags.sorted() if d.code.startswith("SM")])
    assert found[0] == found[1] == ["content/drops/may/loss.md:5:4: SM001"]


def test_text_about_suicide_needs_a_crisis_line_to_show(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """SM030: with no crisis line anywhere, the help block has nothing to offer."""
    site = make_site(
        {
            "content/pages/a.md": "---\ntitle: Talking about it\n---\n"
            "How to ask someone about\nsuicide.\n",
            "content/pages/b.md": "---\ntitle: Sleep\n---\nHow to sleep well.\n",
        }
    )
    assert run("check", "--site", site, "--now", NOW) == 1
    assert capsys.readouterr().err == (
        'content/pages/a.md:5:1: error[SM030]: this page talks about suicide ("suicide") but '
        "the help block shows no crisis line at 2023-05-10 12:00 UTC: add an organisation "
        "with a current helpline marked crisis: true\n1 error, 0 warnings\n"
    )
    make_site({"content/organisations/l.md": CRISIS_LINE})
    assert run("check", "--site", site, "--now", NOW) == 0


def test_a_term_counts_only_where_it_starts_a_word(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """ "spend their lives" holds "end their lives": not about suicide, so no SM030
    error and no "method" warning near it; "ended their lives" still is."""
    site = make_site(
        {
            "content/pages/a.md": "---\ntitle: Carers\n---\nThey spend their lives helping "
            "others, and pretend your life is fine; a skill himself he learnt from pills.\n",
        }
    )
    assert run("check", "--site", site, "--now", NOW) == 0
    assert capsys.readouterr().err == "0 errors, 0 warnings\n"
    make_site({"content/pages/a.md": "---\ntitle: Carers\n---\nThey ended their lives.\n"})
    assert run("check", "--site", site, "--now", NOW) == 1
    assert 'error[SM030]: this page talks about suicide ("ended their lives")' in (
        capsys.readouterr().err
    )


def test_a_crisis_line_past_its_until_no_longer_counts(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ending = CRISIS_LINE.replace("crisis: true", "crisis: true\n    until: 2023-06-01")
    site = make_site(
        {
            "content/organisations/l.md": ending,
            "content/pages/a.md": "---\ntitle: A\ntopics: [eating-disorders]\n"
            "content_warning: About eating disorders.\n---\nText.\n",
        }
    )
    assert run("check", "--site", site, "--now", "2023-05-31T23:59") == 0
    capsys.readouterr()
    assert run("check", "--site", site, "--now", "2023-06-01T00:00") == 1
    assert capsys.readouterr().err.startswith(
        "content/pages/a.md:3:1: error[SM030]: this page is on the sensitive topic "
        "'eating-disorders' but the help block shows no crisis line at 2023-06-01 00:00 UTC"
    )


def test_the_theme_shows_the_warning_and_the_help_block_before_the_text(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    warned = "content_warning: Talks about suicide.\ntopics: [suicide]\n"
    site = make_site(
        {
            "content/organisations/l.md": CRISIS_LINE,
            "content/drops/may/a.md": f"---\ntitle: A\npublish_at: 2023-05-02\n{warned}---\n"
            "The words of drop A.\n",
            "content/drops/may/b.md": "---\ntitle: B\npublish_at: 2023-05-02\n---\n"
            "The words of drop B.\n",
        }
    )
    assert run("build", "--site", site, "--out", tmp_path / "o", "--now", NOW) == 0
    a = (tmp_path / "o/may/a/index.html").read_text()
    assert (
        a.index('class="help-block"')
        < a.index("Content warning:</strong> Talks about suicide.")
        < a.index("The words of drop A.")
    )
    b = (tmp_path / "o/may/b/index.html").read_text()
    assert "content-warning" not in b
    assert b.index("The words of drop B.") < b.index('class="help-block"')
