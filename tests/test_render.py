"""render + theme: what every page carries, and themes overriding file by file."""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import FIXTURES, run
from jinja2 import Environment, FileSystemLoader

from hubgen.render import TemplateProblem, _template_line
from hubgen.urls import output_file


class Page(HTMLParser):
    """The parts of a page these tests look at."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self._in_title = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("render") / "out"
    assert run("build", "--site", FIXTURES / "site", "--out", out, "--now", "2023-05-10T12:00") == 0
    return out


def pages(out: Path) -> dict[str, Page]:
    return {p.relative_to(out).as_posix(): Page(p.read_text()) for p in sorted(out.rglob("*.html"))}


def test_every_page_has_the_head_readers_and_crawlers_need(built: Path) -> None:
    titles = set()
    for path, page in pages(built).items():
        assert page.find("html", lang="en"), path
        assert page.title and page.title not in titles, path
        titles.add(page.title)
        assert page.find("meta", name="description")[0]["content"], path
        assert page.find("meta", name="viewport"), path
        assert page.find("meta", property="og:title"), path
        canonical = page.find("link", rel="canonical")
        if path == "404.html":
            assert not canonical
        else:
            expected = "https://example.org/hub/" + path.removesuffix("index.html")
            assert canonical[0]["href"] == expected, path


def test_every_page_links_to_help_first_and_runs_no_script(built: Path) -> None:
    for path, page in pages(built).items():
        scripts = page.find("script")
        assert all(s == {"type": "application/ld+json"} for s in scripts), path
        links = [a.get("href") for t, a in page.tags if t == "a"]
        assert links[:3] == ["https://www.google.com/", "#main", "/hub/help/"], path


def test_every_local_link_is_under_the_base_path_and_exists(built: Path) -> None:
    for path, page in pages(built).items():
        for tag, attrs in page.tags:
            for name in ("href", "src"):
                url = attrs.get(name) if tag in ("a", "img", "link") else None
                if not url or not url.startswith("/"):
                    continue
                assert url.startswith("/hub/"), f"{path}: {url}"
                target = built / url.removeprefix("/hub/").split("#")[0]
                assert target.is_file() or (target / "index.html").is_file(), f"{path}: {url}"


def test_theme_assets_are_fingerprinted(built: Path) -> None:
    names = [p.name for p in (built / "assets").iterdir()]
    assert all(re.fullmatch(r"[a-z-]+\.[0-9a-f]{10}\.[a-z]+", n) for n in names), names


def test_helplines_are_tap_to_call_and_text(built: Path) -> None:
    page = pages(built)["help/index.html"]
    hrefs = {a.get("href") for t, a in page.tags if t == "a"}
    assert {"tel:5550100", "sms:5550100", "sms:55500?body=HOME", "tel:15550100200"} <= hrefs
    assert "tel:5550199" not in hrefs  # past its `until`


def test_ended_campaign_says_so_and_keeps_its_partners(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site(
        {
            "campaigns/may.yaml": "title: May\nstarts: 2023-05-01\nends: 2023-05-31\n"
            "organisations: [o]\n",
            "content/organisations/o.md": "---\nname: Partner Org\nwebsite: https://o.example\n---\n",
        }
    )
    assert run("build", "--site", site, "--out", tmp_path / "o", "--now", "2024-01-01") == 0
    hub = (tmp_path / "o/may/index.html").read_text()
    assert "This campaign has ended." in hub and "Partner Org" in hub


def test_a_site_theme_overrides_only_the_templates_it_has(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site(
        {
            "themes/default/templates/404.html": '{% extends "base.html" %}'
            "{% block content %}<h1>Lost?</h1>{% endblock %}",
            "campaigns/may.yaml": "title: May\nstarts: 2023-05-01\nends: 2023-05-31\n"
            "theme: bright\n",
            "themes/bright/templates/campaign.html": '{% extends "base.html" %}'
            "{% block content %}<h1>Bright {{ campaign.card.title }}</h1>{% endblock %}",
            "themes/bright/static/style.css": "body { color: red; }\n",
        }
    )
    out = tmp_path / "o"
    assert run("build", "--site", site, "--out", out) == 0
    assert "<h1>Lost?</h1>" in (out / "404.html").read_text()
    hub = (out / "may/index.html").read_text()
    assert "<h1>Bright May</h1>" in hub and "Get help now" in hub  # base.html from default
    bright_css = re.search(r'href="/(assets/style\.[0-9a-f]+\.css)"', hub)
    assert bright_css and (out / bright_css.group(1)).read_text() == "body { color: red; }\n"
    home_css = re.search(
        r'href="/(assets/style\.[0-9a-f]+\.css)"', (out / "index.html").read_text()
    )
    assert home_css and home_css.group(1) != bright_css.group(1)


def test_unknown_theme_is_an_error(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(
        {"campaigns/may.yaml": "title: May\nstarts: 2023-05-01\nends: 2023-05-31\ntheme: nope\n"}
    )
    assert run("check", "--site", site) == 1
    assert "campaigns/may.yaml:1:1: error: unknown theme 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (
            "{% block content %}{% if %}{% endblock %}",
            "themes/default/templates/404.html:1:1: error: template syntax: "
            "Expected an expression, got 'end of statement block'",
        ),
        (
            "<p>\n{{ no_such_thing.x }}</p>",
            "themes/default/templates/404.html:2:1: error: template failed: "
            "'no_such_thing' is undefined",
        ),
        (
            "<p>\n\n{{ 'Day ' + 1 }}</p>",
            "themes/default/templates/404.html:3:1: error: template failed: "
            'TypeError: can only concatenate str (not "int") to str',
        ),
        (
            "{% block content %}\n{{ 1 // (site.nav|length * 0) }}{% endblock %}",
            "themes/default/templates/404.html:2:1: error: template failed: "
            "ZeroDivisionError: integer division or modulo by zero",
        ),
    ],
)
def test_a_broken_template_is_a_diagnostic_not_a_traceback(
    make_site: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    template: str,
    expected: str,
) -> None:
    site = make_site({"themes/default/templates/404.html": template})
    assert run("build", "--site", site, "--out", tmp_path / "o") == 1
    assert capsys.readouterr().err == expected + "\n1 error, 0 warnings\n"
    assert not (tmp_path / "o").exists()


def test_an_error_no_template_line_raised_is_not_called_the_templates(tmp_path: Path) -> None:
    try:
        raise RuntimeError("a bug of hubgen's own")
    except RuntimeError as exc:
        assert TemplateProblem.raised_by_template(exc, "drop.html") is None
    # Raised in hubgen's own code that a template line called: hubgen's too.
    (tmp_path / "x.html").write_text("<p>\n{{ output_file(3) }}</p>")
    env = Environment(loader=FileSystemLoader(tmp_path))
    env.globals["output_file"] = output_file
    try:
        env.get_template("x.html").render()
    except AttributeError as exc:
        assert TemplateProblem.raised_by_template(exc, "x.html") is None
        assert _template_line(traceback.extract_tb(exc.__traceback__)) is not None
    else:
        pytest.fail("output_file(3) raised nothing")


def test_help_block_without_any_crisis_line_is_an_error(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(
        {
            "site.yaml": "title: T\nbase_url: https://e.org/\nhelp:\n  organisations: [warm]\n",
            "content/organisations/warm.md": "---\nname: Warm\nwebsite: https://w.example\n"
            "helplines:\n  - name: Warm line\n    phone: '555 0100'\n---\n",
        }
    )
    assert run("check", "--site", site) == 1
    assert capsys.readouterr().err == (
        "site.yaml:4:19: error: the help block would show no crisis line: add an organisation "
        "with a helpline marked crisis: true to help.organisations\n1 error, 0 warnings\n"
    )


def test_yaml_links_to_unpublished_pages_are_text(built: Path) -> None:
    hub = (built / "spring-2023/index.html").read_text()
    assert "<li>The next drop, once it is out</li>" in hub


def test_static_files_keep_hidden_folders(built: Path) -> None:
    assert (built / ".well-known/security.txt").is_file()
