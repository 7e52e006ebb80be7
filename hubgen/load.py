"""Stage 1 (I/O): read the site folder into documents with positions.

Nothing here interprets a field; it only finds files, decodes them, splits
Markdown front matter from its body, and parses YAML with marks. Problems that
stop a file from being read at all (not UTF-8, no front matter, broken YAML)
become diagnostics here; the file is then left out of later stages.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from hubgen.cache import Cache, file_hash
from hubgen.diagnostics import Diagnostics, Span
from hubgen.shipped import SHIPPED_THEMES
from hubgen.yamlmarks import Node, parse_yaml

YAML_SUFFIXES = (".yaml", ".yml")
# A text file larger than this is refused before it is read: no site needs one,
# and a huge file (a video saved as .md by mistake) would stall every build.
MAX_TEXT_BYTES = 10 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_UNLINKABLE = re.compile(r"[#?%]")  # would end or garble a URL path
# What makes an SVG run script when it is opened on its own, on the site's origin.
_SVG_SCRIPT = re.compile(
    rb"<script|\son[a-z]{3,}\s*=|(?:href|src)\s*=\s*[\"']?\s*(?:javascript|vbscript):",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Theme:
    """A theme's folders, the site's own override first, then hubgen's shipped copy."""

    name: str
    template_dirs: tuple[Path, ...]
    assets: dict[str, bytes]  # path under static/ -> content; the override wins


@dataclass(frozen=True)
class Document:
    """One source file: its YAML (whole file or front matter) and Markdown body."""

    path: str  # relative to the site, with forward slashes
    stem: str
    meta: Node | None
    body: str = ""
    body_line: int = 1  # the file line on which the body starts
    text: str = ""  # the whole file as read, to find positions inside its values


@dataclass(frozen=True)
class DropFile:
    """A drop's Markdown file, found but not read: most drops are known to the
    build cache by their bytes' hash and need no parsing (see `read_drop`)."""

    folder: str  # the campaign's drops folder
    path: str  # relative to the site, with forward slashes
    stem: str


@dataclass(frozen=True)
class CreatorFile:
    """A creator's Markdown file, found but not read, like a drop's: a large
    network has hundreds of creators, and parsing each one's YAML on every
    build was a twentieth of the rebuild after a one-drop edit."""

    path: str  # relative to the site, with forward slashes
    stem: str


@dataclass(frozen=True)
class SourceTree:
    root: Path
    site: Document | None
    campaigns: tuple[Document, ...]
    drops: tuple[DropFile, ...]
    drop_folders: tuple[tuple[str, Span], ...]
    creators: tuple[CreatorFile, ...]
    organisations: tuple[Document, ...]
    pages: tuple[Document, ...]
    media: dict[str, Path] = field(default_factory=dict)  # "/media/x.png" -> file
    static: dict[str, Path] = field(default_factory=dict)  # "CNAME" -> file
    themes: dict[str, Theme] = field(default_factory=dict)


CONTENT_FOLDERS = ("drops", "creators", "organisations", "pages", "media", "static")


@dataclass(frozen=True)
class ScriptFree:
    """SVGs found without script by an earlier build, by the hash of their bytes:
    the check read every SVG on every build (1,600 files, a hundredth of the
    rebuild after a one-drop edit of a large site)."""

    cache: Cache
    known_hash: Callable[[Path], str | None]  # of a file's bytes, if known without reading

    def known(self, path: Path) -> bool:
        found = self.known_hash(path)
        return found is not None and self.cache.get("script-free", found) is True

    def found(self, data: bytes) -> None:
        self.cache.put("script-free", file_hash(data), True)


def load_site(
    root: Path, diags: Diagnostics, *, remember: bool = False, checked: ScriptFree | None = None
) -> SourceTree:
    """Find every file of the site and parse all but the drops (see `read_drop`).
    With `remember`, their YAML is remembered for the next load in this process
    (`serve`: see `parse_yaml`); SVGs `checked` knows are not read again."""
    reader = _Reader(root, diags, remember=remember, checked=checked)  # not the drops
    content = root / "content"
    reader.misplaced(content)
    drops: list[DropFile] = []
    folders: list[tuple[str, Span]] = []
    for folder in _subdirs(content / "drops", reader.accept):
        rel = reader.rel(folder)
        folders.append((folder.name, Span(rel)))
        drops.extend(
            DropFile(folder.name, f"{rel}/{name}", name[:-3])  # without ".md"
            for name in reader.markdown_names(folder)
        )
    site_file = root / "site.yaml"
    creators = content / "creators"
    media = _tree(content / "media", reader.accept)
    return SourceTree(
        root=root,
        site=reader.yaml_file(site_file) if _is_file(site_file, reader.accept) else None,
        campaigns=tuple(reader.yaml_files(root / "campaigns")),
        drops=tuple(drops),
        drop_folders=tuple(folders),
        creators=tuple(
            CreatorFile(f"{reader.rel(creators)}/{name}", name[:-3])  # without ".md"
            for name in reader.markdown_names(creators)
        ),
        organisations=tuple(reader.markdown_files(content / "organisations")),
        pages=tuple(reader.markdown_files(content / "pages")),
        media={
            "/media/" + rel: path
            for rel, path in media
            if reader.linkable(path) and reader.script_free(path)
        },
        static=dict(_tree(content / "static", reader.accept, hidden=True)),
        themes=load_themes(root / "themes", SHIPPED_THEMES, accept=reader.accept),
    )


def read_drop(root: Path, drop: DropFile, diags: Diagnostics) -> tuple[Document, str | None]:
    """Read and parse one drop file `load_site` found, with the hash of its bytes
    (None if it could not be read)."""
    return read_markdown(root, drop.path, diags)


def read_markdown(root: Path, path: str, diags: Diagnostics) -> tuple[Document, str | None]:
    """Read and parse one Markdown file `load_site` found (`path` relative to
    `root`), with the hash of its bytes (None if it could not be read)."""
    reader = _Reader(root, diags)
    doc = reader.markdown_file(root / path)
    return doc, reader.digests.get(path)


def file_text(data: bytes) -> str:
    """A text file's bytes as the text every position in it counts in: UTF-8,
    without a byte order mark, every line ending a newline."""
    return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")


Accept = Callable[[Path], bool]


def _anything(path: Path) -> bool:
    return True


def load_themes(*folders: Path, accept: Accept = _anything) -> dict[str, Theme]:
    """Every theme found in `folders`, earlier folders overriding later ones file by file.

    `accept` vets each file and folder before it is used (see `_Reader.accept`).
    """
    names = sorted({p.name for folder in folders for p in _subdirs(folder, accept)})
    themes = {}
    for name in names:
        roots = [folder / name for folder in folders if _is_dir(folder / name, accept)]
        assets: dict[str, bytes] = {}
        for root in reversed(roots):
            assets.update((rel, path.read_bytes()) for rel, path in _tree(root / "static", accept))
        for root in roots:
            _tree(root / "templates", accept)  # vet them: Jinja reads them later
        dirs = tuple(r / "templates" for r in roots if _is_dir(r / "templates", accept))
        themes[name] = Theme(name=name, template_dirs=dirs, assets=dict(sorted(assets.items())))
    return themes


def _is_file(path: Path, accept: Accept) -> bool:
    return path.is_file() and accept(path)


def _is_dir(path: Path, accept: Accept) -> bool:
    return path.is_dir() and accept(path)


def _subdirs(folder: Path, accept: Accept) -> list[Path]:
    if not _is_dir(folder, accept):
        return []
    found = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    return [p for p in found if accept(p)]


def _tree(folder: Path, accept: Accept, *, hidden: bool = False) -> list[tuple[str, Path]]:
    """Every regular file under `folder`, as (posix path relative to it, path),
    sorted as paths are.

    Files in hidden folders are skipped unless `hidden` (static files may hold
    `.well-known/`). Symlinked folders are not followed. `accept` vets the
    symlinks; a plain file in a folder already vetted can lead nowhere else,
    so only its name is vetted (a site's media are walked on every build).
    """
    if not _is_dir(folder, accept):
        return []
    files = []
    todo = [("", str(folder))]
    while todo:
        prefix, here = todo.pop()
        with os.scandir(here) as entries:
            for entry in entries:
                rel = prefix + entry.name
                if entry.is_symlink():
                    path = folder / rel
                    if accept(path) and path.is_file():
                        files.append((rel, path))
                elif entry.is_dir():
                    if hidden or not entry.name.startswith("."):
                        todo.append((rel + "/", entry.path))
                elif entry.is_file() and (not _CONTROL.search(rel) or accept(folder / rel)):
                    files.append((rel, folder / rel))
    return sorted(files, key=lambda found: found[0].split("/"))


class _Reader:
    def __init__(
        self,
        root: Path,
        diags: Diagnostics,
        *,
        remember: bool = False,
        checked: ScriptFree | None = None,
    ) -> None:
        self.root = root
        self.checked = checked
        self.diags = diags
        self.remember = remember  # see `parse_yaml`
        self.digests: dict[str, str] = {}  # path -> sha256 of the bytes read

    @cached_property
    def top(self) -> Path:
        """The site folder as the system finds it, for `accept`: resolved only
        when asked, not for each drop a worker reads (`read_markdown`)."""
        return self.root.resolve()

    def accept(self, path: Path) -> bool:
        """Whether a file or folder found in the site may be used; if not, say why.

        hubgen reads nothing outside the site folder, so a symlink that leads
        out of it is refused; so is a name with control characters, which
        could not be shown in a diagnostic line. Paths outside the site folder
        to begin with (hubgen's own shipped themes) are not the site's to vet.
        """
        try:
            shown = path.relative_to(self.root).as_posix()
        except ValueError:
            return True
        if not self.accept_name(path):
            return False
        target = path.resolve()
        if target != self.top and self.top not in target.parents:
            self.diags.error(
                Span(shown),
                "symlink",
                f"this leads outside the site through a symlink (to {target}); hubgen reads "
                "only files inside the site folder: copy it in instead",
            )
            return False
        return True

    def accept_name(self, path: Path) -> bool:
        """Whether a path in the site has a name a diagnostic line can show."""
        shown = path.relative_to(self.root).as_posix()
        if _CONTROL.search(shown):
            self.diags.error(
                Span(_CONTROL.sub("?", shown)),
                "file-name",
                f"the name {shown!r} holds control characters; rename it",
            )
            return False
        return True

    def script_free(self, path: Path) -> bool:
        """An SVG (an XML document a browser runs when opened directly) without script."""
        if path.suffix.lower() != ".svg":
            return True
        if self.checked is not None and self.checked.known(path):
            return True
        try:
            # All of it, however large (media have no size limit): a script
            # past the first 10 MB runs as well. Not `read(MAX_TEXT_BYTES)`
            # either, which set aside 10 MB for each SVG (35 us a file, 9 us now).
            data = path.read_bytes()
        except OSError as exc:
            self.diags.error(Span(self.rel(path)), "io", f"cannot read the file: {exc.strerror}")
            return False
        found = _SVG_SCRIPT.search(data)
        if found:
            what = found.group(0).decode("utf-8", "replace").strip()
            start = found.start() + (found.group(0)[:1].isspace())
            line = data.count(b"\n", 0, start) + 1
            col = start - (data.rfind(b"\n", 0, start) + 1) + 1
            self.diags.error(
                Span(self.rel(path), line, col),
                "svg-script",
                f"the SVG holds script ({what!r}), which would run when it is opened on its "
                "own: export it again without scripts or event handlers",
            )
        elif self.checked is not None:
            self.checked.found(data)
        return found is None

    def linkable(self, path: Path) -> bool:
        """A media file whose name can be written in a link: no '#', '?' or '%'."""
        name = path.relative_to(self.root).as_posix()
        found = sorted(set(_UNLINKABLE.findall(name)))
        if found:
            chars = " and ".join(f"'{c}'" for c in found)
            self.diags.error(
                Span(name),
                "file-name",
                f"the media file name holds {chars}, which cannot be written in a link; "
                "rename it (letters, digits, spaces, hyphens and dots are fine)",
            )
        return not found

    def misplaced(self, content: Path) -> None:
        """Report files that hubgen would otherwise silently ignore."""
        if content.is_dir():
            for entry in sorted(content.iterdir()):
                if entry.name.startswith(".") or entry.name in CONTENT_FOLDERS:
                    continue
                close = difflib.get_close_matches(entry.name, CONTENT_FOLDERS, n=1)
                hint = f" — did you mean '{close[0]}'?" if close else ""
                known = ", ".join(CONTENT_FOLDERS)
                self.diags.error(
                    Span(self.rel(entry)),
                    "unknown-folder",
                    f"'{entry.name}' is not a content folder (known: {known}){hint}",
                )
        drops = content / "drops"
        for path in sorted(drops.glob("*.md")) if drops.is_dir() else []:
            self.diags.error(
                Span(self.rel(path)),
                "misplaced-drop",
                "drop outside a campaign's drops folder: move it to content/drops/<campaign>/",
            )

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def yaml_files(self, folder: Path) -> list[Document]:
        if not _is_dir(folder, self.accept):
            return []
        paths = sorted(p for p in folder.iterdir() if p.suffix in YAML_SUFFIXES)
        return [self.yaml_file(p) for p in paths if _is_file(p, self.accept)]

    def markdown_files(self, folder: Path) -> list[Document]:
        return [self.markdown_file(folder / name) for name in self.markdown_names(folder)]

    def markdown_names(self, folder: Path) -> list[str]:
        """The names of the Markdown files in `folder` that may be used, sorted
        (plain strings: a site has thousands of drops)."""
        if not _is_dir(folder, self.accept):
            return []
        with os.scandir(folder) as found:
            entries = sorted(
                (e for e in found if e.name.endswith(".md") and len(e.name) > 3),  # Path.suffix
                key=lambda e: e.name,
            )
        names = []
        for entry in entries:
            if entry.is_symlink():
                ok = _is_file(folder / entry.name, self.accept)
            else:  # in a folder already vetted: only its name can be wrong
                ok = entry.is_file(follow_symlinks=False) and (
                    not _CONTROL.search(entry.name) or self.accept_name(folder / entry.name)
                )
            if ok:
                names.append(entry.name)
        return names

    def read_text(self, path: Path) -> str | None:
        rel = self.rel(path)
        try:
            size = path.stat().st_size
            with path.open("rb") as f:
                # Read what stat promised, not the limit: asking for 10 MB
                # allocates 10 MB, for every file. If it grew since, read on.
                data = f.read(size + 1) if size <= MAX_TEXT_BYTES else b""
                if len(data) > size:
                    data += f.read(MAX_TEXT_BYTES + 1 - len(data))
        except OSError as exc:
            self.diags.error(Span(rel), "io", f"cannot read the file: {exc.strerror}")
            return None
        if size > MAX_TEXT_BYTES or len(data) > MAX_TEXT_BYTES:
            self.diags.error(
                Span(rel),
                "file-size",
                f"the file is too large ({max(size, len(data)) / 2**20:.1f} MB): text files "
                f"may be at most {MAX_TEXT_BYTES // 2**20} MB; split it, and put large files "
                "in content/media/",
            )
            return None
        self.digests[rel] = file_hash(data)
        try:
            text = file_text(data)
        except UnicodeDecodeError as exc:
            before = data[: exc.start]
            line = before.count(b"\n") + 1
            col = exc.start - (before.rfind(b"\n") + 1) + 1
            self.diags.error(
                Span(rel, line, col),
                "encoding",
                f"the file is not UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8",
            )
            return None
        if not text.strip():
            self.diags.error(Span(rel), "empty-file", "the file is empty")
            return None
        return text

    def yaml_file(self, path: Path) -> Document:
        rel = self.rel(path)
        text = self.read_text(path)
        meta = None
        if text is not None:
            meta = parse_yaml(text, path=rel, diags=self.diags, remember=self.remember)
        return Document(path=rel, stem=path.stem, meta=meta, text=text or "")

    def markdown_file(self, path: Path) -> Document:
        rel = self.rel(path)
        text = self.read_text(path)
        if text is None:
            return Document(path=rel, stem=path.stem, meta=None)
        lines = text.split("\n")
        if lines[0].rstrip() != "---":
            self.diags.error(
                Span(rel),
                "front-matter",
                "missing front matter: the file must start with a '---' line, "
                "then YAML fields, then another '---' line",
            )
            return Document(path=rel, stem=path.stem, meta=None)
        end = next((i for i, line in enumerate(lines[1:], 1) if line.rstrip() == "---"), None)
        if end is None:
            self.diags.error(
                Span(rel),
                "front-matter",
                "missing closing '---': the front matter opened on line 1 never ends",
            )
            return Document(path=rel, stem=path.stem, meta=None)
        yaml_text = "\n".join(lines[1:end])
        meta = None
        if yaml_text.strip():
            meta = parse_yaml(
                yaml_text, path=rel, diags=self.diags, line_offset=1, remember=self.remember
            )
        else:
            self.diags.error(Span(rel), "front-matter", "the front matter is empty")
        body = "\n".join(lines[end + 1 :])
        return Document(
            path=rel, stem=path.stem, meta=meta, body=body, body_line=end + 2, text=text
        )
