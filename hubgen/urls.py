"""Every URL of the site, decided in one place.

Pages are addressed by *site paths* ("/", "/may-2023/", "/media/hero.jpg"),
which are what authors write and what the output tree mirrors. `Urls` turns a
site path into the link written in HTML (root-relative, under `base_url`'s
path, so a site served from https://example.org/hub/ works at any depth) and
into the absolute URL used for canonical links and share cards.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from urllib.parse import quote, unquote, urlsplit

# Top-level names that hubgen itself writes; a campaign or page may not use them.
RESERVED = {
    "creators": "the creators index",
    "organisations": "the organisations index",
    "topics": "the topics index",
    "help": "the help page",
    "media": "the media folder",
    "assets": "the theme assets folder",
}


@dataclass(frozen=True)
class Urls:
    base_url: str  # ends with "/"

    @classmethod
    def for_base(cls, base_url: str | None) -> Urls:
        base = base_url or "http://localhost/"
        return cls(base if base.endswith("/") else base + "/")

    # Worked out once: a build asks for hundreds of thousands of links.
    @cached_property
    def prefix(self) -> str:
        """base_url's path without its trailing slash: "" or "/hub"."""
        return urlsplit(self.base_url).path.rstrip("/")

    @cached_property
    def origin(self) -> str:
        """The scheme and host: "https://example.org"."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @cached_property
    def _host(self) -> str:
        return urlsplit(self.base_url).netloc.lower()

    def href(self, site_path: str) -> str:
        """The link to write in a page for a site path."""
        return _quoted(self.prefix + site_path)

    def is_external(self, url: str) -> bool:
        """Whether a link leaves the site: http(s) to another host (it gets rel="noopener")."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        return parts.scheme.lower() in ("http", "https") and parts.netloc.lower() != self._host

    def absolute(self, site_path: str) -> str:
        return self.origin + self.href(site_path)


@lru_cache(maxsize=1 << 16)
def _quoted(text: str) -> str:
    """`text` percent-encoded for a link (the same links recur on many pages)."""
    return quote(text, safe="/#?&=%~:+@!$,;")


@lru_cache(maxsize=1 << 13)  # ~800 at 1,000 drops; a larger site's build keeps no more
def path_of(url: str) -> str:
    """The site path a link written by an author points at: no '#...' or '?...',
    and percent-escapes decoded, so /media/my%20photo.png is /media/my photo.png."""
    return unquote(url.split("#", 1)[0].split("?", 1)[0])


def output_file(site_path: str) -> str:
    """Where a site path is written in the output folder: pretty URLs get index.html."""
    rel = site_path.lstrip("/")
    return rel + "index.html" if rel == "" or rel.endswith("/") else rel


def home() -> str:
    return "/"


def campaign(slug: str) -> str:
    return f"/{slug}/"


def drop(campaign_slug: str, slug: str) -> str:
    return f"/{campaign_slug}/{slug}/"


def creators() -> str:
    return "/creators/"


def creator(slug: str) -> str:
    return f"/creators/{slug}/"


def organisations() -> str:
    return "/organisations/"


def organisation(slug: str) -> str:
    return f"/organisations/{slug}/"


def topics() -> str:
    return "/topics/"


def topic(slug: str) -> str:
    return f"/topics/{slug}/"


def help_page() -> str:
    return "/help/"


def page(slug: str) -> str:
    return f"/{slug}/"


def asset(name: str) -> str:
    return f"/assets/{name}"


NOT_FOUND = "/404.html"
BUILTIN_PAGES = ("/", NOT_FOUND, "/creators/", "/organisations/", "/topics/", "/help/")
