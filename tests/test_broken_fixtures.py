"""Broken sites: one planted problem each, and the exact diagnostics hubgen must print.

Every folder under tests/broken/ is a tiny but complete site (site.yaml, one
campaign, a drop) that is valid except for the problem its name describes.
Its expected.txt is the exact stderr of

    hubgen check --site tests/broken/<case> --now 2023-05-10T12:00

(hubgen ignores unknown top-level files such as expected.txt). `build` must
fail the same way and write nothing.

Cases whose expected.txt records the output hubgen *should* print, but does
not yet, are marked xfail(strict=True) below with the reason; when hubgen is
fixed they start passing and the mark must go.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from hubgen.cli import main

BROKEN = Path(__file__).parent / "broken"
NOW = "2023-05-10T12:00"

# Each case and the number of errors planted in it (no warnings anywhere).
PLANTED = {
    "broken-internal-link": 1,
    "broken-link-in-block-intro": 1,
    "broken-link-in-folded-intro": 1,
    "broken-link-in-inline-intro": 1,
    "broken-link-url-as-text": 1,
    "drop-file-outside-campaign-folder": 1,
    "duplicate-campaign-slug": 1,
    "duplicate-drop-slug": 1,
    "duplicate-key": 1,
    "empty-file": 1,
    "ends-before-starts": 1,
    "event-without-details": 1,
    "front-matter-yaml-syntax": 1,
    "hashtag-comment": 1,
    "image-without-alt": 1,
    # Two files, two problems: the broken campaign must not hide its drop's error.
    "invalid-campaign-hides-drop-errors": 2,
    "invalid-date": 1,
    "invalid-slug-field": 1,
    "invalid-slug-file-name": 1,
    "markdown-image-without-alt": 1,
    "missing-field": 1,
    "missing-front-matter": 1,
    "missing-media": 1,
    "mistyped-bool": 1,
    "mistyped-list": 1,
    "non-utf8": 1,
    "orphan-drops-folder": 1,
    "page-named-creators": 1,
    "site-missing-title": 1,
    "spring-forward-gap": 1,
    "unclosed-front-matter": 1,
    "unknown-creator": 1,
    # One typo, two consequences: the unknown key and the required field it was meant to be.
    "unknown-key-replacing-required": 2,
    "unknown-key": 1,
    "unknown-organisation": 1,
    "unknown-timezone": 1,
    "url-scheme": 1,
    "yaml-syntax": 1,
    "yaml-syntax-unclosed-bracket": 1,
}

# Known hubgen bugs: expected.txt holds the output hubgen should print. Empty
# now; add a case here with its reason when a new bug is found and not yet fixed.
XFAIL_CHECK: dict[str, str] = {}
XFAIL_BUILD: dict[str, str] = {}

# PyYAML's error texts differ between its libyaml and pure-Python parsers.
NEEDS_LIBYAML = {"yaml-syntax", "front-matter-yaml-syntax", "yaml-syntax-unclosed-bracket"}

DIAGNOSTIC = re.compile(r"[^:\s][^:]*:\d+:\d+: error: \S.*")


def _cases(xfail: dict[str, str]) -> list:
    params = []
    for name in sorted(PLANTED):
        marks = []
        if name in xfail:
            marks.append(pytest.mark.xfail(reason=xfail[name], strict=True))
        if name in NEEDS_LIBYAML:
            marks.append(
                pytest.mark.skipif(
                    not yaml.__with_libyaml__, reason="expected.txt has libyaml's wording"
                )
            )
        params.append(pytest.param(BROKEN / name, id=name, marks=marks))
    return params


def _expected(case: Path) -> str:
    return (case / "expected.txt").read_text("utf-8")


def test_every_case_folder_is_listed() -> None:
    folders = {p.name for p in BROKEN.iterdir() if p.is_dir()}
    assert folders == set(PLANTED)


@pytest.mark.parametrize("case", _cases(XFAIL_CHECK))
def test_check_reports_exactly_the_planted_problems(
    case: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", "--site", str(case), "--now", NOW])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert out == ""
    assert err == _expected(case)
    assert code == 1


@pytest.mark.parametrize("case", _cases(XFAIL_BUILD))
def test_build_fails_the_same_way_and_writes_nothing(
    case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out"
    code = main(["build", "--site", str(case), "--out", str(out_dir), "--now", NOW])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert not out_dir.exists()
    assert list(tmp_path.iterdir()) == []  # no staging folder left behind either
    assert not (case / "public").exists()
    assert err == _expected(case)
    assert code == 1


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_expected_output_has_the_planted_number_of_errors(name: str) -> None:
    lines = _expected(BROKEN / name).splitlines()
    n = PLANTED[name]
    assert lines[-1] == f"{n} {'error' if n == 1 else 'errors'}, 0 warnings"
    diagnostics = lines[:-1]
    assert len(diagnostics) == n
    for line in diagnostics:
        assert DIAGNOSTIC.fullmatch(line), line
    assert _expected(BROKEN / name).endswith("\n")


def test_unknown_top_level_file_is_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """expected.txt sits in each fixture; hubgen must not count it as a problem."""
    (tmp_path / "site.yaml").write_text("title: Fine\nbase_url: https://example.org/\n")
    (tmp_path / "campaigns").mkdir()
    (tmp_path / "campaigns" / "may.yaml").write_text(
        "title: May\nstarts: 2023-05-01\nends: 2023-05-31\n"
    )
    drops = tmp_path / "content" / "drops" / "may"
    drops.mkdir(parents=True)
    (drops / "hello.md").write_text("---\ntitle: Hello\npublish_at: 2023-05-02 09:00\n---\nHi.\n")
    (tmp_path / "expected.txt").write_text("whatever\n")
    assert main(["check", "--site", str(tmp_path), "--now", NOW]) == 0
    assert capsys.readouterr().err == "0 errors, 0 warnings\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["build", "--bogus"],
        ["check", "--now", "not-a-time"],
        [],
    ],
    ids=["unknown-option", "bad-now", "no-command"],
)
def test_bad_command_line_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err
    assert "Traceback" not in out + err
