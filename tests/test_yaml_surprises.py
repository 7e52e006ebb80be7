"""YAML 1.1 surprises must not reach the site (SPEC, "Errors and bad input").

PyYAML would read `NO` as False, `18:00` as the number 1080 and `yes` as True,
and would turn an unquoted date into a `datetime` but leave a quoted one a
string. hubgen keeps what the author typed; these tests build tiny sites and
read the HTML.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hubgen.cli import main

NOW = "2023-05-10T12:00"
SITE = "title: Surprises\nbase_url: https://example.org/\n"
CAMPAIGN = "title: May\nstarts: 2023-05-01\nends: 2023-05-31\ntimezone: America/New_York\n"

ORGANISATION = """\
---
name: Kirkens SOS
website: https://www.kirkens-sos.no
summary: yes
regions: [NO]
helplines:
  - name: Evening line
    phone: 22 40 00 40
    hours: 18:00-23:00
    crisis: true
  - name: Late line
    phone: 22 40 00 41
    hours: 18:00
    crisis: true
---
A Norwegian helpline.
"""


def _site(root: Path, drop_front_matter: str, extra: dict[str, str] | None = None) -> Path:
    files = {
        "site.yaml": SITE,
        "campaigns/may.yaml": CAMPAIGN,
        "content/drops/may/hello.md": f"---\n{drop_front_matter}---\nHello.\n",
        **(extra or {}),
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root


def _build(site: Path, out: Path, now: str = NOW) -> Path:
    code = main(["build", "--site", str(site), "--out", str(out), "--now", now])
    assert code == 0
    return out


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def org_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    site = _site(
        tmp_path / "site",
        "title: Hello\npublish_at: 2023-05-02 09:00\n",
        {"content/organisations/kirkens-sos.md": ORGANISATION},
    )
    out = _build(site, tmp_path / "out")
    assert "Traceback" not in capsys.readouterr().err
    return (out / "organisations" / "kirkens-sos" / "index.html").read_text("utf-8")


def test_region_no_stays_no(org_page: str) -> None:
    assert "NO" in org_page
    assert "False" not in org_page


def test_hours_stay_text(org_page: str) -> None:
    assert "18:00-23:00" in org_page
    # The second line's hours: `18:00` alone, not the sexagesimal 1080.
    assert re.search(r"18:00(?!-23:00)", org_page)
    assert "1080" not in org_page


def test_yes_stays_text(org_page: str) -> None:
    assert '<meta name="description" content="yes">' in org_page
    assert "True" not in org_page


def test_help_page_shows_the_same_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = _site(
        tmp_path / "site",
        "title: Hello\npublish_at: 2023-05-02 09:00\n",
        {"content/organisations/kirkens-sos.md": ORGANISATION},
    )
    out = _build(site, tmp_path / "out")
    capsys.readouterr()
    html = (out / "help" / "index.html").read_text("utf-8")
    assert "18:00" in html
    assert "1080" not in html
    assert "False" not in html


@pytest.mark.parametrize(
    "form",
    [
        '"2023-05-02 09:00"',
        "'2023-05-02 09:00'",
        "2023-05-02T09:00",
        '"2023-05-02T09:00"',
        "2023-05-02 09:00:00",
    ],
)
def test_quoted_and_unquoted_publish_at_mean_the_same(
    form: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = _site(tmp_path / "plain", "title: Hello\npublish_at: 2023-05-02 09:00\n")
    other = _site(tmp_path / "other", f"title: Hello\npublish_at: {form}\n")
    for now, published in [("2023-05-02T08:59", False), (NOW, True)]:
        a = _build(plain, tmp_path / f"out-plain-{published}", now)
        b = _build(other, tmp_path / f"out-other-{published}", now)
        assert (a / "may" / "hello" / "index.html").exists() is published
        assert _tree(a) == _tree(b)
    assert "Traceback" not in capsys.readouterr().err


def test_quoted_and_unquoted_dates_mean_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = _site(tmp_path / "plain", "title: Hello\npublish_at: 2023-05-02\n")
    quoted = _site(tmp_path / "quoted", 'title: Hello\npublish_at: "2023-05-02"\n')
    midnight = _site(tmp_path / "midnight", "title: Hello\npublish_at: 2023-05-02 00:00\n")
    outs = [_build(s, tmp_path / f"out-{s.name}") for s in (plain, quoted, midnight)]
    assert _tree(outs[0]) == _tree(outs[1]) == _tree(outs[2])
    capsys.readouterr()
