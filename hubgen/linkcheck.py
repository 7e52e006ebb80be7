"""A link check of the built output, before anything is written.

Every internal link, image and asset reference in every HTML, Atom, sitemap and
iCalendar file must name a file of the output, under `base_url`'s path. A
dangling one is reported at the source file of the page that holds it. The
checks in `resolve` catch authors' links; this one catches themes' and
hubgen's own.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterator, Mapping
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from icalendar import Calendar

from hubgen import urls
from hubgen.diagnostics import Diagnostic, Span

_LINKING = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src"}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = _LINKING.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.found.append(value)


def html_links(text: str) -> list[str]:
    parser = _Links()
    parser.feed(text)
    parser.close()
    return parser.found


def xml_links(data: bytes) -> Iterator[str]:
    root = ET.fromstring(data)
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "link" and el.get("href"):
            yield el.get("href", "")
        elif tag == "loc" and el.text:
            yield el.text.strip()
        elif tag == "content" and el.get("type") == "html" and el.text:
            yield from html_links(el.text)


def ics_links(data: bytes) -> Iterator[str]:
    for component in Calendar.from_ical(data).walk():
        if "URL" in component:
            yield str(component["URL"])


def links_of(out: str, content: bytes) -> list[str]:
    """The links one built file holds, by its kind; raises for output that cannot be read."""
    return list(_links_in(out, content))


def check_links(
    links: Mapping[str, list[str]],
    files: Collection[str],
    sources: Mapping[str, str],
    u: urls.Urls,
    unreadable: Mapping[str, str],
) -> list[Diagnostic]:
    """Diagnostics for references to files that the output does not hold."""
    present = set(files)
    dangling: dict[str, bool] = {}  # link -> whether it is missing; most repeat on every page
    problems = []
    for out, why in unreadable.items():  # hubgen's own output: a bug to report
        message = f"the built file {out} cannot be read back ({why}); please report this"
        span = Span(sources.get(out, out))
        problems.append(Diagnostic(span, "error", "unreadable-output", message))
    for out, found in links.items():
        source = sources.get(out, out)
        for link in found:
            missing = dangling.get(link)
            if missing is None:
                missing = _internal(link, u) and not _exists(_site_path(link, u), present)
                dangling[link] = missing
            if missing:
                problems.append(
                    Diagnostic(
                        Span(source),
                        "error",
                        "dangling-link",
                        f"the built file {out} links to {link}, which is not in the output",
                    )
                )
    return problems


def _links_in(out: str, content: bytes) -> Iterator[str]:
    if out.endswith(".html"):
        yield from html_links(content.decode("utf-8"))
    elif out.endswith(".xml"):
        yield from xml_links(content)
    elif out.endswith(".ics"):
        yield from ics_links(content)


def _internal(link: str, u: urls.Urls) -> bool:
    """Whether a link points into this site (same host, or a root-relative path)."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        base = urlsplit(u.base_url)
        return (parts.scheme, parts.netloc) == (base.scheme, base.netloc)
    return link.startswith("/")  # not a fragment; mailto:/tel:/sms: have a scheme


def _site_path(link: str, u: urls.Urls) -> str | None:
    """The site path an internal link names, or None if it is outside base_url's path."""
    path = unquote(urlsplit(link).path)
    if not (path + "/").startswith(u.prefix + "/"):
        return None
    return path[len(u.prefix) :] or "/"


def _exists(path: str | None, files: Collection[str]) -> bool:
    return path is not None and urls.output_file(path) in files
