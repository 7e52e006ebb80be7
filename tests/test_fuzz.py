"""Fuzzing: random front matter and Markdown end in a build or in diagnostics, never a crash.

Hypothesis writes a small valid site, then replaces one file with generated
content: front matter built from known and random keys with values of every
YAML type (text in any script, huge numbers, dates, nesting, shared values that
YAML writes as anchors and aliases), raw YAML-like text, or Markdown made of
the characters Markdown cares about. `hubgen build` must then exit 0 with the
site written, or exit 1 with nothing but `path:line:col: severity: message`
lines and the count line. Any exception fails the test, with the example that
raised it.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from conftest import write_site
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubgen import fieldtypes as ft
from hubgen.cli import main
from hubgen.schema import CAMPAIGN, CREATOR, DROP, ORGANISATION, PAGE, SITE

NOW = "2023-05-10T12:00"
# A rule's warning names its code: "warning[SM050]: ..."
DIAGNOSTIC = re.compile(r"[^:]+:\d+:\d+: (error|warning)(\[[A-Z]+\d+\])?: .+")
COUNT = re.compile(r"\d+ errors?, \d+ warnings?")
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),  # reproducible in CI; exploring elsewhere
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

BASE = {
    "site.yaml": "title: Fuzz\nbase_url: https://example.org/\n",
    "campaigns/may.yaml": "title: May\nstarts: 2023-05-01\nends: 2023-05-31\n",
    "content/media/x.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>\n",
    "content/pages/about.md": "---\ntitle: About\n---\nAbout us.\n",
    "content/creators/ada.md": "---\nname: Ada\n---\nHi.\n",
    "content/organisations/org.md": "---\nname: Org\nwebsite: https://example.com/\n---\n",
}
# Each kind of file: where it goes, its schema, and a valid start to mutate.
KINDS: dict[str, tuple[str, Any, dict[str, Any]]] = {
    "drop": ("content/drops/may/fuzz.md", DROP, {"title": "T", "publish_at": "2023-05-02"}),
    "page": ("content/pages/fuzz.md", PAGE, {"title": "T"}),
    "creator": ("content/creators/fuzz.md", CREATOR, {"name": "N"}),
    "organisation": (
        "content/organisations/fuzz.md",
        ORGANISATION,
        {"name": "N", "website": "https://example.com/"},
    ),
    "campaign": (
        "campaigns/fuzz.yaml",
        CAMPAIGN,
        {"title": "T", "starts": "2023-05-01", "ends": "2023-05-31"},
    ),
    "site": ("site.yaml", SITE, {"title": "T", "base_url": "https://example.org/"}),
}
KNOWN_KEYS = sorted(
    {name for _, record, _ in KINDS.values() for name in record.fields}
    | {"src", "alt", "url", "starts", "ends", "location", "keyword", "number", "phone", "rule"}
)
TRICKY = [
    "NO", "yes", "off", "18:00", "2023-05-02 09:00", "2023-03-12 02:30", "2023-05-02T09:00+14:00",
    "/media/x.svg", "/media/../x", "/about/", "/nowhere/", "https://example.com/", "mailto:a@b.c",
    "javascript:alert(1)", "data:,x", "#tag", "anxiety", "event", "video", "988", "741741", "US",
    "en-GB", "America/New_York", "Not/AZone", "~", "", " ", "<script>alert(1)</script>", "..",
    "ada", "org", "may", "fuzz", "default",
]  # fmt: skip

scalars = st.one_of(
    st.text(max_size=20),
    st.sampled_from(TRICKY),
    st.integers(),
    st.integers(min_value=10**18, max_value=10**40),
    st.floats(),
    st.booleans(),
    st.none(),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(min_size=1, max_size=12))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)
MARKDOWN_BITS = [
    "#", "*", "_", "`", "```", "~~~", "\n", "\n\n", "    ", "\t", "> ", "- ", "1. ", "[", "]",
    "(", ")", "![", "](", "/media/x.svg", "/about/", "/help/", "/missing/", "https://example.com/",
    "javascript:", "<b>", "</b>", "<script>", "<!--", "-->", "&amp;", "&#106;", "|", "| --- |",
    "<", ">", "\\", "\"", "'", "<https://example.com/>", "<a@example.com>", "[x]: /about/\n",
    "---", "===", " ", "é", "\u200b", "\ufeff",
]  # fmt: skip
markdown = st.lists(st.one_of(st.sampled_from(MARKDOWN_BITS), st.text(max_size=5)), max_size=40)
YAML_BITS = [
    ":", ": ", "- ", "  ", "\t", "[", "]", "{", "}", ",", "&a ", "*a", "!!str ", "!x ", "|",
    ">", "'", '"', "#", "\n", "title", "publish_at", "2023-05-02", "? ", "%YAML 1.1\n", "\\",
    "é", "\x00", "\x85", "\ufeff", "---\n", "...\n", "<<: ",
]  # fmt: skip
raw_yaml = st.lists(st.one_of(st.sampled_from(YAML_BITS), st.text(max_size=5)), max_size=40)


def shaped(t: ft.Type, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of the shape a field type expects, mostly valid, sometimes just off."""
    if isinstance(t, ft.Record):
        if depth > 2:
            return st.none()
        required = {k: shaped(f.type, depth + 1) for k, f in t.fields.items() if f.required}
        optional = {k: shaped(f.type, depth + 1) for k, f in t.fields.items() if not f.required}
        return st.fixed_dictionaries(required, optional=optional)
    if isinstance(t, ft.ListOf):
        return st.lists(shaped(t.item, depth + 1), max_size=3)
    by_type: list[tuple[type, st.SearchStrategy[Any]]] = [
        (ft.Markdown, markdown.map("".join)),
        (ft.Text, st.text(min_size=1, max_size=30)),
        (ft.Bool, st.booleans()),
        (ft.Int, st.integers(min_value=-5) | st.integers(min_value=10**18, max_value=10**40)),
        (ft.SlugRef, st.sampled_from(["ada", "org", "nobody"])),
        (ft.Slug, st.from_regex(ft.SLUG, fullmatch=True).filter(lambda x: len(x) < 30)),
        (ft.Choice, st.sampled_from([*getattr(t, "options", ()), "bogus"])),
        (ft.Day, st.dates(min_value=date(1850, 1, 1), max_value=date(3100, 1, 1))),
        (ft.Moment, moments),
        (ft.Url, st.sampled_from(URLS)),
        (ft.MediaPath, st.sampled_from(["/media/x.svg", "/media/x.svg", "/media/missing.svg"])),
        (ft.Timezone, st.sampled_from(["UTC", "America/New_York", "Pacific/Kiritimati", "No/ne"])),
        (ft.Pattern, st.sampled_from(["US", "GB", "NO", "en", "es-MX", "988", "741741", "x"])),
    ]
    return next((strategy for cls, strategy in by_type if isinstance(t, cls)), scalars)


moments = st.one_of(
    st.dates(min_value=date(1890, 1, 1), max_value=date(3100, 1, 1)),
    st.datetimes(min_value=datetime(1890, 1, 1), max_value=datetime(3100, 1, 1)),
    st.datetimes(
        min_value=datetime(1890, 1, 1), max_value=datetime(3100, 1, 1), timezones=st.timezones()
    ),
    st.sampled_from(["2023-05-02 09:00", "2023-03-12 02:30", "2023-11-05 01:30", "2023-05-02"]),
)
URLS = [
    "https://example.com/", "https://example.org/x", "http://example.com/a?b=c#d", "/about/",
    "/help/", "/media/x.svg", "/nowhere/", "mailto:a@example.com", "tel:988", "sms:741741",
    "javascript:alert(1)", "//evil.example/", "example.com",
]  # fmt: skip


def build(files: dict[str, str | bytes]) -> tuple[int, str, bool]:
    """Build BASE with `files` laid over it: exit code, stderr, whether the output exists."""
    with tempfile.TemporaryDirectory() as tmp:
        site = write_site(Path(tmp) / "site", BASE)
        for rel, content in files.items():
            path = site / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                path.write_text(content, "utf-8", errors="surrogatepass")
            else:
                path.write_bytes(content)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(
                ["build", "--site", str(site), "--out", str(Path(tmp) / "out"), "--now", NOW]
            )
        return code, err.getvalue(), (Path(tmp) / "out/index.html").is_file()


def assert_clean_outcome(code: int, err: str, built: bool) -> None:
    lines = err.splitlines()
    if code == 0:
        assert built
        assert not lines or COUNT.fullmatch(lines[-1]), err
    else:
        assert code == 1, err
        assert not built
        assert lines and COUNT.fullmatch(lines[-1]), err
    for line in lines[:-1]:
        assert DIAGNOSTIC.fullmatch(line), line


def as_file(kind: str, fields: dict[str, Any], body: str = "Body.\n") -> dict[str, str]:
    path, _, _ = KINDS[kind]
    text = yaml.safe_dump(fields, allow_unicode=True, sort_keys=False)
    return {path: text if path.endswith(".yaml") else f"---\n{text}---\n{body}"}


@FUZZ
@given(kind=st.sampled_from(sorted(KINDS)), data=st.data())
def test_random_front_matter_builds_or_reports(kind: str, data: st.DataObject) -> None:
    """Random keys mostly meet 'unknown key'; the kind's own keys get deeper, to rendering."""
    own = sorted(KINDS[kind][1].fields)
    field_keys = data.draw(st.sampled_from([keys, st.sampled_from(own)]))
    fuzzed = data.draw(st.dictionaries(field_keys, values, max_size=6))
    fields = {**KINDS[kind][2], **fuzzed}
    nested = [k for k, v in fields.items() if isinstance(v, (list, dict))]
    if nested and data.draw(st.booleans()):  # the same object twice: an anchor and an alias
        fields[data.draw(st.sampled_from(own))] = fields[nested[0]]
    assert_clean_outcome(*build(as_file(kind, fields)))


@FUZZ
@given(kind=st.sampled_from(sorted(KINDS)), data=st.data())
def test_schema_shaped_front_matter_builds_or_reports(kind: str, data: st.DataObject) -> None:
    """Values of the expected shapes get past validation, so rendering is fuzzed too."""
    record = KINDS[kind][1]
    fields = data.draw(shaped(record))
    if kind == "drop" and fields.get("kind") == "bogus":
        fields["kind"] = "event"
    assert_clean_outcome(*build(as_file(kind, fields, data.draw(markdown.map("".join)))))


@FUZZ
@given(kind=st.sampled_from(sorted(KINDS)), text=raw_yaml)
def test_random_yaml_text_builds_or_reports(kind: str, text: list[str]) -> None:
    path = KINDS[kind][0]
    yaml_text = "".join(text)
    content = yaml_text if path.endswith(".yaml") else f"---\n{yaml_text}\n---\nBody.\n"
    assert_clean_outcome(*build({path: content}))


@FUZZ
@given(kind=st.sampled_from(["drop", "page", "creator", "organisation"]), body=markdown)
def test_random_markdown_builds_or_reports(kind: str, body: list[str]) -> None:
    fields = dict(KINDS[kind][2])
    assert_clean_outcome(*build(as_file(kind, fields, "".join(body))))


@FUZZ
@given(data=st.binary(max_size=200))
def test_random_bytes_build_or_report(data: bytes) -> None:
    assert_clean_outcome(*build({"content/pages/fuzz.md": b"---\ntitle: T\n---\n" + data}))
    assert_clean_outcome(*build({"campaigns/fuzz.yaml": data}))
