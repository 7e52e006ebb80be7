"""Themes as Jinja environments: a loader chain and fingerprinted assets.

A campaign's theme falls back to the site's theme, then to `default`; each of
those is the site's own `themes/<name>/` over hubgen's shipped copy, file by
file. Assets (CSS, icons) are written as `assets/<name>.<hash>.<ext>`, so
hosts can cache them forever and a changed stylesheet gets a new URL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import PurePosixPath

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from hubgen import urls
from hubgen.load import Theme


def fingerprint(name: str, data: bytes) -> str:
    """'css/style.css' -> 'css/style.3f2a9c1b0d.css'."""
    path = PurePosixPath(name)
    digest = hashlib.sha256(data).hexdigest()[:10]
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


class Themes:
    """Jinja environments per theme name, and the assets they reference."""

    def __init__(
        self,
        themes: dict[str, Theme],
        *,
        site_theme: str,
        href: Callable[[str], str],
        external: Callable[[str], bool] = lambda url: False,
    ):
        self.themes = themes
        self.site_theme = site_theme
        self.href = href
        self.external = external
        self._envs: dict[str, Environment] = {}
        self.assets: dict[str, bytes] = {}  # output path -> content, of assets pages use

    def chain(self, name: str) -> list[Theme]:
        names = dict.fromkeys([name, self.site_theme, "default"])
        return [self.themes[n] for n in names if n in self.themes]

    def env(self, name: str | None = None) -> Environment:
        name = name or self.site_theme
        if name not in self._envs:
            self._envs[name] = self._build(name)
        return self._envs[name]

    def _build(self, name: str) -> Environment:
        chain = self.chain(name)
        loader = ChoiceLoader([FileSystemLoader(d) for t in chain for d in t.template_dirs])
        env = Environment(
            loader=loader,
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        assets: dict[str, bytes] = {}
        for theme in reversed(chain):
            assets.update(theme.assets)
        hashed = {rel: fingerprint(rel, data) for rel, data in assets.items()}

        def asset(rel: str) -> str:
            """The URL of a theme file; only files some page asks for are written."""
            if rel not in hashed:
                raise LookupError(f"theme '{name}' has no static file '{rel}'")
            self.assets[urls.output_file(urls.asset(hashed[rel]))] = assets[rel]
            return self.href(urls.asset(hashed[rel]))

        def rel(href: str | None) -> Markup:
            """' rel="noopener"' for a link to another site, else nothing."""
            return Markup(' rel="noopener"' if href and self.external(href) else "")

        env.globals["asset"] = asset
        env.globals["rel"] = rel
        return env
