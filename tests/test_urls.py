"""urls: one place decides links, under base_url's path."""

from __future__ import annotations

import pytest

from hubgen import urls
from hubgen.urls import Urls


@pytest.mark.parametrize(
    ("base", "href", "absolute"),
    [
        ("https://example.org/hub/", "/hub/may/", "https://example.org/hub/may/"),
        ("https://example.org/hub", "/hub/may/", "https://example.org/hub/may/"),
        ("https://example.org/", "/may/", "https://example.org/may/"),
        ("https://example.org", "/may/", "https://example.org/may/"),
    ],
)
def test_base_url_path_is_honoured(base: str, href: str, absolute: str) -> None:
    u = Urls.for_base(base)
    assert u.href(urls.campaign("may")) == href
    assert u.absolute(urls.campaign("may")) == absolute


def test_output_files_use_pretty_urls() -> None:
    assert urls.output_file("/") == "index.html"
    assert urls.output_file(urls.drop("may", "hello")) == "may/hello/index.html"
    assert urls.output_file("/media/a b.png") == "media/a b.png"
    assert urls.output_file(urls.NOT_FOUND) == "404.html"


def test_hrefs_are_percent_encoded() -> None:
    assert Urls.for_base("https://e.org/").href("/media/a b.png") == "/media/a%20b.png"
