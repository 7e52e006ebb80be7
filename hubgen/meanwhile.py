"""Files written by a forked process while the build gets on with other work.

For slow files made from plain values (the calendars): they are made where a
cold build runs in one process (between validation and the first page), and
a second CPU would be idle. Each is what `Cache.written` gives: taken from the
cache if it knows it, and kept there if not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hubgen import workers
from hubgen.cache import Cache, CachedFile, Writing


class Meanwhile:
    """Files as `Cache.written` gives them (output path -> what `written` is
    given), the ones the cache does not know written by a forked process
    (`workers.Pending`) if `jobs` allows a second process, here otherwise;
    `then(out, data)` is worked out where each is written (`then`)."""

    def __init__(
        self,
        cache: Cache,
        files: dict[str, Writing],
        *,
        jobs: int,
        then: Callable[[str, bytes], Any] | None = None,
    ) -> None:
        self._cache = cache
        self._keys = {
            out: (kind, cache.written_key(kind, parts)) for out, (kind, parts, _w) in files.items()
        }
        self._known = {out: cache.stored_file(kind, key) for out, (kind, key) in self._keys.items()}
        self._writes = [(out, files[out][2]) for out, file in self._known.items() if file is None]
        self._then = then
        self._made: workers.Pending[list[tuple[bytes, Any]]] | None = None
        if self._writes and jobs > 1:
            self._made = workers.Pending(self._write_all)
        self._after: dict[str, Any] = {}

    def _write_all(self) -> list[tuple[bytes, Any]]:
        done = []
        for out, write in self._writes:
            data = write()
            done.append((data, self._then(out, data) if self._then is not None else None))
        return done

    def files(self) -> dict[str, CachedFile]:
        """Each file, those made now kept in the cache."""
        made = iter(self._made.result() if self._made is not None else self._write_all())
        files = {}
        for out, file in self._known.items():
            if file is None:
                data, self._after[out] = next(made)
                kind, key = self._keys[out]
                self._cache.write(kind, key, data.decode("utf-8"))
                file = CachedFile(kind, key, data)
            files[out] = file
        return files

    def then(self) -> dict[str, Any]:
        """`then(out, data)` for each file this build wrote (after `files`)."""
        return dict(self._after)

    def close(self) -> None:
        """End the process writing them (done, or no longer wanted: a build that failed)."""
        if self._made is not None:
            self._made.close()
