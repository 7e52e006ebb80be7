"""Before a build: is the output of the last build still exactly right?

A build is a function of the site's files, hubgen itself, the options, and
`now`, which it reads only through boundaries (see `publish`) and, for the
age of a helpline's `last_verified`, through the local date. So when a
successful build of this output left a record, the site's files hash the same,
the options are the same, `now` is still between the same two boundaries on
the same day, and the output holds exactly the files that build left (same
sizes and times), a new build would write the same bytes. Then nothing is
loaded, rendered or written: the hourly CI run between two drops, or a second
build with nothing changed, costs one read of the sources.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from time import time_ns
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hubgen.cache import Cache, digest, file_hash
from hubgen.diagnostics import Diagnostic
from hubgen.timeparse import TimeError, localize
from hubgen.write import SOURCE_NAMES

KIND = "build"
_FILES = "files"  # the cache entries of single files' hashes, one per folder


@dataclass(frozen=True)
class Previous:
    """What the last build reported, to report again."""

    diagnostics: list[Diagnostic]
    files: int
    summary: str
    next_change: datetime | None


def _stats(st: os.stat_result) -> list[int]:
    """What a file's bytes are vouched for by (see `Sources`)."""
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


class Sources:
    """The files a build can read in the site folder, found by one walk.

    Symlinks count as their target when it is inside the site folder (each folder
    once, so a loop ends), and as their text when it is not: a build refuses those.
    The bytes are hashed only when the files' sizes and times (and inodes) differ
    from a record's, as git's index does; times closer than `SETTLE_NS` to the
    walk are not trusted, since a file can change again within a clock tick.
    """

    SETTLE_NS = 2_000_000_000

    def __init__(self, site: Path) -> None:
        self.entries: list[tuple[str, str | None, str | None]] = []  # name, file, link
        self.stats: dict[str, list[int]] = {}  # name -> size, mtime, ctime, inode
        self._paths: dict[str, str] = {}  # name -> the file's path
        self.scanned_at = time_ns()
        self._digest: str | None = None
        self._recorded: dict[str, object] = {}  # name -> stats + hash, from the last build
        self._read: dict[str, object] = {}  # folder -> its entry, as `read_hashes` found it
        self._kept = False  # whether `keep_hashes` has kept every hash known now
        self._hashes: dict[str, str] = {}  # name -> hash of its bytes, known this build
        self._by_hash: set[str] = set()  # files taken by their hash alone (`taken_by_hash`)
        self._site = site
        root = site.resolve()
        seen: set[str] = set()
        for name in SOURCE_NAMES:
            path = site / name
            if path.is_symlink() or path.is_dir():
                self._folder(str(path), name, root, seen)
            elif path.is_file():
                self._file(str(path), name, os.stat(path))

    def _folder(self, folder: str, rel: str, root: Path, seen: set[str]) -> None:
        real = os.path.realpath(folder)
        if real in seen or not Path(real).is_relative_to(root):
            self.entries.append((rel + "/", None, real))
            return
        self.entries.append((rel + "/", None, None))
        seen.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            name = f"{rel}/{entry.name}"
            if entry.is_symlink():
                target = os.path.realpath(entry.path)
                self.entries.append((name, None, target))
                if not Path(target).is_relative_to(root):
                    continue
            try:
                if entry.is_dir():
                    self._folder(entry.path, name, root, seen)
                elif entry.is_file():
                    self._file(entry.path, name, entry.stat())
            except OSError:
                self.entries.append((name, None, "unreadable"))

    def _file(self, path: str, rel: str, st: os.stat_result) -> None:
        self.entries.append((rel, path, None))
        self.stats[rel] = _stats(st)
        self._paths[rel] = path

    def digest(self) -> str:
        """A hash of every name and link, and of every file's bytes by their hash:
        known this build, vouched for by unchanged stats, or read."""
        if self._digest is None:
            self._digest = self.digest_except(())
        return self._digest

    def digest_except(self, names: Collection[str]) -> str:
        """`digest`, the bytes of the files `names` left out (their names count)."""
        h = hashlib.sha256()
        for name, path, link in self.entries:
            h.update(name.encode("utf-8", "surrogateescape") + b"\0")
            if link is not None:
                h.update(b"-> " + os.fsencode(link) + b"\0")
            if path is not None and name not in names:
                h.update((self._hash_of(name, path) or "unreadable").encode() + b"\0")
        return h.hexdigest()

    def steady(self) -> set[str]:
        """The files a record made by this build can be keyed by the hashes of:
        the same (by their stats) now that the build has read them as when the
        walk found them, and, for a file saved just before the walk (a fresh
        clone in CI), whose stats cannot vouch for a second save within their
        resolution, with the same bytes as hashed. A file saved during a build
        is not. Those taken by their hash alone (`taken_by_hash`) count as
        steady without a look."""
        # Those taken by their hash set aside at once (at 10,000 drops, all
        # but about 1,450 files): only the others are looked at.
        found = self._by_hash & self.stats.keys()
        for name in self.stats.keys() - self._by_hash:
            st, path = self.stats[name], self._paths[name]
            try:
                now = os.stat(path)
            except OSError:
                continue
            if _stats(now) != st:
                continue
            if not self._settled(st) and not self._same_bytes(name, path):
                continue
            found.add(name)
        return found

    def taken_by_hash(self, names: Iterable[str]) -> None:
        """Note files this build read nothing of but their hash, if that: what it
        made of each is the cache's record for that hash (at 10,000 drops, every
        drop's but the one edited). Saved again during the build, such a file
        still names by that hash the bytes its pages were made from, so it is
        `steady` without a look (`stat`ing 10,000 files was 0.04 s of a rebuild
        after a one-drop edit); the next build finds it changed by its stats."""
        self._by_hash.update(names)

    def all_steady(self) -> bool:
        """Whether every file is `steady` now."""
        found = self.steady()
        return all(name in found for name, path, _link in self.entries if path is not None)

    def _same_bytes(self, name: str, path: str) -> bool:
        known = self._hashes.get(name)
        try:
            with open(path, "rb") as f:
                return known is not None and file_hash(f.read()) == known
        except OSError:
            return False

    def _hash_of(self, name: str, path: str | Path) -> str | None:
        """The hash of one file's bytes (`cache.file_hash`): known this build,
        vouched for by the stats recorded with it, or read; None if unreadable."""
        found = self._hashes.get(name) or self._vouched(name)
        if found is None:
            try:
                with open(path, "rb") as f:
                    found = file_hash(f.read())
            except OSError:
                return None
        # Kept, vouched for or read: recorded again (`file_hashes`), so that the
        # next build need not read it either.
        if self._hashes.get(name) != found:
            self._hashes[name] = found
            self._kept = False
        return found

    def settled_stats(self) -> dict[str, list[int]] | None:
        """The stats, if all are old enough to vouch for the bytes next time."""
        if not all(self._settled(st) for st in self.stats.values()):
            return None
        return self.stats

    def _settled(self, st: list[int]) -> bool:
        recent = self.scanned_at - self.SETTLE_NS
        return st[1] < recent and st[2] < recent

    def recorded(self, hashes: object) -> None:
        """Take the hashes of single files that the last build recorded (`file_hashes`)."""
        if isinstance(hashes, dict):
            self._recorded = hashes

    def read_hashes(self, cache: Cache) -> None:
        """`recorded`, from the cache: files then need not be read to be known."""
        if self._read:
            return
        self._read = cache.decoded(_FILES, {_folder(name) for name in self.stats}, _entry)
        self.recorded(
            {name: known for entry in self._read.values() for name, known in entry.items()}
        )

    def keep_hashes(self, cache: Cache) -> None:
        """Store `file_hashes` in the cache, for `read_hashes` next time: a
        folder's entry only if it changed (a large site's are megabytes, and
        an edit changes one file's), the others kept as they are."""
        if self._kept:
            return  # as the last call left them: a build keeps them twice
        self._kept = True
        folders: dict[str, dict[str, list[object]]] = {}
        for name, known in self.file_hashes().items():
            folders.setdefault(_folder(name), {})[name] = known
        for folder, entry in folders.items():
            if self._read.get(folder) == entry:
                cache.keep(_FILES, [folder])
            else:
                cache.put(_FILES, folder, entry)

    def file_hash(self, name: str, *, limit: int) -> str | None:
        """The hash of one file's bytes (`cache.file_hash`), read only when its
        stats differ from those recorded with it; None if it is not among the
        files found, cannot be read, or is larger than `limit` bytes (the build
        refuses it without reading it)."""
        st = self.stats.get(name)
        if st is None or st[0] > limit:
            return None
        return self._hash_of(name, self._paths[name])

    def read_as(self, name: str, found: str) -> None:
        """Note the hash of a file's bytes as another reader read them (`cache.file_hash`),
        as if `file_hash` had read them then."""
        if name in self.stats and self._hashes.get(name) != found:
            self._hashes[name] = found
            self._kept = False

    def known_hash(self, path: Path) -> str | None:
        """The hash of the bytes of a file the build found (`path` as the site
        folder it was given, joined with the file's name), if it is known without
        reading the file: hashed already or vouched for by its stats."""
        name = self._name(path)
        return None if name is None else self._hashes.get(name) or self._vouched(name)

    def as_walked(self, path: Path) -> bool:
        """Whether a file's bytes are still those the walk found, by its stats
        (settled, so that they can vouch for its bytes)."""
        name = self._name(path)
        st = self.stats.get(name) if name is not None else None
        if st is None or not self._settled(st):
            return False
        try:
            now = os.stat(path)
        except OSError:
            return False
        return _stats(now) == st

    def _name(self, path: Path) -> str | None:
        try:
            return path.relative_to(self._site).as_posix()
        except ValueError:
            return None

    def _vouched(self, name: str) -> str | None:
        """The hash recorded with this file, if its stats are still those and settled."""
        st, hashed = self.stats.get(name), self.recorded_hash(name)
        if st is None or hashed is None or not self._settled(st):
            return None
        return hashed if self._recorded[name][:4] == st else None  # type: ignore[index]

    def recorded_hash(self, name: str) -> str | None:
        """The hash the last build recorded of a file's bytes (`read_hashes`),
        whatever it holds now."""
        known = self._recorded.get(name)
        if isinstance(known, list) and len(known) == 5 and isinstance(known[4], str):
            return known[4]
        return None

    def file_hashes(self) -> dict[str, list[object]]:
        """The hashes found this build, with their stats for files settled enough
        to vouch for them next time; with stats no file has for the others,
        whose hash is still the one this build used (`recorded_hash`: a drop
        saved just before each build, as by an editor, is compared with it)."""
        return {
            name: [*(st if self._settled(st := self.stats[name]) else _NO_STATS), found]
            for name, found in self._hashes.items()
        }

    def same_as(self, digest: object, stats: object) -> bool:
        """Whether these are the files a record describes (by stats, else by bytes)."""
        if stats is not None and stats == self.stats and isinstance(digest, str):
            self._digest = digest  # the files are those it was taken of: no need to read them
            return True
        return digest == self.digest()


_NO_STATS = [-1, -1, -1, -1]  # never a file's: vouches for nothing (`_vouched`)


def _folder(name: str) -> str:
    """The folder of a file, by its name in the site folder ("" at its top)."""
    return name.rpartition("/")[0]


def _entry(value: object) -> dict[str, object] | None:
    return value if isinstance(value, dict) else None


def build_key(site: Path, out: Path, options: tuple[object, ...]) -> str:
    return digest("build", str(site.resolve()), str(out.resolve()), repr(options))


def recall(
    cache: Cache,
    key: str,
    sources: Sources,
    listing: Callable[[], dict[str, tuple[int, int]]],
    now: datetime,
) -> Previous | None:
    """The last build's report, if its output is still exactly right at `now`
    (`listing` gives every file it holds: size, mtime)."""
    value = cache.get(KIND, key)
    if value is None:
        return None
    sources.read_hashes(cache)  # to vouch for files by stats, not read them
    try:
        # First, so that a build after a boundary passed need not read the files to hash them.
        if not sources.same_as(value["sources"], value["stats"]):
            return None
        zone = ZoneInfo(value["zone"])
        when = now if now.tzinfo is not None else localize(now, zone).instant
        since = _instant(value["since"])
        until = _instant(value["until"])
        if (since is not None and when < since) or (until is not None and when >= until):
            return None
        if value["output"] != _listing_digest(listing()):
            return None
        diagnostics = Diagnostic.from_rows(value["diagnostics"])
        files, summary = value["files"], value["summary"]
        if diagnostics is None or not (type(files) is int and isinstance(summary, str)):
            return None
        settled = sources.settled_stats()
        if settled is not None and value["stats"] != settled:
            # Recorded while a file had just changed: vouch by stats from now on,
            # so that later checks need not read every file again.
            cache.put(KIND, key, {**value, "stats": settled})
        return Previous(diagnostics, files, summary, _instant(value["next_change"]))
    except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError, TimeError):
        return None


def remember(
    cache: Cache,
    key: str,
    output: Mapping[str, tuple[int, int]],
    *,
    sources: Sources,
    zone: ZoneInfo,
    since: datetime | None,
    until: datetime | None,
    dated: bool,
    now: datetime,
    report: Previous,
) -> None:
    """Record a successful build: when its output stops being right, and what it
    holds (`output`: each file's size and mtime, as `write.finish_output` left them).

    `since` and `until` are the instants around `now` at which the published
    set changes (`publish.around`); `dated`: some helpline has a
    `last_verified`, whose age counts in local days.
    """
    if dated:
        # How old a helpline's check is depends on the local date: right for today only.
        today = now.astimezone(zone).date()
        start = datetime.combine(today, time(0), tzinfo=zone)
        end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
        since = max(since, start) if since is not None else start
        until = min(until, end) if until is not None else end
    digest = sources.digest()
    sources.keep_hashes(cache)  # with those the digest read: vouched next time
    cache.put(
        KIND,
        key,
        {
            "zone": zone.key,
            "sources": digest,
            "stats": sources.settled_stats(),
            "since": _iso(since),
            "until": _iso(until),
            "output": _listing_digest(output),
            "diagnostics": [d.as_row() for d in report.diagnostics],
            "files": report.files,
            "summary": report.summary,
            "next_change": _iso(report.next_change),
        },
    )


def _listing_digest(listing: Mapping[str, tuple[int, int]]) -> str:
    """A hash of an output's listing (each file's size and mtime), in any
    order: what the record keeps of it. At 10,000 drops the listing itself
    was 1.3 MB of JSON, read and written again by every rebuild (35 ms of one
    after a one-drop edit; hashing it takes 9)."""
    rows = [f"{rel}\0{size}\0{mtime}" for rel, (size, mtime) in sorted(listing.items())]
    return digest("output", "\n".join(rows))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _instant(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("not a time")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("not an instant")
    return parsed
