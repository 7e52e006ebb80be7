"""The persistent build cache, `.hubgen-cache/` beside the site: work done once.

It is one SQLite file of (kind, key) -> JSON value. Every key is a hash of all
that the value depends on, hubgen itself included (its version and the bytes
of its code, shipped theme and rules, so that even an edited checkout never
reads what another code wrote) and the libraries that make values with it
(Python, Markdown, YAML, Jinja, the time-zone rules), so an entry is either
right or never asked for; nothing is ever "invalidated". The cache is only an
accelerator: a file that is not ours (another hubgen's, corrupt, not SQLite at
all) is ignored and replaced, a value of the wrong shape is a miss, and a site
folder that cannot be written to builds without one. Deleting the folder
costs one slow build, nothing else.

Values are JSON, never pickles: a cache restored from CI storage or copied
from elsewhere can at worst hold wrong data (a miss), never run code.

A process that builds the same site again and again (`serve`) also keeps a
`Warm` memory: values already decoded, and objects costly to make (a theme's
compiled templates), under the same kind of keys. Only what a key fully
decides is kept there, so a build with it is the same as one without.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sqlite3
import sys
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import hubgen
from hubgen import collector
from hubgen.shipped import SHIPPED_THEMES

CACHE_DIR = ".hubgen-cache"
_FILE = "cache.sqlite"
# Bump when the layout of values changes; hubgen's version is part of it too.
_FORMAT = "4"

T = TypeVar("T")
_MISSING = object()
_BATCH = 500  # keys per query (under SQLite's limit on parameters)
# Values `write` commits at a time. Each commit rewrites the pages of the
# (kind, key) index its values land in, at random since keys are hashes, and
# copies them to the journal first: the 75,543 values of a cold build at
# 10,000 drops (79 MB) took 0.39 s to write in commits of 500 on 4 KB pages,
# 0.25 s in commits of 1,000 on 8 KB pages (`_PAGE_SIZE`).
_COMMIT = 1000
_INSERT = "INSERT OR REPLACE INTO entries (kind, key, value) VALUES (?, ?, ?)"
_PAGE_SIZE = 8192  # a new file's; SQLite's default is 4,096 bytes


def _code() -> str:
    """A hash of hubgen's own files: its code, rules and shipped themes."""
    package = Path(__file__).parent
    roots = [(package, "*.py"), (package, "*.yaml"), (SHIPPED_THEMES, "*")]
    h = hashlib.sha256()
    for root, pattern in roots:
        for path in sorted(root.rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                name = path.relative_to(root).as_posix()
                h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _libraries() -> str:
    """The versions of what else makes cached values: Python, the Markdown, YAML
    and template libraries, and the time-zone rules (new ones can move a local
    time). Read from the installed packages' metadata folders, without importing
    the libraries: an up-to-date check needs none of them."""
    found = [f"python {sys.version.split()[0]}"]
    found += [f"{dist} {_installed(module, dist)}" for module, dist in _LIBRARIES]
    for folder in zoneinfo.TZPATH:  # the system's rules come first, then the tzdata package
        try:
            with open(Path(folder) / "tzdata.zi", encoding="utf-8") as f:
                found.append(f"{folder} {f.readline().strip()}")
            break
        except OSError:
            continue
    return ", ".join(found)


_LIBRARIES = (
    ("markdown", "markdown"),
    ("yaml", "pyyaml"),
    ("jinja2", "jinja2"),
    ("markupsafe", "markupsafe"),
    ("tzdata", "tzdata"),  # the rules where the system has none
)  # (module, distribution)


def _installed(module: str, dist: str) -> str:
    """The version in the name of `dist`'s metadata folder beside `module`; "-" if none."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return "-"
    folder = Path(spec.origin).parent.parent
    try:
        names = [entry.name for entry in os.scandir(folder)]
    except OSError:
        return "-"
    for name in names:
        stem, _dot, suffix = name.rpartition(".")
        head, dash, version = stem.partition("-")
        if suffix in ("dist-info", "egg-info") and dash and _normal(head) == dist:
            return version
    return "-"


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


_STAMP = f"hubgen {hubgen.__version__} cache format {_FORMAT} code {_code()} with {_libraries()}"


_STAMPED = hashlib.sha256(_STAMP.encode())  # copied, not hashed again, for every key


def digest(*parts: str | bytes) -> str:
    """A key: the hash of `parts`, each length-prefixed so that no two lists collide.

    Its first 128 bits: a large site's build holds tens of thousands of keys
    (each page's fingerprint, reads and facts), and collisions among even
    billions of them are out of reach at that length."""
    chunks = []
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        chunks += (len(data).to_bytes(8, "little"), data)
    h = _STAMPED.copy()
    h.update(b"".join(chunks))  # one call: the same hash as one per chunk
    return h.digest()[:16].hex()


class Encoded(str):
    """A value already encoded as JSON text (by a worker process): stored as it is."""


class CachedFile(NamedTuple):
    """A file `Cache.written` gives (a feed, a calendar, the sitemap): its key
    in the cache, and its bytes, or None where they are the cache's and were
    not read out of it (`Cache.contents`). A build whose previous output
    still holds the very file written from that key takes it from there,
    unread (`produce`): reading a one-drop rebuild's unchanged feeds,
    calendars and sitemap back out of the cache (6.6 MB of text at 10,000
    drops) and comparing them with the previous files took 40 ms of it."""

    kind: str
    key: str
    data: bytes | None


def file_hash(data: bytes) -> str:
    """The hash a source file is known by in the cache (see `unchanged.Sources.file_hash`)."""
    return hashlib.sha256(data).hexdigest()


class Warm:
    """Decoded values and made objects, kept in memory from one build to the next.

    Each build keeps only what it used, so a long preview session holds one
    build's worth, like the cache file.
    """

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], object] = {}


class Cache:
    """Reads every entry of the kinds asked for at once; writes once, at `save`.

    Entries of a kind that this build did not use are dropped at `save`, so the
    cache holds one build's worth and does not grow with every edit.
    """

    def __init__(self, folder: Path | None, *, warm: Warm | None = None) -> None:
        self._warm = warm
        self._kept: dict[tuple[str, str], object] = {}  # this build's, for the next
        self._db: sqlite3.Connection | None = None
        self._entries: dict[str, dict[str, str]] = {}  # read, not yet asked for
        self._stored: dict[str, set[str]] = {}  # every key of a kind in the file
        self._used: dict[str, set[str]] = {}
        self._new: dict[str, dict[str, Any]] = {}
        self._written: dict[str, set[str]] = {}  # stored already, not held (`write`)
        self._unsent: list[tuple[str, str, str]] = []  # written, still to go into the file
        self._path = folder / _FILE if folder is not None else None
        self._corrupt = False
        if self._path is not None:
            self._db = _open(self._path)

    @classmethod
    def none(cls) -> Cache:
        """A cache that remembers nothing (`--no-cache`)."""
        return cls(None)

    @property
    def warm(self) -> bool:
        """Whether it keeps values in memory for a later build in this process
        (`serve`'s `Warm`): work worth remembering only then is not."""
        return self._warm is not None

    @property
    def lasting(self) -> bool:
        """Whether what this build puts can be read by a later one (not so with
        `--no-cache`, or a site folder that cannot be written to)."""
        return self._db is not None

    def has(self, kind: str, key: str) -> bool:
        """Whether `key` has a value, without reading it (a later `get` will)."""
        self._used.setdefault(kind, set()).add(key)
        return self._put_now(kind, key) or key in self._table(kind)

    def _put_now(self, kind: str, key: str) -> bool:
        """Whether this build put or wrote a value under `key`."""
        return key in self._new.get(kind, {}) or key in self._written.get(kind, ())

    def holding(self, kind: str) -> set[str]:
        """Every key of `kind` that has a value, without reading the values."""
        return self._keys(kind) | self._new.get(kind, {}).keys() | self._written.get(kind, set())

    def knows_any(self, kind: str) -> bool:
        """Whether any key of `kind` might have a value: one stored, put, or
        kept in memory by an earlier build (not reading the keys)."""
        if self._new.get(kind) or self._written.get(kind) or self._stored.get(kind):
            return True
        if self._db is not None:
            self._send()
            try:
                query = "SELECT 1 FROM entries WHERE kind = ? LIMIT 1"
                if self._db.execute(query, (kind,)).fetchone() is not None:
                    return True
            except sqlite3.Error as exc:
                self._failed(exc)
        # Last: `serve`'s memory holds tens of thousands of values, walked one by one.
        return self._warm is not None and any(k == kind for k, _key in self._warm.kept)

    def get(self, kind: str, key: str) -> Any | None:
        """The value stored under `key`, or None. Each stored value is read once."""
        self._used.setdefault(kind, set()).add(key)
        if key in self._new.get(kind, {}):
            value = self._new[kind][key]
            return json.loads(value) if type(value) is Encoded else value
        if key in self._written.get(kind, ()):
            raw = self._stored_value(kind, key)
        else:
            raw = self._table(kind).pop(key, None)  # asked for once: no need to keep the text
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def decoded(
        self, kind: str, keys: Iterable[str], decode: Callable[[Any], T | None]
    ) -> dict[str, T]:
        """`decode(get(kind, key))` for each key that has a value, read from the
        file in one pass, each text decoded and let go before the next is read
        (the drops of a large site are tens of megabytes of text). With a `Warm`
        memory, decoded values are kept for the next build. `decode` gives None
        for a value of the wrong shape (a miss), and must depend on nothing but
        the value and make no reference cycles: the collector is paused while
        they are made (`collector.paused`)."""
        with collector.paused():
            return self._decoded(kind, keys, decode)

    def decoded_mostly(
        self, kind: str, keys: Iterable[str], decode: Callable[[Any], T | None], *, usual: str
    ) -> dict[str, T]:
        """`decoded`, for a kind whose values are nearly all the one JSON text
        `usual` (the drops' findings: `[]` but for a few): each key stored with
        it is given `decode` of it, one object for them all, which must not be
        changed. Those values are compared in the file, not read out and
        decoded one by one (a rebuild at 10,000 drops: 30 ms, now 9.5)."""
        if self._db is None or self._warm is not None or self._held(kind):
            return self.decoded(kind, keys, decode)
        shared = decode(json.loads(usual))
        if shared is None:
            raise ValueError(f"{usual!r} is not a value of its kind")
        wanted = set(keys)
        self._used.setdefault(kind, set()).update(wanted)
        found: dict[str, T] = {}
        others: list[str] = []
        self._send()
        try:
            query = "SELECT key, value = ? FROM entries WHERE kind = ?"
            stored: set[str] = set()  # every key of the kind, seen on the way (`_keys`)
            for k, same in self._db.execute(query, (usual, kind)):
                if isinstance(k, str):
                    stored.add(k)
                    if k in wanted:
                        if same == 1:
                            found[k] = shared
                        else:
                            others.append(k)
            self._stored.setdefault(kind, stored)
        except sqlite3.Error as exc:
            self._failed(exc)
            return {}
        return found | self.decoded(kind, others, decode)

    def _held(self, kind: str) -> bool:
        """Whether values of `kind` are held here, read or written, not (only) in the file."""
        return kind in self._entries or bool(self._new.get(kind) or self._written.get(kind))

    def _decoded(
        self, kind: str, keys: Iterable[str], decode: Callable[[Any], T | None]
    ) -> dict[str, T]:
        found: dict[str, T] = {}
        wanted = set(keys)
        self._used.setdefault(kind, set()).update(wanted)
        kept = self._warm.kept if self._warm is not None else {}
        for key in wanted:
            if (kind, key) in kept:
                found[key] = self._keep(kind, key, kept[kind, key])  # type: ignore[arg-type]
            elif key in self._new.get(kind, {}) or key in self._written.get(kind, ()):
                if (value := self._decode(kind, key, self.get(kind, key), decode)) is not None:
                    found[key] = value
        for key, raw in self._rows(kind, wanted - found.keys()):
            try:
                text = json.loads(raw)
            except ValueError:
                continue
            if (value := self._decode(kind, key, text, decode)) is not None:
                found[key] = value
        return found

    def _decode(
        self, kind: str, key: str, value: Any, decode: Callable[[Any], T | None]
    ) -> T | None:
        decoded = decode(value) if value is not None else None
        return self._keep(kind, key, decoded) if decoded is not None else None

    def _rows(self, kind: str, keys: set[str]) -> Iterator[tuple[str, str]]:
        """The stored (key, value) of each of `keys` that has one, one at a time."""
        if kind in self._entries:
            table = self._entries[kind]
            yield from [(k, table.pop(k)) for k in keys if k in table]
            return
        if self._db is None:
            return
        self._send()
        try:
            if len(keys) > _BATCH and 2 * len(keys) >= self._count(kind):
                # Most of the kind (every drop but the one edited): one pass
                # over it took half the time of looking each key up.
                rows = self._db.execute(_IN_FILE_ORDER.format("kind = ?"), (kind,))
                stored: set[str] = set()  # every key of the kind, seen on the way (`_keys`)
                for k, v in rows:
                    if isinstance(k, str):
                        stored.add(k)
                        if k in keys and isinstance(v, str):
                            yield k, v
                self._stored.setdefault(kind, stored)
                return
            wanted = sorted(keys)
            for start in range(0, len(wanted), _BATCH):
                batch = wanted[start : start + _BATCH]
                marks = ",".join("?" * len(batch))
                rows = self._db.execute(
                    _IN_FILE_ORDER.format(f"kind = ? AND key IN ({marks})"),
                    (kind, *batch),
                )
                yield from ((k, v) for k, v in rows if isinstance(k, str) and isinstance(v, str))
        except sqlite3.Error as exc:
            self._failed(exc)
            return

    def _count(self, kind: str) -> int:
        assert self._db is not None
        row = self._db.execute("SELECT count(*) FROM entries WHERE kind = ?", (kind,)).fetchone()
        return row[0]  # type: ignore[no-any-return]

    def write_decoded(self, kind: str, key: str, value: Any, decoded: object) -> None:
        """`write(kind, key, value)`, with what `decoded` would make of it."""
        self.write(kind, key, value)
        self._keep(kind, key, decoded)

    def write(self, kind: str, key: str, value: Any) -> None:
        """`put`, but into the file soon, not held in memory: for many large
        values (every drop and page of a cold build). Written and committed
        `_COMMIT` values at a time (one statement for them all: one per value
        took six times as long), so that another hubgen using the same cache
        (a `check` beside `serve`) never waits long for the file; a value is
        right whenever it is written, and any query sends what is due first."""
        self._used.setdefault(kind, set()).add(key)
        self._new.get(kind, {}).pop(key, None)
        self._kept.pop((kind, key), None)  # what an earlier value decoded to
        if self._db is None:
            return
        self._unsent.append((kind, key, value if type(value) is Encoded else encode(value)))
        self._written.setdefault(kind, set()).add(key)
        if len(self._unsent) >= _COMMIT:
            self._send()

    def send_held(self) -> None:
        """Do most of `save` now: write the values `put` holds into the file,
        and read the keys `save` looks through for stale entries. For a build
        that has CPU beside it at this point and none later (the review beside
        a cold build, which `save` followed on one CPU: 0.27 s at 10,000
        drops). Each value goes in as it is now: none is changed once put.
        Values put after this are held, and saved, as before."""
        if self._db is None:
            return
        self._send()
        try:
            with self._db:  # each value encoded as it goes in, as `save` does
                self._db.executemany(_INSERT, _rows(self._new))
        except sqlite3.Error as exc:
            self._failed(exc)
            return  # still held: `save` tries again
        for kind, values in self._new.items():
            self._written.setdefault(kind, set()).update(values)
        self._new.clear()
        for kind in self._used:
            self._keys(kind)  # (keys written from now on are used: never stale)

    def _send(self) -> None:
        """Write and commit the values `write` holds."""
        unsent, self._unsent = self._unsent, []
        if not unsent or self._db is None:
            return
        try:
            with self._db:
                self._db.executemany(_INSERT, unsent)
        except sqlite3.Error as exc:
            self._failed(exc)  # a full disk: the next build is slower, no worse

    def _stored_value(self, kind: str, key: str) -> str | None:
        assert self._db is not None  # only keys written to it
        self._send()
        try:
            row = self._db.execute(
                "SELECT value FROM entries WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
        except sqlite3.Error as exc:
            self._failed(exc)
            return None
        return row[0] if row and isinstance(row[0], str) else None

    def knows_written(self, kind: str, parts: Iterable[str]) -> bool:
        """Whether `written(kind, parts, ...)` would take the file from the cache."""
        return self.stored_file(kind, self.written_key(kind, parts)) is not None

    @staticmethod
    def written_key(kind: str, parts: Iterable[str]) -> str:
        """The key `written(kind, parts, ...)` keeps its file under."""
        return digest(kind, *parts)

    def stored_file(self, kind: str, key: str) -> CachedFile | None:
        """The file kept under `key` (`written_key`), not read out, if the cache
        holds it (kept for a later build, whether read or not)."""
        self._used.setdefault(kind, set()).add(key)
        held = self._put_now(kind, key) or key in self._keys(kind)
        return CachedFile(kind, key, None) if held else None

    def contents(self, file: CachedFile) -> bytes | None:
        """A file's bytes: as made, or read out of the cache (None: the cache no
        longer holds them, another hubgen having saved it meanwhile)."""
        if file.data is not None:
            return file.data
        known = self.get(file.kind, file.key)
        return known.encode("utf-8") if isinstance(known, str) else None

    def written(self, kind: str, parts: Iterable[str], write: Callable[[], bytes]) -> CachedFile:
        """`write()`: a UTF-8 file made from values whose text is `parts` (the
        values of a feed, a calendar, the sitemap), or the file it made from the
        same values in an earlier build, unread (`CachedFile`). For files whose
        writing out, not working out, is the slow part."""
        key = self.written_key(kind, parts)
        known = self.stored_file(kind, key)
        if known is not None:
            return known
        data = write()
        self.write(kind, key, data.decode("utf-8"))  # not held till the end: megabytes of feeds
        return CachedFile(kind, key, data)

    def made(
        self,
        kind: str,
        key: Callable[[], str | None],
        make: Callable[[], T],
        *,
        holds: Callable[[Any], bool] | None = None,
    ) -> T:
        """`make()`, or what it made in an earlier build under the same key
        (with a `Warm` memory; never stored in the file), if `holds` says that
        is still right. `key` is only worked out when there is a memory; None:
        make it afresh."""
        if self._warm is None:
            return make()
        name = key()
        if name is None:
            return make()
        known = self._warm.kept.get((kind, name), _MISSING)
        if known is _MISSING or (holds is not None and not holds(known)):
            known = make()
        return self._keep(kind, name, known)  # type: ignore[arg-type]

    def _keep(self, kind: str, key: str, value: T) -> T:
        if self._warm is not None:
            self._kept[kind, key] = value
        return value

    def keep(self, kind: str, keys: Iterable[str]) -> None:
        """Keep the values of `keys` for a later build without reading them."""
        self._used.setdefault(kind, set()).update(keys)

    def is_new(self, kind: str, key: str) -> bool:
        """Whether `key` was put by this build (and so is still held, to be saved)."""
        return key in self._new.get(kind, {})

    def put(self, kind: str, key: str, value: Any) -> None:
        self._used.setdefault(kind, set()).add(key)
        self._new.setdefault(kind, {})[key] = value
        self._kept.pop((kind, key), None)  # what an earlier value decoded to

    def _table(self, kind: str) -> dict[str, str]:
        if kind not in self._entries:
            self._entries[kind] = self._read(kind)
            self._stored[kind] = set(self._entries[kind])
        return self._entries[kind]

    def _keys(self, kind: str) -> set[str]:
        """Every key of `kind` in the file, without reading the values."""
        if kind not in self._stored:
            self._stored[kind] = set()
            if self._db is not None:
                self._send()
                try:
                    rows = self._db.execute("SELECT key FROM entries WHERE kind = ?", (kind,))
                    self._stored[kind] = {k for (k,) in rows if isinstance(k, str)}
                except sqlite3.Error as exc:
                    self._failed(exc)
        return self._stored[kind]

    def _read(self, kind: str) -> dict[str, str]:
        if self._db is None:
            return {}
        self._send()
        try:
            rows = self._db.execute(_IN_FILE_ORDER.format("kind = ?"), (kind,))
            return {k: v for k, v in rows if isinstance(k, str) and isinstance(v, str)}
        except sqlite3.Error as exc:
            self._failed(exc)
            return {}

    def save(self) -> None:
        """Store new entries and forget unused ones; a cache that cannot be written is skipped."""
        if self._warm is not None:
            self._warm.kept = self._kept
        self._kept = {}
        if self._db is None:
            return
        self._send()
        try:
            with self._db:
                for kind, used in self._used.items():
                    # One kind's keys at a time: a large site's are megabytes.
                    stale = self._keys(kind) - used
                    self._stored.pop(kind, None)
                    self._db.executemany(
                        "DELETE FROM entries WHERE kind = ? AND key = ?",
                        ((kind, key) for key in stale),
                    )
                    del stale
                self._db.executemany(_INSERT, _rows(self._new))
        except sqlite3.Error as exc:  # a full disk or a read-only folder: the next build
            self._failed(exc)  # is slower, no worse
        self._new.clear()
        self._written.clear()
        self._entries.clear()
        self._stored.clear()
        self._used.clear()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._corrupt and self._path is not None:
            try:  # the next build starts a new one (and no journal of this one)
                self._path.unlink(missing_ok=True)
                self._path.with_name(self._path.name + "-journal").unlink(missing_ok=True)
            except OSError:
                pass

    def _failed(self, exc: sqlite3.Error) -> None:
        """Note an error reading or writing the file: a full disk or a file
        locked by another hubgen passes, but a file SQLite finds malformed (a
        machine stopped mid-build, see `_open`) is removed once closed."""
        if not isinstance(exc, sqlite3.OperationalError):
            self._corrupt = True


# Values read in the order they lie in the file (by rowid), not in the order of
# their keys (the index's: random, keys being hashes). With the file not in the
# operating system's memory (the first build after a cold one, a cache restored
# in CI), reading 10,000 drop records by key took 0.78 s, and in file order 0.08 s;
# from memory, the same either way.
_IN_FILE_ORDER = (
    "SELECT key, value FROM entries WHERE rowid IN (SELECT rowid FROM entries WHERE {})"
)


def _rows(new: dict[str, dict[str, Any]]) -> Iterable[tuple[str, str, str]]:
    for kind, values in new.items():
        for key, value in values.items():
            if type(value) is Encoded:
                yield kind, key, value
            else:
                yield kind, key, encode(value)


def encode(value: Any) -> str:
    """A value as the JSON text the cache stores."""
    return _ENCODER.encode(value)


# One encoder for every value: `json.dumps` with options makes a new one each
# call, a quarter of encoding a small value (a build encodes tens of thousands).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _open(path: Path) -> sqlite3.Connection | None:
    """Our cache file, created or replaced if it is missing, foreign or corrupt."""
    try:
        path.parent.mkdir(exist_ok=True)
    except OSError:
        return None
    for _attempt in range(2):
        db: sqlite3.Connection | None = None
        try:
            db = _connect(path)
            if _stamp(db) == _STAMP:
                return db
            db.close()
            db = None
            path.unlink(missing_ok=True)
            db = _connect(path)
            db.execute(f"PRAGMA page_size = {_PAGE_SIZE}")  # before the first table
            with db:
                db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT)")
                # A rowid table: values of kilobytes (a drop's record) are read
                # from overflow pages 2.5 times faster than in a WITHOUT ROWID
                # table, whose b-tree holds them in its own pages.
                db.execute(
                    "CREATE TABLE entries (kind TEXT, key TEXT, value TEXT, UNIQUE (kind, key))"
                )
                db.execute("INSERT INTO meta VALUES ('stamp', ?)", (_STAMP,))
            return db
        except (sqlite3.Error, OSError):
            if db is not None:
                db.close()
            try:
                path.unlink(missing_ok=True)  # corrupt beyond opening: start afresh
            except OSError:
                return None
    return None


def _connect(path: Path) -> sqlite3.Connection:
    """A connection to the cache file whose commits are not flushed to the disk:
    a cold build at 10,000 drops commits about fifty times (`_COMMIT`), and
    flushing each cost half a second of its writes in all. A killed build
    leaves the file whole (the journal still rolls back); only a machine that
    stops mid-build may leave it corrupt: then that build is slower, and the
    file replaced. (Up to `6a66d2c`, the connection that made a new file
    flushed each commit: a cold build's process called fdatasync 442 times.)"""
    db = sqlite3.connect(path, timeout=30)
    db.execute("PRAGMA synchronous = OFF")
    return db


def _stamp(db: sqlite3.Connection) -> str | None:
    try:
        row = db.execute("SELECT value FROM meta WHERE name = 'stamp'").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row and isinstance(row[0], str) else None


@contextmanager
def cache_for(site_dir: Path, *, enabled: bool = True, warm: Warm | None = None) -> Iterator[Cache]:
    """The cache of the site at `site_dir` (or one that remembers nothing), saved
    when the block ends, whether the build succeeded or not: what was done is right."""
    store = Cache(site_dir / CACHE_DIR if enabled else None, warm=warm)
    try:
        yield store
    finally:
        store.save()
        store.close()


Writing = tuple[str, list[str], Callable[[], bytes]]  # what `Cache.written` is given
