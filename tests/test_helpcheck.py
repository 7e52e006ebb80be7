"""Helplines a reader can trust: a crisis line in the help block, fresh details, the
right regions, well-formed numbers, and lines that stop when they stop."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import read_tree, run

SITE = "title: T\nbase_url: https://e.org/\nhelp:\n  organisations: [lines]\n"


def _org(helplines: str, regions: str = "[US, GB]") -> str:
    return (
        f"---\nname: Lines\nwebsite: https://lines.example\nregions: {regions}\n"
        f"helplines:\n{helplines}---\nAbout us.\n"
    )


CRISIS = "  - name: Crisis line\n    phone: '988'\n    crisis: true\n"
WARM = "  - name: Warm line\n    phone: '555 0100'\n"


def test_a_help_block_whose_crisis_lines_have_ended_is_an_error(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ending = CRISIS + "    until: 2023-06-01\n"
    site = make_site({"site.yaml": SITE, "content/organisations/lines.md": _org(ending + WARM)})
    assert run("check", "--site", site, "--now", "2023-05-31T12:00") == 0
    capsys.readouterr()
    assert run("check", "--site", site, "--now", "2023-06-01T00:00") == 1
    assert capsys.readouterr().err == (
        "site.yaml:4:19: error: the help block shows no crisis line at 2023-06-01 00:00 UTC: "
        "every crisis line of help.organisations has passed its 'until'; add an organisation "
        "with a current helpline marked crisis: true\n1 error, 0 warnings\n"
    )


def test_a_help_block_that_can_never_show_a_crisis_line_is_an_error(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({"site.yaml": SITE, "content/organisations/lines.md": _org(WARM)})
    assert run("check", "--site", site, "--now", "2023-05-10") == 1
    assert capsys.readouterr().err == (
        "site.yaml:4:19: error: the help block would show no crisis line: add an organisation "
        "with a helpline marked crisis: true to help.organisations\n1 error, 0 warnings\n"
    )


@pytest.mark.parametrize(("now", "warned"), [("2023-06-29", False), ("2023-06-30", True)])
def test_a_line_not_verified_for_longer_than_the_maximum_age_is_a_warning(
    now: str, warned: bool, make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    verified = CRISIS + "    last_verified: 2023-01-01\n"
    site = make_site(
        {
            "site.yaml": SITE + "helpline_max_age_days: 179\n",
            "content/organisations/lines.md": _org(verified),
        }
    )
    assert run("check", "--site", site, "--now", now) == 0
    expected = (
        "content/organisations/lines.md:9:20: warning[SM050]: helpline 'Crisis line' was last "
        "verified on 2023-01-01, 180 days before 2023-06-30 (helpline_max_age_days: 179): "
        "check its details with the organisation and update last_verified\n"
        "0 errors, 1 warning\n"
    )
    assert capsys.readouterr().err == (expected if warned else "0 errors, 0 warnings\n")


def test_the_default_maximum_age_is_180_days_and_ended_lines_are_not_checked(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old = "    last_verified: 2022-01-01\n"
    ended = "  - name: Old line\n    phone: '555 0199'\n    until: 2023-01-01\n" + old
    site = make_site(
        {"site.yaml": SITE, "content/organisations/lines.md": _org(CRISIS + old + ended)}
    )
    assert run("check", "--site", site, "--now", "2022-06-30") == 0
    assert capsys.readouterr().err == "0 errors, 0 warnings\n"
    assert run("check", "--site", site, "--now", "2023-06-30") == 0
    err = capsys.readouterr().err
    assert "warning[SM050]: helpline 'Crisis line' was last verified on 2022-01-01" in err
    assert "Old line" not in err


def test_helpline_regions_must_be_regions_of_the_organisation(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    lines = CRISIS + "    regions: [US, IE]\n"
    site = make_site(
        {
            "site.yaml": SITE,
            "content/organisations/lines.md": _org(lines),
            "content/organisations/global.md": "---\nname: Global\nwebsite: https://g.example\n"
            "helplines:\n  - name: G\n    url: https://g.example/help\n    regions: [NO]\n---\n",
        }
    )
    assert run("check", "--site", site, "--now", "2023-05-10") == 1
    assert capsys.readouterr().err == (
        "content/organisations/global.md:7:15: error[SM051]: helpline 'G' serves region NO, "
        "but 'Global' lists no regions: add regions: [NO] to the organisation\n"
        "content/organisations/lines.md:9:19: error[SM051]: helpline 'Crisis line' serves "
        "region IE, which is not one of the regions of 'Lines' (US, GB): add IE to the "
        "organisation's regions or remove it here\n"
        "2 errors, 0 warnings\n"
    )


@pytest.mark.parametrize(
    ("number", "message"),
    [
        (
            "'+1 800 950 6264 1234 5678'",
            "invalid number '+1 800 950 6264 1234 5678': 19 digits, but a phone number has "
            "at most 15",
        ),
        (
            "'+988'",
            "invalid number '+988': a number with + needs its country code and at least 7 "
            "digits; write a short code without +, like 988",
        ),
        (
            "'12'",
            "invalid number '12': write digits, spaces and hyphens, like 1-800-950-6264",
        ),
    ],
)
def test_numbers_are_checked_for_shape(
    number: str, message: str, make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    line = f"  - name: L\n    sms: {number}\n    crisis: true\n"
    site = make_site({"content/organisations/lines.md": _org(line)})
    assert run("check", "--site", site, "--now", "2023-05-10") == 1
    assert capsys.readouterr().err == (
        f"content/organisations/lines.md:7:10: error: {message}\n1 error, 0 warnings\n"
    )


@pytest.mark.parametrize("number", ["988", "741741", "116 123", "+44 116 123", "(555) 010-0200"])
def test_short_codes_and_full_numbers_are_accepted(
    number: str, make_site: Callable[..., Path]
) -> None:
    line = f"  - name: L\n    phone: '{number}'\n    sms: '{number}'\n    crisis: true\n"
    site = make_site({"content/organisations/lines.md": _org(line)})
    assert run("check", "--site", site, "--now", "2023-05-10", "--strict") == 0


def test_a_line_past_its_until_disappears_from_every_page(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    ending = (
        "  - name: Ending line\n    phone: '555 0177'\n    crisis: true\n    until: 2023-06-01\n"
    )
    site = make_site({"site.yaml": SITE, "content/organisations/lines.md": _org(CRISIS + ending)})
    for now, out in (("2023-05-31T23:59", "before"), ("2023-06-01T00:00", "after")):
        assert run("build", "--site", site, "--out", tmp_path / out, "--now", now) == 0
    before = b"".join(read_tree(tmp_path / "before").values())
    assert b"Ending line" in before and b"tel:5550177" in before
    for path, data in read_tree(tmp_path / "after").items():
        assert b"Ending line" not in data and b"5550177" not in data, path
        assert b"555 0177" not in data, path
