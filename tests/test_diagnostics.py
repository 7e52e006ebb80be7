"""Diagnostics for machines: the JSON schema and GitHub Actions annotations, exactly."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run

from hubgen.diagnostics import Diagnostic, Span, format_github, format_json, format_text

PAGE = "---\ntitel: P\n---\nIt was a crazy week.\n"


def test_json_has_a_stable_schema(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({"content/pages/p.md": PAGE})
    assert run("check", "--site", site, "--now", "2023-05-10", "--format", "json") == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert json.loads(out) == {
        "diagnostics": [
            {
                "file": "content/pages/p.md",
                "line": 2,
                "column": 1,
                "severity": "error",
                "rule": "missing-field",
                "message": "missing required field 'title' in a page",
            },
            {
                "file": "content/pages/p.md",
                "line": 2,
                "column": 1,
                "severity": "error",
                "rule": "unknown-key",
                "message": "unknown key 'titel' in a page — did you mean 'title'?",
            },
        ],
        "errors": 2,
        "warnings": 0,
    }


def test_json_carries_rule_ids_and_warnings(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({"content/pages/p.md": PAGE.replace("titel", "title")})
    assert run("check", "--site", site, "--now", "2023-05-10", "--format", "json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(d["rule"], d["severity"], d["line"], d["column"]) for d in doc["diagnostics"]] == [
        ("SM013", "warning", 4, 10)
    ]
    assert (doc["errors"], doc["warnings"]) == (0, 1)


def test_github_annotations_name_the_file_from_the_repository_root(
    make_site: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_site({"content/pages/p.md": PAGE.replace("titel", "title")})
    monkeypatch.chdir(tmp_path)  # the repository, holding the site in site/
    assert run("check", "--site", "site", "--now", "2023-05-10", "--format", "github") == 0
    assert capsys.readouterr().out == (
        "::warning file=site/content/pages/p.md,line=4,col=10,title=hubgen SM013::"
        '"crazy" — use a precise word, such as "surprising", "overwhelming" or "unfair" '
        "(illness words used as insults make people less likely to talk about their own "
        "mental health)\n0 errors, 1 warning\n"
    )


def test_github_properties_and_messages_are_escaped() -> None:
    d = Diagnostic(Span("a,b:c.md", 2, 3), "error", "x", "50% done\nnext line")
    assert format_github([d], root="") == (
        "::error file=a%2Cb%3Ac.md,line=2,col=3,title=hubgen x::50%25 done%0Anext line\n"
        "1 error, 0 warnings\n"
    )


def test_text_names_rule_ids_and_keeps_other_lines_as_they_were() -> None:
    items = [
        Diagnostic(Span("a.md", 1, 2), "warning", "SM001", "m"),
        Diagnostic(Span("a.md", 3, 1), "error", "unknown-key", "n"),
    ]
    assert format_text(items) == (
        "a.md:1:2: warning[SM001]: m\na.md:3:1: error: n\n1 error, 1 warning\n"
    )
    assert json.loads(format_json(items))["diagnostics"][0]["rule"] == "SM001"
