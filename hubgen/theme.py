"""Themes as Jinja environments: a loader chain and fingerprinted assets.

A campaign's theme falls back to the site's theme, then to `default`; each of
those is the site's own `themes/<name>/` over hubgen's shipped copy, file by
file. Assets (CSS, icons) are written as `assets/<name>.<hash>.<ext>`, so
hosts can cache them forever and a changed stylesheet gets a new URL.

The templates each template names are kept in the build cache by its text, so
a rebuild parses a template only to compile it. (Compiled templates are not
kept: they are code, and the cache holds only JSON, never code.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import PurePosixPath

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError
from jinja2.meta import find_referenced_templates
from markupsafe import Markup

from hubgen import urls
from hubgen.cache import Cache, digest
from hubgen.load import Theme
from hubgen.once import Once
from hubgen.packed import HtmlStandIn


def fingerprint(name: str, data: bytes) -> str:
    """'css/style.css' -> 'css/style.3f2a9c1b0d.css'."""
    path = PurePosixPath(name)
    digest = hashlib.sha256(data).hexdigest()[:10]
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def themes_key(themes: dict[str, Theme], site_theme: str, base_url: str) -> str | None:
    """A hash of everything `Themes` makes its environments from: every file in
    each theme's template folders and its assets, byte for byte, and the URLs
    its globals write. None when a template cannot be read (let rendering tell)."""
    parts: list[str | bytes] = [site_theme, base_url]
    try:
        for name, theme in sorted(themes.items()):
            parts.append(name)
            for folder in theme.template_dirs:
                for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                    parts += [path.as_posix(), path.read_bytes()]
            for rel, data in theme.assets.items():
                parts += [rel, data]
    except OSError:
        return None
    return digest("themes", *parts)


class Themes:
    """Jinja environments per theme name, and the assets they reference.

    Given a `cache`, the templates each template names are kept there for the
    next build; `serve` keeps its `Themes` in memory instead.
    """

    def __init__(
        self,
        themes: dict[str, Theme],
        *,
        site_theme: str,
        href: Callable[[str], str],
        external: Callable[[str], bool] = lambda url: False,
        cache: Cache | None = None,
    ):
        self.themes = themes
        self._cache = cache
        self.site_theme = site_theme
        self.href = href
        self.external = external
        self._envs: dict[str, Environment] = {}
        self._hashed: dict[str, dict[str, str]] = {}  # theme -> asset -> fingerprinted name
        self._digests: dict[tuple[str, str], str | None] = {}
        self._refs: dict[tuple[str, str], list[str | None]] = {}  # templates each names
        self._sources: dict[tuple[str, str], tuple[str, str | None]] = {}  # and file
        self.assets: dict[str, bytes] = {}  # output path -> content, of every theme's assets
        self.used: set[str] = set()  # output paths of the assets rendered pages asked for

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
            # An environment lives for one build: no need to stat each template
            # again on every page (that was 3% of a cold build).
            auto_reload=False,
            extensions=[Once],
        )
        env.once_assets = self.used  # type: ignore[attr-defined]
        env.policies["json.dumps_kwargs"] = {"sort_keys": True, "default": _as_text}
        assets: dict[str, bytes] = {}
        for theme in reversed(chain):
            assets.update(theme.assets)
        hashed = {rel: fingerprint(rel, data) for rel, data in assets.items()}
        self._hashed[name] = hashed
        for rel, data in assets.items():
            self.assets[urls.output_file(urls.asset(hashed[rel]))] = data

        def asset(rel: str) -> str:
            """The URL of a theme file; only files some page asks for are written."""
            if rel not in hashed:
                raise LookupError(f"theme '{name}' has no static file '{rel}'")
            self.used.add(urls.output_file(urls.asset(hashed[rel])))
            return self.href(urls.asset(hashed[rel]))

        def rel(href: str | None) -> Markup:
            """' rel="noopener"' for a link to another site, else nothing."""
            return Markup(' rel="noopener"' if href and self.external(href) else "")

        env.globals["asset"] = asset
        env.globals["rel"] = rel
        return env

    def digest(self, theme: str | None, template: str) -> str | None:
        """A hash of everything a template can read from its theme: its own source,
        every template it extends, includes or imports, and the theme's assets (whose
        fingerprinted names pages show). None if it cannot be read: render it and
        let the error tell."""
        name = theme or self.site_theme
        if (name, template) not in self._digests:
            self._digests[name, template] = self._digest(name, template)
        return self._digests[name, template]

    def _digest(self, name: str, template: str) -> str | None:
        env = self.env(name)
        assert env.loader is not None
        sources: dict[str, str] = {}
        todo = [template]
        try:
            while todo:
                current = todo.pop()
                if current in sources:
                    continue
                sources[current], refs = self._read(name, current)
                for ref in refs:
                    todo.extend(env.list_templates() if ref is None else [ref])
        except TemplateError:
            return None
        parts = [f"{n}\0{sources[n]}" for n in sorted(sources)]
        assets = [f"{rel}\0{hashed}" for rel, hashed in sorted(self._hashed[name].items())]
        return digest("templates", name, *parts, "assets", *assets)

    def filename(self, theme: str | None, template: str) -> str | None:
        """The file a template is read from, found without compiling it: a
        rebuild compiles only the templates of the pages it renders."""
        return self._source(theme or self.site_theme, template)[1]

    def _read(self, name: str, template: str) -> tuple[str, list[str | None]]:
        """A template's source and the templates it names (None: a computed name)."""
        source = self._source(name, template)[0]
        if (name, template) not in self._refs:
            self._refs[name, template] = self._named(self.env(name), source)
        return source, self._refs[name, template]

    def _source(self, name: str, template: str) -> tuple[str, str | None]:
        if (name, template) not in self._sources:
            env = self.env(name)
            assert env.loader is not None
            source, filename, _uptodate = env.loader.get_source(env, template)
            self._sources[name, template] = (source, filename)
        return self._sources[name, template]

    def _named(self, env: Environment, source: str) -> list[str | None]:
        """The templates `source` extends, includes or imports, by name."""
        key = digest("template-refs", source)
        if self._cache is not None:
            kept = self._cache.get("template-refs", key)
            if isinstance(kept, list) and all(r is None or isinstance(r, str) for r in kept):
                return kept
        refs = list(find_referenced_templates(env.parse(source)))
        if self._cache is not None:
            self._cache.put("template-refs", key, refs)
        return refs


def _as_text(value: object) -> str:
    """What `tojson` makes of a value JSON has no type for: a drop's body (held
    compressed, or noting that it is read) as the HTML it stands for, as it
    would a plain string of HTML."""
    if isinstance(value, HtmlStandIn):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be written as JSON")
