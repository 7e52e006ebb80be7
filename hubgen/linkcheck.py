"""A link check of the built output, before anything is written.

Every internal link, image and asset reference in every HTML, Atom, sitemap and
iCalendar file must name a file of the output, under `base_url`'s path. A
dangling one is reported at the source file of the page that holds it. The
checks in `resolve` catch authors' links; this one catches themes' and
hubgen's own.
"""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterator, Mapping
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from lxml import etree

from hubgen import urls
from hubgen.diagnostics import Diagnostic, Span

_LINKING = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src"}


def html_links(text: str) -> list[str]:
    """The links of an HTML page or fragment, in document order."""
    return _html_links(text.encode("utf-8"))


def _html_links(data: bytes) -> list[str]:
    """libxml2's HTML parser (through lxml) reads a page about six times faster
    than html.parser, which made this check most of a build's CPU time; it
    recovers from broken markup the way browsers do and never raises for it.
    Its elements are given to `_Links` as they are parsed, not built into a
    tree: a third less time a page. Bytes, not str: lxml refuses a str that
    starts with an XML declaration. huge_tree: libxml2 would otherwise stop at
    a 10 MB text node, silently."""
    parser = getattr(_parsers, "html", None)
    if parser is None:  # one per thread: an lxml parser is not to be shared
        _parsers.links = _Links()
        parser = _parsers.html = etree.HTMLParser(
            encoding="utf-8", huge_tree=True, target=_parsers.links
        )
    _parsers.links.found = []  # nothing left from a parse that raised
    found: list[str] = etree.fromstring(data, parser)
    return found


class _Links:
    """An lxml parser target: the links of the elements it is told of, in order."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = _LINKING.get(tag)
        if name is not None and (value := attrib.get(name)):
            self.found.append(value)

    def close(self) -> list[str]:
        found, self.found = self.found, []
        return found


_parsers = threading.local()


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
    """The URL properties of a calendar, read by icalendar's full parse: a
    calendar that does not parse is reported (as hubgen's own output that
    readers' tools could not read), not only its links found. The calendars
    a build makes are read in the process that makes them (`render`)."""
    from icalendar import Calendar  # here: a calendar's links are most often cached

    for component in Calendar.from_ical(data).walk():
        if "URL" in component:
            yield str(component["URL"])


def links_of(out: str, content: bytes) -> list[str]:
    """The links one built file holds, read by its extension (none for other files).

    Raises ET.ParseError or ValueError when hubgen's own output cannot be read
    back. Pure and per file, so worker processes can call it page by page.
    """
    if out.endswith(".html"):
        content.decode("utf-8")  # output that is not UTF-8 is a bug to report, as before
        return _html_links(content)
    if out.endswith(".xml"):
        return list(xml_links(content))
    if out.endswith(".ics"):
        return list(ics_links(content))
    return []


def links_or_none(out: str, content: bytes) -> list[str] | None:
    """`links_of`, or None for a file it cannot read (read again where it is
    noted, which reports why)."""
    try:
        return links_of(out, content)
    except (ET.ParseError, ValueError):
        return None


def check_links(
    links: Mapping[str, list[str]],
    files: Collection[str],
    sources: Mapping[str, str],
    u: urls.Urls,
    unreadable: Mapping[str, str],
) -> list[Diagnostic]:
    """Diagnostics for references to files that the output does not hold."""
    targets = Targets(files, u)
    problems = []
    for out, why in unreadable.items():  # hubgen's own output: a bug to report
        message = f"the built file {out} cannot be read back ({why}); please report this"
        span = Span(sources.get(out, out))
        problems.append(Diagnostic(span, "error", "unreadable-output", message))
    for out, found in links.items():
        source = sources.get(out, out)
        for link in targets.dangling(found):
            problems.append(
                Diagnostic(
                    Span(source),
                    "error",
                    "dangling-link",
                    f"the built file {out} links to {link}, which is not in the output",
                )
            )
    return problems


class Targets:
    """The files of an output, and which links name none of them, each
    distinct link judged once: most repeat on every page.

    Given some of the output's files, those of `dangling` are the links left
    for the link check to judge when all are known; the rest name one."""

    def __init__(self, files: Collection[str], u: urls.Urls) -> None:
        self._present = set(files)
        self._u = u
        self._own = f"{u.origin}{u.prefix}/"  # how pages write an absolute link into the site
        self._missing: dict[str, bool] = {}

    def dangling(self, links: list[str]) -> list[str]:
        """Those of `links` that name no file here, in order, repeats too."""
        known = self._missing  # most links are known to name a file: no call for those
        return [link for link in links if known.get(link, True) and self._judged(link)]

    def _judged(self, link: str) -> bool:
        missing = self._missing.get(link)
        if missing is None:
            own = self._own
            if link.startswith(own) and _PLAIN_PATH.fullmatch(link, len(own)):
                # Not split by urlsplit (`_PLAIN_PATH`): the sitemap's and
                # feeds' 18,000 links of a large site were, every build, a
                # third of the check.
                missing = not _exists(link[len(own) - 1 :], self._present)
            else:
                u = self._u
                internal, path = _target(link, u.base_url, u.prefix)
                missing = internal and not _exists(path, self._present)
            self._missing[link] = missing
        return missing


# What follows the site's own address in a link `_target` would read as that
# very path: no query, fragment, escape, or anything urlsplit strips or splits on.
_PLAIN_PATH = re.compile(r"[^?#%\s\x00-\x1f\x7f]*")


@lru_cache(maxsize=1 << 13)  # ~2,500 at 1,000 drops; a larger site's build keeps no more
def _target(link: str, base_url: str, prefix: str) -> tuple[bool, str | None]:
    """Whether a link points into this site, and the site path it names (None:
    outside base_url's path). Kept from build to build: `serve` checks the same
    links on every save."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        base = urlsplit(base_url)
        internal = (parts.scheme, parts.netloc) == (base.scheme, base.netloc)
    else:
        internal = link.startswith("/")  # not a fragment; mailto:/tel:/sms: have a scheme
    path = unquote(parts.path)
    prefix = unquote(prefix)  # as base_url is written ("/my%20hub"), the path read
    if not (path + "/").startswith(prefix + "/"):
        return internal, None
    return internal, path[len(prefix) :] or "/"


def _exists(path: str | None, files: Collection[str]) -> bool:
    return path is not None and urls.output_file(path) in files
