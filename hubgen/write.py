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
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from hubgen import workers
from hubgen.errors import OutputRefused

try:
    import fcntl
except ImportError:  # Windows: no flock; builds are not locked there
    fcntl = None  # type: ignore[assignment]

MANIFEST = ".hubgen-manifest"
SOURCE_NAMES = ("site.yaml", "campaigns", "content", "themes")


class Claim:
    """An output folder held for one build.

    What it holds is listed by another process while the build reads the
    site (`_Survey`), so whether it holds files hubgen did not write is known by
    `confirm`, which the build calls before it writes anything, and before it
    reports content errors (a refused output is told first, as when it was
    checked at once). With `--force`, the files it keeps are needed at once.
    """

    def __init__(self, out: Path, survey: _Survey, *, force: bool) -> None:
        self.out, self.survey, self.force = out, survey, force
        self._foreign: list[str] | None = None
        self.keep: list[str] = self.confirm() if force else []  # the foreign files kept

    def confirm(self) -> list[str]:
        """The foreign files `--force` keeps; without it, refuse the output if
        it holds any."""
        if self._foreign is None:
            self._foreign = _check_foreign(self.out, list(self.survey.files()), force=self.force)
        return self._foreign

    def listing(self) -> dict[str, tuple[int, int]]:
        """Every file in it, by relative path: size, mtime (ns), as found under
        the lock, before anything was written."""
        return {rel: (size, mtime) for rel, (size, mtime, _inode) in self.survey.files().items()}

    def files(self) -> Mapping[str, Listed]:
        """Every file in it, by relative path: size, mtime (ns) and inode (-1:
        not a plain file), as found under the lock, before anything was written."""
        return self.survey.files()


@contextmanager
def claim_output(out: Path, site: Path, *, force: bool, spare: bool = False) -> Iterator[Claim]:
    """Hold `out` for one build: refuse it if it is not ours, and lock it meanwhile.

    A second build of the same output fails at once (exit 2) while the first
    holds the lock. With `spare`, the spare beside it is surveyed too, for
    `staging_for`.
    """
    out, site = out.resolve(), site.resolve()
    _refuse_sources(out, site)
    with _locked(out):
        _recover(out)
        survey = _Survey(out, spare_of(out) if spare else None)
        try:
            yield Claim(out, survey, force=force)
        finally:
            survey.stop()


class _Survey:
    """The output's files (size and mtime) and the spare's (by inode), listed
    by a forked process while the build reads the site.

    Walking a large site's thousands of page folders is mostly waiting on the
    system: done in turn, the two walks were 0.1 to 0.4 s of a one-drop
    rebuild at 10,000 drops, while the second CPU had nothing to do. (A thread
    would not do: each of its system calls hands the interpreter's lock back
    and forth with the build, which cost more than the walks.)
    """

    def __init__(self, out: Path, spare: Path | None) -> None:
        self.spare = spare
        # Nothing to walk (a first build): no process forked for it, which
        # also made the building process fault again on each page it wrote.
        walks = out.is_dir() or (spare is not None and spare.is_dir())
        self._pending = workers.Pending(functools.partial(_survey, out, spare), fork=walks)

    def files(self) -> dict[str, Listed]:
        return self._pending.result()[0]

    def spare_inodes(self) -> dict[str, int] | None:
        """The spare's files by inode; None if it holds anything but plain
        files and folders, or was not surveyed."""
        return self._pending.result()[1]

    def stop(self) -> None:
        self._pending.close()


Listed = tuple[int, int, int]  # a file's size, mtime (ns) and inode (-1: not a plain file)


def _survey(out: Path, spare: Path | None) -> tuple[dict[str, Listed], dict[str, int] | None]:
    """What `_Survey` gives, worked out in the process it forks."""
    files = {}
    if out.is_dir():
        for rel, entry in _walk(out):
            st = entry.stat(follow_symlinks=False)
            files[rel] = (*size_and_time(st), st.st_ino if stat.S_ISREG(st.st_mode) else -1)
    inodes = None
    if spare is not None and spare.is_dir() and not spare.is_symlink():
        inodes = _spare_inodes(spare)
    return files, inodes


def _refuse_sources(out: Path, site: Path) -> None:
    if out == site or out in site.parents:
        raise OutputRefused(f"refusing to write to {out}: it is (or contains) the site folder")
    for name in SOURCE_NAMES:
        source = site / name
        if out == source or source in out.parents:
            raise OutputRefused(f"refusing to write to {out}: it is inside the sources ({name})")
    if out.exists() and not out.is_dir():
        raise OutputRefused(f"refusing to write to {out}: it is a file, not a folder")


def _check_foreign(out: Path, names: list[str], *, force: bool) -> list[str]:
    foreign = _foreign_files(out, names)
    if foreign and not force:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise OutputRefused(
            f"refusing to write to {out}: it holds {len(foreign)} file(s) hubgen did not write "
            f"({shown}); choose another --out, empty it, or pass --force to keep them and "
            "write the site around them"
        )
    return foreign


def _foreign_files(out: Path, names: list[str]) -> list[str]:
    manifest = out / MANIFEST
    ours = set(manifest.read_text("utf-8").splitlines()) if manifest.is_file() else set()
    ours.add(MANIFEST)
    return sorted(rel for rel in names if rel not in ours)


def _walk(out: Path) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Every file (or symlink: anything but a folder) under `out`, by relative
    path. Its entry tells its kind and inode without a stat (from the folder's
    listing); `stat(follow_symlinks=False)` costs one."""
    todo = [(str(out), "")]
    while todo:
        folder, prefix = todo.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    todo.append((entry.path, prefix + entry.name + "/"))
                else:
                    yield prefix + entry.name, entry


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


@dataclass
class Staging:
    """The folder a build assembles its output in before the swap.

    Either a fresh, empty folder, or the spare: the output before the last,
    which the last swap left beside the output (`.<out>.spare`). Most of its
    files are hard links to the current output's, so bringing it up to date
    costs only the files that changed, not a link per file. A file already
    there is never written through (it may be the very inode the live output
    shows): it is removed first and a new one made in its place.
    """

    root: Path
    inodes: dict[str, int]  # files already in `root` -> inode; empty for a fresh folder
    spare: bool
    device: int  # of `root`: inodes are per device
    # Each file put in place by this process -> its size and mtime (ns), as the
    # output will hold it: so the build's record need not list the output again.
    placed: dict[str, tuple[int, int]] = field(default_factory=dict)
    # The claim on the output, confirmed before anything is written; if it
    # surveyed this very folder (the spare), its files are taken then too.
    claim: Claim | None = None
    # Or the spare, being made from the output by a forked process (`_made_spare`).
    making: workers.Pending[dict[str, int] | None] | None = None

    def ready(self) -> None:
        """Confirm the claim and take the survey's inodes (or the made spare's);
        done by the first write (`keep_only`, which `produce` and
        `finish_output` call first)."""
        claim = self.claim
        if claim is None:
            return
        claim.confirm()  # refused: nothing is written, and the build stops here
        self.claim = None
        if self.making is not None:
            made, self.making = self.making.result(), None
            if made is None:  # not made (see `_made_spare`): a fresh folder
                shutil.rmtree(self.root, ignore_errors=True)
                self.root.mkdir()
            self.inodes = made or {}
        elif claim.survey.spare == self.root:
            inodes = claim.survey.spare_inodes()
            if inodes is None:  # unsound: emptied, then a fresh folder
                shutil.rmtree(self.root)
                self.root.mkdir()
            self.inodes = inodes or {}

    def keep_only(self, wanted: set[str]) -> None:
        """Remove the files (and then emptied folders) that the new output does not have."""
        self.ready()
        folders: set[str] = set()
        for rel in [rel for rel in self.inodes if rel not in wanted]:
            os.unlink(self.root / rel)
            del self.inodes[rel]
            parent = rel.rpartition("/")[0]
            while parent:
                folders.add(parent)
                parent = parent.rpartition("/")[0]
        for folder in sorted(folders, key=lambda f: f.count("/"), reverse=True):  # deepest first
            try:
                os.rmdir(self.root / folder)
            except OSError:
                pass  # still holds files

    def adopt(self, rel: str, previous: str | Path, st: os.stat_result) -> None:
        """Make the previous output's file (`st` its lstat) the new one at `rel`:
        nothing to do if the spare already has that very inode, else a hard link
        (a copy keeping its times where links cannot be made)."""
        self.adopt_listed(rel, previous, size_and_time(st), st.st_ino, st.st_dev)

    def adopt_listed(
        self, rel: str, previous: str | Path, placed: tuple[int, int], inode: int, device: int
    ) -> None:
        """`adopt`, given the file's size and mtime, inode and device."""
        self.ready()
        self.placed[rel] = placed
        if self.inodes.get(rel) == inode and self.device == device:
            return
        target = self.clear(rel)
        try:
            os.link(previous, target)
        except OSError:
            shutil.copy2(previous, target)

    def clear(self, rel: str) -> Path:
        """The path for a new file at `rel`: its folder made, anything there removed."""
        return Path(self._clear(rel))

    def _clear(self, rel: str) -> str:
        """`clear`, as a string: made for every page, with os calls rather than
        pathlib's (see `write`)."""
        self.ready()
        target = os.path.join(self.root, rel)
        if self.inodes.pop(rel, None) is not None:
            os.unlink(target)
            return target
        folder = os.path.dirname(target)
        try:
            os.mkdir(folder)
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)
        except FileExistsError:
            pass  # made for another file (were it a file, making this one fails)
        if self.spare and os.path.isdir(target):  # an empty folder a killed build left
            shutil.rmtree(target)
        return target

    def write(self, rel: str, data: bytes) -> tuple[int, int]:
        """A new file at `rel` holding `data` (see `clear`); its size and mtime
        (`size_and_time`). Written with os calls: through pathlib and `open`
        (a file object, a look at whether it is a terminal, a stat after),
        placing a file took 41.7 us on tmpfs, now 30.9 (on disk, the file
        system's own 200 us or more come on top either way)."""
        fd = os.open(self._clear(rel), _NEW_FILE, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            return size_and_time(os.fstat(fd))
        finally:
            os.close(fd)


@dataclass(frozen=True)
class Surveyed:
    """A spare folder found sound, with its files by inode (`survey`): true
    until something writes into it, which only the build it is given to may."""

    folder: Path
    inodes: dict[str, int]


def survey(spare: Path) -> Surveyed | None:
    """`spare` and its files, if it is sound (see `_sound_spare`; if not, it is
    removed). `serve` surveys its next build's folder while nothing happens:
    walking a site's thousand page folders is a twentieth of a rebuild."""
    inodes = _sound_spare(spare)
    return None if inodes is None else Surveyed(spare, inodes)


@contextmanager
def staging_for(
    out: Path,
    *,
    spare: bool = True,
    reuse: Path | Surveyed | None = None,
    claim: Claim | None = None,
) -> Iterator[Staging]:
    """A folder for the new output: `reuse` (an earlier output that nothing
    reads any more, perhaps surveyed already) or else the spare beside `out`
    (if `spare`), when it is sound; else a fresh folder beside `out`, removed
    if the build fails. The `claim` on `out` is confirmed before the first
    write; if it surveyed the spare, the spare's files are taken then."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    if reuse is None and spare and out.is_dir():
        reuse = spare_of(out)
        if claim is not None and claim.survey.spare == reuse:
            # kept as it is if the build fails: still a sound spare, by inode
            if _spare_folder(reuse):
                device = reuse.stat().st_dev
                yield Staging(reuse, {}, spare=True, device=device, claim=claim)
                return
            # None yet (the first build after a cold one): made while the site is read.
            making = workers.Pending(functools.partial(_made_spare, out, reuse))
            try:
                device = out.parent.stat().st_dev
                yield Staging(reuse, {}, spare=True, device=device, claim=claim, making=making)
            finally:
                making.close()  # the build failed before its first write: as far as it got
            return
    if isinstance(reuse, Surveyed) and reuse.folder.is_dir() and not reuse.folder.is_symlink():
        reuse, inodes = reuse.folder, dict(reuse.inodes)
    else:
        reuse = reuse.folder if isinstance(reuse, Surveyed) else reuse
        inodes = _sound_spare(reuse) if reuse is not None else None
    if reuse is not None and inodes is not None:
        # kept as it is if the build fails: still a sound spare, by inode
        yield Staging(reuse, inodes, spare=True, device=reuse.stat().st_dev, claim=claim)
        return
    fresh = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        yield Staging(fresh, {}, spare=False, device=fresh.stat().st_dev, claim=claim)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def spare_of(out: Path) -> Path:
    """The spare folder kept beside the output `out`: the output before the
    last, which the next build assembles its own in (`.public.spare` beside
    `public/`, docs/publishing.md)."""
    return out.parent / f".{out.name}.spare"


def _sound_spare(spare: Path) -> dict[str, int] | None:
    """The files of the spare folder by inode, if it is sound (else it is
    removed and not used)."""
    if not _spare_folder(spare):
        return None
    inodes = _spare_inodes(spare)
    if inodes is None:
        shutil.rmtree(spare, ignore_errors=True)
    return inodes


def _spare_folder(spare: Path) -> bool:
    """Whether `spare` is a folder; anything else there is removed."""
    if spare.is_symlink() or not spare.is_dir():
        if spare.is_symlink() or spare.exists():
            spare.unlink()
        return False
    return True


def _made_spare(out: Path, spare: Path) -> dict[str, int] | None:
    """A spare for an output that has none (the first build after a cold one):
    each file of the output hard-linked into it, so that the build, like any
    other, writes only the files that changed. Linking them one by one while
    pages were written was most of that build at 10,000 drops (0.4 to 2 s, on
    a file system still writing out the cold build's files); a forked process
    links them while the build reads the site. Its files by inode; None, and
    no spare, if the output holds anything hubgen did not write (a build
    refused for it must leave nothing behind) or a link cannot be made (an
    output on a file system of its own: a fresh folder, then)."""
    try:
        listed = [(rel, entry) for rel, entry in _walk(out) if rel != MANIFEST]
        if _foreign_files(out, [rel for rel, _entry in listed]):  # as the claim judges them
            return None
    except (OSError, UnicodeDecodeError):
        return None
    if not all(entry.is_file(follow_symlinks=False) for _rel, entry in listed):
        return None
    try:
        spare.mkdir()
    except OSError:  # there after all: the build starts it afresh (`Staging.ready`)
        return None
    inodes: dict[str, int] = {}
    root = os.fspath(spare)
    made = {""}  # the spare's folders, by relative path
    try:
        # With os calls and plain strings: through pathlib and os.makedirs
        # (which first looks whether each parent is there), making the spare of
        # an output of 10,000 drops took 0.54 to 0.60 s (0.14 to 0.17 s of it
        # in user time), now 0.41 to 0.51 s (0.05 to 0.07 s).
        for rel, entry in listed:
            folder = rel.rpartition("/")[0]
            if folder not in made:
                _make_folder(root, folder, made)
            os.link(entry.path, f"{root}/{rel}", follow_symlinks=False)
            inodes[rel] = entry.inode()
    except OSError:
        shutil.rmtree(spare, ignore_errors=True)
        return None
    return inodes


def _make_folder(root: str, folder: str, made: set[str]) -> None:
    """Make `folder` under `root`, and first those of its parents not in `made`."""
    parent = folder.rpartition("/")[0]
    if parent not in made:
        _make_folder(root, parent, made)
    os.mkdir(f"{root}/{folder}")
    made.add(folder)


def _spare_inodes(spare: Path) -> dict[str, int] | None:
    """The files of the spare folder by inode, if it holds only plain files and
    folders (anything else, such as a symlink, could lead writes elsewhere)."""
    inodes: dict[str, int] = {}
    for rel, entry in _walk(spare):
        if not entry.is_file(follow_symlinks=False):
            return None
        inodes[rel] = entry.inode()
    return inodes


def finish_output(
    out: Path, staging: Staging, files: Sequence[str], *, keep: Sequence[str]
) -> dict[str, tuple[int, int]]:
    """Complete the new output (foreign files carried over, the manifest) and swap it in.

    The previous output is then the spare, for the next build to bring up to
    date. Returns every file of the new output with its size and mtime (ns),
    as `staging.placed` knows them (pages rendered by worker processes are
    added there by `produce`).
    """
    out = out.resolve()
    written = set(files)
    final = written | set(keep) | {MANIFEST}
    staging.keep_only(final)
    for rel in keep:
        if rel not in written:
            target = staging.clear(rel)
            _keep(out / rel, target)
            staging.placed[rel] = size_and_time(os.stat(target, follow_symlinks=False))
    manifest = "".join(f"{rel}\n" for rel in files).encode("utf-8")
    place(staging, MANIFEST, manifest, previous=out / MANIFEST)
    listing = {rel: staging.placed[rel] for rel in sorted(final)}
    os.chmod(staging.root, 0o777 & ~_umask())
    _swap_in(staging, out)
    return listing


class Placed(NamedTuple):
    """A file put in place: its size and mtime (ns), as `Staging.placed`
    records them, and whether it is the previous file itself."""

    size: int
    mtime: int
    kept: bool


def place(staging: Staging, rel: str, content: bytes | Path, *, previous: Path) -> Placed:
    """Write one file; one whose bytes did not change is the previous file itself.

    Re-using the previous file (a hard link, else a copy keeping its times) keeps
    its modification time, so hosts and deploy tools that sync by mtime upload
    only what changed.
    """
    same = _unchanged(content, previous)
    if same is not None:
        staging.adopt(rel, previous, same)
    elif isinstance(content, Path):
        target = staging.clear(rel)
        shutil.copyfile(content, target)
        staging.placed[rel] = size_and_time(os.stat(target, follow_symlinks=False))
    else:
        staging.placed[rel] = staging.write(rel, content)
    return Placed(*staging.placed[rel], same is not None)


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)  # not inherited


def size_and_time(st: os.stat_result) -> tuple[int, int]:
    """What a build records of each output file: a rewritten file changes either."""
    return st.st_size, st.st_mtime_ns


def _unchanged(content: bytes | Path, previous: Path) -> os.stat_result | None:
    """The previous file's stat if it holds exactly `content`, else None."""
    try:
        st = os.stat(previous, follow_symlinks=False)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    size = content.stat().st_size if isinstance(content, Path) else len(content)
    if st.st_size != size:
        return None
    if isinstance(content, Path):
        return st if filecmp.cmp(content, previous, shallow=False) else None
    return st if previous.read_bytes() == content else None


def _keep(source: Path, target: Path) -> None:
    """Carry a foreign file over as it is: a symlink stays a link, never its target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target, follow_symlinks=False)


def _swap_in(staging: Staging, out: Path) -> None:
    if not out.exists():
        os.rename(staging.root, out)
        return
    if _exchange(staging.root, out):
        if not staging.spare:  # a fresh folder, now holding the previous output
            spare = spare_of(out)
            shutil.rmtree(spare, ignore_errors=True)  # unsound, or left by a killed build
            os.rename(staging.root, spare)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    old.rmdir()
    os.rename(out, old)
    os.rename(staging.root, out)
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
