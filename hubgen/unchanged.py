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
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hubgen.cache import Cache, digest
from hubgen.diagnostics import Diagnostic, Span
from hubgen.publish import boundaries
from hubgen.resolve import SiteGraph
from hubgen.timeparse import TimeError, localize
from hubgen.write import SOURCE_NAMES

KIND = "build"


@dataclass(frozen=True)
class Previous:
    """What the last build reported, to report again."""

    diagnostics: list[Diagnostic]
    files: int
    summary: str
    next_change: datetime | None


def sources_digest(site: Path) -> str:
    """A hash of every file a build can read in the site folder, names and bytes.

    Symlinks count as their target when it is inside the site folder (each folder
    once, so a loop ends), and as their text when it is not: a build refuses those.
    """
    h = hashlib.sha256()
    root = site.resolve()
    seen: set[Path] = set()
    for name in SOURCE_NAMES:
        _add(h, site / name, name, root, seen)
    return h.hexdigest()


def _add(h: hashlib._Hash, path: Path, rel: str, root: Path, seen: set[Path]) -> None:
    h.update(rel.encode("utf-8", "surrogateescape") + b"\0")
    real = path
    if path.is_symlink():
        h.update(b"-> " + os.fsencode(os.readlink(path)) + b"\0")
        real = path.resolve()
        if not real.is_relative_to(root):
            return
    if real.is_dir():
        if real in seen:
            return
        seen.add(real)
        for child in sorted(os.listdir(real)):
            _add(h, path / child, f"{rel}/{child}", root, seen)
    elif real.is_file():
        try:
            data = real.read_bytes()
        except OSError:
            data = b"\0unreadable"
        h.update(len(data).to_bytes(8, "little") + data)


def build_key(site: Path, out: Path, options: tuple[object, ...], sources: str) -> str:
    return digest("build", str(site.resolve()), str(out.resolve()), repr(options), sources)


def recall(cache: Cache, key: str, out: Path, now: datetime) -> Previous | None:
    """The last build's report, if its output is still exactly right at `now`."""
    value = cache.get(KIND, key)
    try:
        zone = ZoneInfo(value["zone"])
        when = now if now.tzinfo is not None else localize(now, zone).instant
        since = _instant(value["since"])
        until = _instant(value["until"])
        if (since is not None and when < since) or (until is not None and when >= until):
            return None
        if _listing(out) != {rel: tuple(st) for rel, st in value["output"].items()}:
            return None
        diagnostics = [
            Diagnostic(Span(path, line, col), severity, code, message)
            for path, line, col, severity, code, message in value["diagnostics"]
        ]
        files, summary = value["files"], value["summary"]
        if not (type(files) is int and isinstance(summary, str)):
            return None
        return Previous(diagnostics, files, summary, _instant(value["next_change"]))
    except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError, TimeError):
        return None


def remember(
    cache: Cache,
    key: str,
    out: Path,
    *,
    graph: SiteGraph,
    now: datetime,
    report: Previous,
) -> None:
    """Record a successful build: when its output stops being right, and what it holds."""
    times = [b.at for b in boundaries(graph)]
    since = max((t for t in times if t <= now), default=None)
    until = min((t for t in times if t > now), default=None)
    if any(h.last_verified for o in graph.organisations.values() for h in o.helplines):
        # How old a helpline's check is depends on the local date: right for today only.
        today = now.astimezone(graph.site.timezone).date()
        start = datetime.combine(today, time(0), tzinfo=graph.site.timezone)
        end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=graph.site.timezone)
        since = max(since, start) if since is not None else start
        until = min(until, end) if until is not None else end
    cache.put(
        KIND,
        key,
        {
            "zone": graph.site.timezone.key,
            "since": _iso(since),
            "until": _iso(until),
            "output": {rel: list(st) for rel, st in _listing(out).items()},
            "diagnostics": [
                [d.span.path, d.span.line, d.span.col, d.severity, d.code, d.message]
                for d in report.diagnostics
            ],
            "files": report.files,
            "summary": report.summary,
            "next_change": _iso(report.next_change),
        },
    )


def _listing(out: Path) -> dict[str, tuple[int, int]]:
    """Every file in the output folder with its size and modification time."""
    found = {}
    for folder, _dirs, files in os.walk(out):
        for name in files:
            path = os.path.join(folder, name)
            st = os.stat(path, follow_symlinks=False)
            found[Path(path).relative_to(out).as_posix()] = (st.st_size, st.st_mtime_ns)
    return found


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
