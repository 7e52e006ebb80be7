"""Stage 6 (I/O): put the rendered site on disk, all or nothing.

The site is written into a fresh folder beside the output and swapped in only
when every file is there, so a failed or killed build leaves the previous
output as it was. On Linux the swap is one atomic exchange of the two folders
(renameat2 with RENAME_EXCHANGE), so there is no instant without an output;
elsewhere it is two renames, and a build killed between them is repaired by
the next one (`_recover`). A lock beside the output keeps two builds of one
output from interleaving. A manifest records what hubgen wrote; a folder
holding anything else is refused unless `--force`, and even then those files
are carried over, never deleted.
"""

from __future__ import annotations

import ctypes
import errno
import filecmp
import functools
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hubgen.errors import OutputRefused

try:
    import fcntl
except ImportError:  # Windows: no flock; builds are not locked there
    fcntl = None  # type: ignore[assignment]

MANIFEST = ".hubgen-manifest"
SOURCE_NAMES = ("site.yaml", "campaigns", "content", "themes")


@dataclass(frozen=True)
class Claim:
    """An output folder held for one build, as it was when claimed."""

    keep: list[str]  # the foreign files `--force` keeps
    listing: dict[str, os.stat_result]  # every file in it, by relative path


@contextmanager
def claim_output(out: Path, site: Path, *, force: bool) -> Iterator[Claim]:
    """Hold `out` for one build: refuse it if it is not ours, and lock it meanwhile.

    A second build of the same output fails at once (exit 2) while the first
    holds the lock.
    """
    out, site = out.resolve(), site.resolve()
    _refuse_sources(out, site)
    with _locked(out):
        _recover(out)
        listing = output_files(out) if out.is_dir() else {}
        yield Claim(_check_foreign(out, listing, force=force), listing)


def _refuse_sources(out: Path, site: Path) -> None:
    if out == site or out in site.parents:
        raise OutputRefused(f"refusing to write to {out}: it is (or contains) the site folder")
    for name in SOURCE_NAMES:
        source = site / name
        if out == source or source in out.parents:
            raise OutputRefused(f"refusing to write to {out}: it is inside the sources ({name})")
    if out.exists() and not out.is_dir():
        raise OutputRefused(f"refusing to write to {out}: it is a file, not a folder")


def _check_foreign(out: Path, listing: dict[str, os.stat_result], *, force: bool) -> list[str]:
    foreign = _foreign_files(out, listing)
    if foreign and not force:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise OutputRefused(
            f"refusing to write to {out}: it holds {len(foreign)} file(s) hubgen did not write "
            f"({shown}); choose another --out, empty it, or pass --force to keep them and "
            "write the site around them"
        )
    return foreign


def _foreign_files(out: Path, listing: dict[str, os.stat_result]) -> list[str]:
    manifest = out / MANIFEST
    ours = set(manifest.read_text("utf-8").splitlines()) if manifest.is_file() else set()
    ours.add(MANIFEST)
    return sorted(rel for rel in listing if rel not in ours)


def output_files(out: Path) -> dict[str, os.stat_result]:
    """Every file (or symlink) under `out`, by relative path, with its own lstat."""
    found: dict[str, os.stat_result] = {}
    todo = [(str(out), "")]
    while todo:
        folder, prefix = todo.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    todo.append((entry.path, prefix + entry.name + "/"))
                else:
                    found[prefix + entry.name] = entry.stat(follow_symlinks=False)
    return found


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    """An exclusive flock on `.<out>.lock` beside the output, removed when done."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    lock = out.parent / f".{out.name}.lock"
    fd = _acquire(lock, out)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)  # while still holding it: see _acquire
        os.close(fd)


def _acquire(lock: Path, out: Path) -> int:
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise OutputRefused(
                f"another hubgen build (process {holder}) is writing to {out}; wait for it "
                f"to finish, or build into another --out (lock: {lock})"
            ) from None
        # The holder before us removes the lock file when it is done; if it did
        # so while we waited, we hold a lock nobody else can see: take a new one.
        try:
            current = os.stat(lock)
        except FileNotFoundError:
            current = None
        mine = os.fstat(fd)
        if current is not None and (current.st_dev, current.st_ino) == (mine.st_dev, mine.st_ino):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)


@contextmanager
def staging_for(out: Path) -> Iterator[Path]:
    """A fresh folder beside `out` for the new output; removed if the build fails."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def finish_output(out: Path, staging: Path, files: Sequence[str], *, keep: Sequence[str]) -> None:
    """Complete the new output (foreign files carried over, the manifest) and swap it in."""
    out = out.resolve()
    written = set(files)
    for rel in keep:
        if rel not in written:
            _keep(out / rel, staging / rel)
    manifest = "".join(f"{rel}\n" for rel in files).encode("utf-8")
    place(staging / MANIFEST, manifest, previous=out / MANIFEST)
    os.chmod(staging, 0o777 & ~_umask())
    _swap_in(staging, out)


def place(target: Path, content: bytes | Path, *, previous: Path) -> None:
    """Write one file; one whose bytes did not change is the previous file itself.

    Re-using the previous file (a hard link, else a copy keeping its times) keeps
    its modification time, so hosts and deploy tools that sync by mtime upload
    only what changed.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if _unchanged(content, previous):
        try:
            os.link(previous, target)
        except OSError:
            shutil.copy2(previous, target)
    elif isinstance(content, Path):
        shutil.copyfile(content, target)
    else:
        target.write_bytes(content)


def _unchanged(content: bytes | Path, previous: Path) -> bool:
    if previous.is_symlink() or not previous.is_file():
        return False
    size = content.stat().st_size if isinstance(content, Path) else len(content)
    if previous.stat().st_size != size:
        return False
    if isinstance(content, Path):
        return filecmp.cmp(content, previous, shallow=False)
    return previous.read_bytes() == content


def _keep(source: Path, target: Path) -> None:
    """Carry a foreign file over as it is: a symlink stays a link, never its target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target, follow_symlinks=False)


def _swap_in(staging: Path, out: Path) -> None:
    if not out.exists():
        os.rename(staging, out)
        return
    if _exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)  # it now holds the previous output
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    old.rmdir()
    os.rename(out, old)
    os.rename(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def _recover(out: Path) -> None:
    """Repair what a killed build left beside the output; called under the lock.

    A build killed between the two renames of the fallback swap leaves the
    previous output aside as `.<out>.old-*`: put it back. Any other staging
    folder of ours (`.<out>.new-*`, `.<out>.old-*`) is then a leftover.
    """
    leftovers = _leftovers(out)
    if not out.exists():
        old = [p for p in leftovers if ".old-" in p.name]
        if old:
            os.rename(old[-1], out)
            leftovers.remove(old[-1])
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)


def _leftovers(out: Path) -> list[Path]:
    """Folders hubgen made beside `out`: `.<out>.new-XXXXXXXX` or `.<out>.old-XXXXXXXX`."""
    pattern = re.compile(re.escape(f".{out.name}.") + r"(new|old)-[a-z0-9_]{8}")
    return sorted(
        p
        for p in out.parent.iterdir()
        if pattern.fullmatch(p.name) and p.is_dir() and not p.is_symlink()
    )


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically; False where the system cannot (then: two renames)."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # an old kernel, or a file system without exchange
    raise OSError(err, os.strerror(err), str(b))


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a libc without it (glibc < 2.28)
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
