"""`hubgen new`: starter files that `hubgen check` accepts, and never an overwrite."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run

from hubgen.scaffold import slug_from_title

NEW = {
    "campaign": (
        ["campaign", "june-2023", "--starts", "2023-06-01", "--ends", "2023-06-30"],
        "campaigns/june-2023.yaml",
    ),
    "drop": (
        ["drop", "may", "Live Q&A: checking in — part 1", "--at", "2023-05-10 09:00"],
        "content/drops/may/2023-05-10-live-q-a-checking-in-part-1.md",
    ),
    "creator": (["creator", "maya-okafor"], "content/creators/maya-okafor.md"),
    "organisation": (
        ["organisation", "crisis-text-line", "--website", "https://www.crisistextline.org"],
        "content/organisations/crisis-text-line.md",
    ),
    "page": (["page", "about", "--title", "About this hub"], "content/pages/about.md"),
}


@pytest.mark.parametrize("kind", NEW)
def test_new_writes_a_commented_file_that_check_accepts(
    kind: str, make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv, rel = NEW[kind]
    site = make_site({})
    assert run("new", *argv, "--site", site) == 0
    assert capsys.readouterr().out == f"{site / rel}\n"
    text = (site / rel).read_text("utf-8")
    assert "\n# " in text  # commented: the optional fields are listed for the author
    assert run("check", "--site", site, "--strict", "--now", "2023-05-10") == 0
    assert capsys.readouterr().err == "0 errors, 0 warnings\n"


def test_a_new_drop_is_a_draft_until_the_author_says_otherwise(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site({})
    assert run("new", "drop", "may", "Hello", "--at", "2023-05-02", "--site", site) == 0
    path = site / "content/drops/may/2023-05-02-hello.md"
    assert 'title: "Hello"\npublish_at: 2023-05-02\ndraft: true' in path.read_text()
    assert run("build", "--site", site, "--out", tmp_path / "o", "--now", "2023-05-10") == 0
    assert not (tmp_path / "o/may/hello").exists()


@pytest.mark.parametrize("kind", NEW)
def test_new_never_replaces_a_file(
    kind: str, make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv, rel = NEW[kind]
    site = make_site({rel: "mine\n"})
    assert run("new", *argv, "--site", site) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"hubgen: error: {site / rel} already exists; hubgen new never replaces a file: "
        "edit it, or choose another name\n"
    )
    assert (site / rel).read_text() == "mine\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["drop", "june", "Hello", "--at", "2023-06-02"],
            "no campaign 'june' (campaigns/june.yaml): start it with hubgen new campaign "
            "june --starts DATE --ends DATE",
        ),
        (
            ["drop", "may", "Hello", "--at", "next week"],
            "--at: 'next week' is not a date or time; expected a date like 2023-05-01 or a "
            "date and time like 2023-05-01 09:00",
        ),
        (
            ["drop", "may", "???", "--at", "2023-05-02"],
            "cannot make a file name from the title '???': use some letters",
        ),
        (
            ["campaign", "June 2023", "--starts", "2023-06-01", "--ends", "2023-06-30"],
            "campaign: invalid slug 'June 2023': use lowercase letters, digits and single "
            "hyphens (like 'world-mental-health-day'); try 'june-2023'",
        ),
        (
            ["campaign", "june", "--starts", "2023-06-30", "--ends", "2023-06-01"],
            "--ends (2023-06-01) is before --starts (2023-06-30)",
        ),
        (
            ["organisation", "o", "--website", "www.example.org"],
            "--website: 'www.example.org' is not a URL; expected one starting with https://",
        ),
    ],
)
def test_new_explains_what_is_wrong_with_its_arguments(
    argv: list[str],
    message: str,
    make_site: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = make_site({})
    assert run("new", *argv, "--site", site) == 2
    assert capsys.readouterr().err == f"hubgen: error: {message}\n"
    assert sorted(p.name for p in site.rglob("*")) == ["campaigns", "may.yaml", "site.yaml"]


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Understanding anxiety", "understanding-anxiety"),
        ("Café & self-care: 5 tips!", "cafe-self-care-5-tips"),
        ("A " + "very " * 20 + "long title", "a" + "-very" * 11),  # at most 60 characters
    ],
)
def test_drop_file_names_come_from_the_title(title: str, slug: str) -> None:
    assert slug_from_title(title) == slug
