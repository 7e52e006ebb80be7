"""The drops' safe-messaging review beside the build (`aside`): the same
findings, at the same places, as the review in the parse; whatever part of it
the process beside the build did."""

from __future__ import annotations

import signal
import sqlite3
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import CRISIS_LINE, run

from hubgen import aside
from hubgen.diagnostics import Diagnostics
from hubgen.load import load_site
from hubgen.ruleset import safe_messaging
from hubgen.validate import Validated, validate_site

NOW = "2023-05-10T12:00"
DROPS = 240  # more than aside.MIN_DROPS

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the review beside the build needs Linux"
)


def _drop(n: int) -> str:
    """A drop; one in eight with a finding in its body, one in twelve on a
    sensitive topic with no content warning (an error), one in twenty with an
    allow that silences nothing, one in thirty with CRLF line ends."""
    topics = "[suicide]" if n % 12 == 0 else "[sleep]"
    allow = "allow:\n  - rule: SM013\n    reason: Quotes a listener.\n" if n % 20 == 0 else ""
    body = "He committed suicide, she said.\n" if n % 8 == 0 else "A calm evening.\n"
    text = f"---\ntitle: Drop {n}\npublish_at: 2023-05-01\ntopics: {topics}\n{allow}---\n{body}"
    return text.replace("\n", "\r\n") if n % 30 == 0 else text


@pytest.fixture
def site(make_site: Callable[..., Path]) -> Path:
    files = {f"content/drops/may/d{n:03}.md": _drop(n) for n in range(DROPS)}
    return make_site({"content/organisations/lifeline.md": CRISIS_LINE, **files})


BROKEN = "---\ntitle: Broken\npublish_at: someday\n---\nHe committed suicide.\n"


def _check(site: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = run("check", "--site", site, "--now", NOW, *argv)
    return code, capsys.readouterr().err


def _started(monkeypatch: pytest.MonkeyPatch) -> list[aside.Aside]:
    """Each review process begun beside a build from now on, as it is begun."""
    started: list[aside.Aside] = []
    real = aside.Aside.start.__func__  # type: ignore[attr-defined]

    def start(cls: type[aside.Aside], *args: object, **kwargs: object) -> aside.Aside | None:
        found = real(cls, *args, **kwargs)
        if found is not None:
            started.append(found)
        return found

    monkeypatch.setattr(aside.Aside, "start", classmethod(start))
    return started


def test_the_findings_are_those_of_the_review_in_the_parse(
    site: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reviewed beside the build, then taken from the build cache, then after
    the cache lost the drops' findings: the same report as one process makes."""
    started = _started(monkeypatch)
    one = _check(site, capsys, "--jobs", "1", "--no-cache")
    assert started == []  # one process: reviewed in the parse
    assert one[0] == 1
    err = one[1]
    assert "content/drops/may/d008.md:6:4: warning[SM001]" in err
    assert "content/drops/may/d012.md:4:1: error[SM032]" in err
    assert "content/drops/may/d020.md:6:5: warning: unused allow: SM013" in err
    assert "content/drops/may/d120.md:9:4: warning[SM001]" in err  # CRLF: the same lines
    assert err.endswith("20 errors, 42 warnings\n")  # 30 SM001, 12 allows; 20 SM032
    assert _check(site, capsys, "--jobs", "2") == one
    assert len(started) == 1
    assert _check(site, capsys, "--jobs", "2") == one  # from the cache: nothing parsed
    assert len(started) == 1
    db = sqlite3.connect(site / ".hubgen-cache" / "cache.sqlite")
    with db:
        db.execute("DELETE FROM entries WHERE kind = 'drop-review'")
    db.close()
    assert _check(site, capsys, "--jobs", "2") == one  # parsed and reviewed again
    assert len(started) == 2
    # Findings of another shape are a miss, with none or some (most are `[]`).
    db = sqlite3.connect(site / ".hubgen-cache" / "cache.sqlite")
    with db:
        db.execute(
            "UPDATE entries SET value = '[[1]]' WHERE rowid IN (SELECT rowid FROM entries"
            " WHERE kind = 'drop-review' ORDER BY value = '[]', key LIMIT 3)"
        )
    assert _check(site, capsys, "--jobs", "2") == one  # those three parsed again
    assert db.execute("SELECT count(*) FROM entries WHERE value = '[[1]]'").fetchone() == (0,)
    db.close()
    # A problem found in the parse stops the build before any page is made:
    # the review is asked for at once, and told with it.
    (site / "content/drops/may/broken.md").write_text(BROKEN)
    one = _check(site, capsys, "--jobs", "1", "--no-cache")
    assert "content/drops/may/broken.md:3:13: error" in one[1]
    assert one[1].endswith("21 errors, 42 warnings\n")
    (site / ".hubgen-cache" / "cache.sqlite").unlink()
    assert _check(site, capsys, "--jobs", "2") == one
    assert len(started) == 3


def _over_one_and_two_jobs(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], page_404: str
) -> str:
    """The report of builds over one and two jobs, with this 404.html, once
    checked to be the same and to tell the drops' errors."""
    (site / "themes/default/templates").mkdir(parents=True)
    (site / "themes/default/templates/404.html").write_text(page_404)
    reports = [
        run("build", "--site", site, "--out", tmp_path / f"o{jobs}", "--jobs", jobs, "--no-cache")
        for jobs in ("1", "2")  # not from the cache: the second parses every drop too
    ]
    one, two = capsys.readouterr().err.split("warnings\n")[:2]
    assert reports == [1, 1] and one == two and "error[SM032]" in one
    return one


def _warn_on_sensitive_topics(site: Path) -> None:
    """What the drops' errors ask for: a content warning on each on a sensitive topic."""
    for n in range(0, DROPS, 12):
        drop = site / f"content/drops/may/d{n:03}.md"
        drop.write_text(drop.read_text().replace("title:", "content_warning: Suicide.\ntitle:", 1))


def test_the_report_does_not_depend_on_where_the_review_ran(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reviewed with the parse, the drops' errors stop a build before any page
    is made, so a broken template is not reached; reviewed beside the build,
    they are known after the pages: they are told alone all the same, and
    once they are fixed, the template's error is."""
    one = _over_one_and_two_jobs(site, tmp_path, capsys, "{% block content %}{% if %}")
    assert "404.html" not in one
    _warn_on_sensitive_topics(site)
    assert run("build", "--site", site, "--out", tmp_path / "o", "--jobs", "2") == 1
    err = capsys.readouterr().err
    assert err.startswith("themes/default/templates/404.html:1:1: error: template syntax")
    assert err.endswith("1 error, 0 warnings\n")
    assert not any((tmp_path / out).exists() for out in ("o", "o1", "o2"))


def _validated(site: Path) -> Validated:
    diags = Diagnostics()
    v = validate_site(load_site(site, diags), diags, base_url=None, jobs=2)
    assert len(v.unreviewed) == DROPS and not v.reviewed
    return v


def test_a_broken_link_is_told_as_after_a_review_with_the_parse(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The link check comes after the pages: the drops' errors are told alone,
    wherever they were reviewed."""
    one = _over_one_and_two_jobs(site, tmp_path, capsys, '<a href="/nowhere/">x</a>')
    assert "nowhere" not in one
    _warn_on_sensitive_topics(site)
    assert run("build", "--site", site, "--out", tmp_path / "o", "--jobs", "2") == 1
    assert "404.html links to /nowhere/, which is not in the output" in capsys.readouterr().err


@pytest.mark.parametrize("stage", ["killed", "asked at once", "finished", "stopped dead"])
def test_whatever_the_process_did_the_rest_is_done_here(site: Path, stage: str) -> None:
    """Killed before it sent anything, stopped as soon as it started, done
    with every drop, or stopped dead (a machine whose CPUs are all busy with
    other work): the same findings, in order."""
    v = _validated(site)
    items = [item for _key, item in v.unreviewed.values()]
    rules, sensitive = safe_messaging(), v.site.sensitive_topics
    expected = [aside.review_drop(site, item, rules, sensitive) for item in items]
    assert sum(bool(rows) for rows in expected) == 44  # drops with a finding (see `_drop`)
    beside = aside.Aside.start(site, sensitive, items, jobs=2)
    assert beside is not None
    process = beside._process
    assert process is not None
    if stage == "killed":
        process.kill()
    elif stage == "stopped dead":
        process.send_signal(signal.SIGSTOP)
    elif stage == "finished":
        process.wait(timeout=120)  # it ends once every drop's findings are written
        assert process.returncode == 0
    assert beside.finish(jobs=2) == expected
    assert process.returncode is not None  # it ended, and was waited for


def test_a_drop_saved_before_it_is_reviewed_stops_the_build(site: Path) -> None:
    """Its text is no longer the one parsed: the build says so, and to build again."""
    from hubgen.safemessaging import review_content

    v = _validated(site)
    drop = site / "content/drops/may/d005.md"
    drop.write_text(drop.read_text() + "Edited.\n")
    diags = Diagnostics()
    now = datetime(2023, 5, 10, tzinfo=UTC)
    review_content(load_site(site, Diagnostics()), v, diags, now=now, jobs=2).finish()
    assert [d.format() for d in diags.sorted() if d.code == "changed-during-build"] == [
        "content/drops/may/d005.md:1:1: error: the file changed while the site was "
        "being built; build again"
    ]


def test_the_process_is_ended_when_the_build_stops(site: Path) -> None:
    v = _validated(site)
    items = [item for _key, item in v.unreviewed.values()]
    beside = aside.Aside.start(site, v.site.sensitive_topics, items, jobs=2)
    assert beside is not None
    process = beside._process
    assert process is not None
    beside.close()
    assert process.returncode is not None


def test_the_review_runs_while_the_site_is_resolved_and_ends_if_the_build_stops(
    site: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Begun as validation ends: resolving the site leaves the other CPU to it.
    A build stopped before the review is asked for (here by a `--now` that
    does not exist in the site's time zone) still ends its process."""
    from hubgen import resolve

    started = _started(monkeypatch)
    running_when_resolved: list[bool] = []
    real_resolve = resolve.resolve_site

    def resolve_site(*args: object, **kwargs: object) -> object:
        process = started[-1]._process if started else None
        running_when_resolved.append(process is not None and process.poll() is None)
        return real_resolve(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(resolve, "resolve_site", resolve_site)
    assert _check(site, capsys, "--jobs", "2", "--no-cache")[0] == 1
    assert running_when_resolved == [True]
    process = started[0]._process
    assert process is None or process.returncode is not None  # finished, and ended
    # 02:30 on 12 March 2023 never happened in New York: the build stops once
    # the site is resolved, with the review still running.
    yaml = site / "site.yaml"
    yaml.write_text(yaml.read_text() + "timezone: America/New_York\n")
    code, err = _check(site, capsys, "--jobs", "2", "--no-cache", "--now", "2023-03-12T02:30")
    assert code == 2 and "--now" in err
    assert len(started) == 2 and running_when_resolved == [True, True]
    assert started[1]._process is None
