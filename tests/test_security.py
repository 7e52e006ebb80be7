"""Content safety: what a browser gets from hostile text, read with a real HTML parser.

A site puts script payloads into every field that reaches a page; every built
page is parsed with lxml and must hold no script element, no event-handler
attribute and no link or source with a script-capable scheme, while the
payloads still show as text. The same pages, and the example and fixture
sites, must satisfy the Content-Security-Policy of the `_headers` file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest
from conftest import FIXTURES, REPO, run, write_site

from hubgen.headers import CONTENT_SECURITY_POLICY

NOW = "2023-05-10T12:00"
PAYLOAD = (
    '<script>alert(1)</script><img src=x onerror=alert(1)>" onmouseover="alert(1)'
    "' onfocus='alert(2)"
)
P = json.dumps(PAYLOAD)  # a YAML double-quoted string
BODY = (
    f"{PAYLOAD}\n\n<svg onload=alert(1)>\n\n"
    '[quoted](https://example.com/"onmouseover="alert(1)) '
    '[fine](https://example.com/a?b="c") ![an image](/media/x.svg "a \\" title")\n'
)
# Attributes that take a URL a browser may load or run.
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "poster", "data", "srcset", "xlink:href")
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")


def md(front: str, body: str = BODY) -> str:
    return f"---\n{front}---\n{body}"


XSS_SITE = {
    "site.yaml": f"""
        title: {P}
        base_url: https://example.org/hub/
        description: {P}
        headers: true
        help:
          title: {P}
          organisations: [org]
        nav:
          - title: {P}
            url: https://example.com/"onmouseover="alert(1)
          - title: {P}
            url: /about/
        """,
    "campaigns/may.yaml": f"""
        title: {P}
        starts: 2023-05-01
        ends: 2023-05-31
        hashtag: {P}
        summary: {P}
        intro: |
          {PAYLOAD}

          <b>bold</b> [a link](https://example.com/x)
        hero:
          src: /media/x.svg
          alt: {P}
        creators: [ada]
        organisations: [org]
        topics: [anxiety]
        links:
          - title: {P}
            url: https://example.com/
            description: {P}
        """,
    "content/drops/may/event.md": md(
        f"""title: {P}
publish_at: 2023-05-02 09:00
summary: {P}
kind: event
content_warning: {P}
creators: [ada]
organisations: [org]
topics: [anxiety]
image:
  src: /media/x.svg
  alt: {P}
links:
  - title: {P}
    url: https://example.com/'onmouseover='alert(1)
    description: {P}
event:
  starts: 2023-05-11 19:00
  ends: 2023-05-11 20:00
  location: {P}
  url: https://example.com/live?a="b"
"""
    ),
    "content/creators/ada.md": md(
        f"""name: {P}
handle: {P}
pronouns: {P}
avatar:
  src: /media/x.svg
  alt: {P}
links:
  - title: {P}
    url: https://example.com/ada
    description: {P}
topics: [anxiety]
"""
    ),
    "content/organisations/org.md": md(
        f"""name: {P}
website: https://example.com/org
summary: {P}
logo:
  src: /media/x.svg
  alt: {P}
regions: [US]
helplines:
  - name: {P}
    phone: 988
    text:
      keyword: {P}
      number: 741741
    chat: https://example.com/chat
    hours: {P}
    crisis: true
"""
    ),
    "content/pages/about.md": md(
        f"""title: {P}
summary: {P}
content_warning: {P}
nav: true
"""
    ),
    "content/media/x.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>\n",
}


@pytest.fixture(scope="module")
def xss_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("xss")
    site = write_site(root / "site", XSS_SITE)
    assert run("build", "--site", site, "--out", root / "out", "--now", NOW) == 0
    return root / "out"


@pytest.fixture(scope="module")
def sites_out(tmp_path_factory: pytest.TempPathFactory, xss_out: Path) -> list[Path]:
    """The XSS site, the fixture site and the repository's example site, with headers on."""
    root = tmp_path_factory.mktemp("csp")
    outs = [xss_out]
    for name, site in [("fixture", FIXTURES / "site"), ("example", REPO)]:
        copy = root / name
        write_site(copy, {})
        for path in site.rglob("*"):
            rel = path.relative_to(site)
            if path.is_file() and rel.parts[0] in ("site.yaml", "campaigns", "content", "themes"):
                (copy / rel).parent.mkdir(parents=True, exist_ok=True)
                (copy / rel).write_bytes(path.read_bytes())
        (copy / "site.yaml").write_text((copy / "site.yaml").read_text() + "\nheaders: true\n")
        out = root / f"{name}-out"
        assert run("build", "--site", copy, "--out", out, "--now", "2023-05-20T12:00") == 0
        outs.append(out)
    return outs


def pages(out: Path) -> Iterator[tuple[str, lxml.html.HtmlElement]]:
    for path in sorted(out.rglob("*.html")):
        yield path.relative_to(out).as_posix(), lxml.html.fromstring(path.read_bytes())


def browser_url(value: str) -> str:
    """A URL attribute as a browser reads it: no ASCII whitespace or controls, any case."""
    return re.sub(r"[\x00-\x20]", "", value).lower()


def test_the_payload_reaches_many_pages(xss_out: Path) -> None:
    """The test below is only as good as the number of places the payload went."""
    found = [rel for rel, tree in pages(xss_out) if PAYLOAD in tree.text_content()]
    assert len(found) >= 10, found


def test_no_script_no_handler_no_script_url_on_any_page(xss_out: Path) -> None:
    for rel, tree in pages(xss_out):
        scripts = [s for s in tree.iter("script") if s.get("type") != "application/ld+json"]
        assert scripts == [], rel
        for s in tree.iter("script"):  # structured data must stay data
            json.loads(s.text_content())
        for el in tree.iter():
            if not isinstance(el.tag, str):
                continue
            handlers = [name for name in el.attrib if name.lower().startswith("on")]
            assert handlers == [], (rel, el.tag, handlers)
            for name in URL_ATTRIBUTES:
                value = browser_url(el.get(name, ""))
                assert not value.startswith(BAD_SCHEMES), (rel, el.tag, name, value)
        assert not tree.xpath("//svg|//iframe|//object|//embed|//form|//base|//meta[@http-equiv]")


def test_payloads_are_shown_as_text_where_they_were_written(xss_out: Path) -> None:
    tree = lxml.html.fromstring((xss_out / "may/event/index.html").read_bytes())
    assert tree.findtext(".//title").startswith(PAYLOAD)
    assert tree.findtext(".//h1") == PAYLOAD
    assert tree.xpath("string(//dd[preceding-sibling::dt[1]='Where'])") == PAYLOAD
    warning = tree.xpath("string(//p[@class='content-warning'])")
    assert warning == f"Content warning: {PAYLOAD}"
    (image,) = tree.xpath("//figure/img")
    assert image.get("alt") == PAYLOAD


def test_a_url_with_quotes_stays_one_attribute(xss_out: Path) -> None:
    tree = lxml.html.fromstring((xss_out / "may/event/index.html").read_bytes())
    hrefs = tree.xpath("//a/@href")
    assert "https://example.com/'onmouseover='alert(1)" in hrefs
    assert 'https://example.com/"onmouseover="alert(1)' in hrefs


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "&#106;avascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/",
    ],
)
@pytest.mark.parametrize("where", ["markdown", "markdown-image", "yaml"])
def test_script_capable_links_are_errors_everywhere(
    url: str, where: str, make_site: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if where == "yaml":
        page = md(f"title: T\nlinks:\n  - title: L\n    url: {json.dumps(url)}\n", "")
    elif where == "markdown":
        page = md("title: T\n", f"[click](<{url}>)\n")
    else:
        page = md("title: T\n", f"![alt](<{url}>)\n")
    site = make_site({"content/pages/p.md": page})  # type: ignore[operator]
    assert run("build", "--site", site, "--out", tmp_path / "out", "--now", NOW) == 1
    err = capsys.readouterr().err
    assert err.startswith("content/pages/p.md:") and ": error: " in err
    assert not (tmp_path / "out").exists()


def test_pages_satisfy_the_content_security_policy(sites_out: list[Path]) -> None:
    """No inline script or style anywhere, and every resource from the site itself."""
    assert "script-src" not in CONTENT_SECURITY_POLICY  # default-src 'none' forbids scripts
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    for out in sites_out:
        origin = "https://example.org"
        for rel, tree in pages(out):
            where = f"{out.name}/{rel}"
            assert [s for s in tree.iter("script") if s.get("type") != "application/ld+json"] == []
            assert tree.xpath("//style") == [], where
            assert tree.xpath("//*[@style]") == [], where
            resources = tree.xpath(
                "//link[@rel='stylesheet' or @rel='icon']/@href|//img/@src|//video/@src"
                "|//audio/@src|//source/@src|//iframe/@src|//embed/@src|//object/@data"
            )
            for url in resources:
                parts = urlsplit(url)
                same = not parts.netloc or f"{parts.scheme}://{parts.netloc}" == origin
                assert same and parts.scheme in ("", "https"), (where, url)
    for out in sites_out:
        for css in out.rglob("*.css"):
            text = css.read_text("utf-8")
            assert "@import" not in text
            assert all(
                not urlsplit(u.strip("'\" ")).netloc for u in re.findall(r"url\(([^)]*)\)", text)
            )


def test_headers_file_for_the_host(xss_out: Path) -> None:
    assert (xss_out / "_headers").read_text("utf-8") == (
        "# Written by hubgen (headers: true in site.yaml) for Netlify and Cloudflare Pages.\n"
        "/*\n"
        "  Content-Security-Policy: default-src 'none'; img-src 'self'; style-src 'self'; "
        "font-src 'self'; media-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'\n"
        "  X-Content-Type-Options: nosniff\n"
        "  Referrer-Policy: no-referrer\n"
        "  X-Frame-Options: DENY\n"
        "/hub/assets/*\n"
        "  Cache-Control: public, max-age=31536000, immutable\n"
    )


def test_no_headers_file_unless_asked(make_site: object, tmp_path: Path) -> None:
    site = make_site({})  # type: ignore[operator]
    assert run("build", "--site", site, "--out", tmp_path / "out", "--now", NOW) == 0
    assert not (tmp_path / "out/_headers").exists()


def test_a_static_headers_file_is_copied_unless_hubgen_writes_one(
    make_site: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({"content/static/_headers": "/*\n  X-Mine: yes\n"})  # type: ignore[operator]
    assert run("build", "--site", site, "--out", tmp_path / "out", "--now", NOW) == 0
    assert (tmp_path / "out/_headers").read_text() == "/*\n  X-Mine: yes\n"
    (site / "site.yaml").write_text((site / "site.yaml").read_text() + "headers: true\n")
    capsys.readouterr()
    assert run("check", "--site", site, "--now", NOW) == 1
    assert capsys.readouterr().err == (
        "content/static/_headers:1:1: error: static file '_headers' wants the URL /_headers, "
        "which is already the _headers file hubgen writes (headers: true); "
        "rename one of them\n1 error, 0 warnings\n"
    )


def test_external_links_and_only_they_get_noopener(sites_out: list[Path]) -> None:
    checked = 0
    for out in sites_out:
        for rel, tree in pages(out):
            for a in tree.iter("a"):
                href = a.get("href", "")
                rel_tokens = (a.get("rel") or "").split()
                parts = urlsplit(href)
                external = parts.scheme in ("http", "https") and parts.netloc != "example.org"
                assert ("noopener" in rel_tokens) == external, (out.name, rel, href)
                checked += external
    assert checked > 50


def test_noopener_in_markdown_is_decided_by_host(make_site: object, tmp_path: Path) -> None:
    body = (
        "[other](https://other.example/) [same](https://example.org/help/) "
        "[inside](/help/) [mail](mailto:a@example.com) [HOST](HTTPS://Other.Example/x)\n"
    )
    site = make_site({"content/pages/p.md": md("title: T\n", body)})  # type: ignore[operator]
    assert run("build", "--site", site, "--out", tmp_path / "out", "--now", NOW) == 0
    tree = lxml.html.fromstring((tmp_path / "out/p/index.html").read_bytes())
    links = {a.text: a.get("rel") for a in tree.xpath("//div[@class='prose']//a")}
    assert links == {
        "other": "noopener",
        "same": None,
        "inside": None,
        "mail": None,
        "HOST": "noopener",
    }


def test_allow_html_lets_html_through_without_warnings(
    make_site: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(  # type: ignore[operator]
        {
            "site.yaml": "title: T\nbase_url: https://example.org/\nallow_html: true\n",
            "content/pages/p.md": md("title: T\n", "<b>bold</b>\n"),
        }
    )
    capsys.readouterr()
    assert run("build", "--site", site, "--out", tmp_path / "out", "--now", NOW) == 0
    assert capsys.readouterr().err == ""
    assert "<b>bold</b>" in (tmp_path / "out/p/index.html").read_text()


def test_table_alignment_needs_no_style_attribute(make_site: object, tmp_path: Path) -> None:
    table = "| a | b |\n| :-- | --: |\n| 1 | 2 |\n"
    site = make_site({"content/pages/p.md": md("title: T\n", table)})  # type: ignore[operator]
    assert run("build", "--site", site, "--out", tmp_path / "out", "--now", NOW) == 0
    tree = lxml.html.fromstring((tmp_path / "out/p/index.html").read_bytes())
    assert [td.get("align") for td in tree.iter("td")] == ["left", "right"]
    assert tree.xpath("//*[@style]") == []
