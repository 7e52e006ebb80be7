"""Stage 6 (I/O): put the rendered site on disk, all or nothing.

The site is written into a fresh folder beside the output and swapped in only
when every file is there, so a failed build leaves the previous output as it
was. A manifest records what hubgen wrote; a folder holding anything else is
refused unless `--force`, and even then those files are carried over, never
deleted.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hubgen.errors import OutputRefused
from hubgen.render import Output

MANIFEST = ".hubgen-manifest"
SOURCE_NAMES = ("site.yaml", "campaigns", "content", "themes")


def check_output(out: Path, site: Path, *, force: bool) -> list[str]:
    """Refuse an output folder that is not ours; return the foreign files `--force` keeps."""
    out, site = out.resolve(), site.resolve()
    if out == site or out in site.parents:
        raise OutputRefused(f"refusing to write to {out}: it is (or contains) the site folder")
    for name in SOURCE_NAMES:
        source = site / name
        if out == source or source in out.parents:
            raise OutputRefused(f"refusing to write to {out}: it is inside the sources ({name})")
    _recover(out)
    if out.exists() and not out.is_dir():
        raise OutputRefused(f"refusing to write to {out}: it is a file, not a folder")
    foreign = _foreign_files(out)
    if foreign and not force:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise OutputRefused(
            f"refusing to write to {out}: it holds {len(foreign)} file(s) hubgen did not write "
            f"({shown}); choose another --out, empty it, or pass --force to keep them and "
            "write the site around them"
        )
    return foreign


def _foreign_files(out: Path) -> list[str]:
    if not out.is_dir():
        return []
    manifest = out / MANIFEST
    ours = set(manifest.read_text("utf-8").splitlines()) if manifest.is_file() else set()
    ours.add(MANIFEST)
    found = [
        p.relative_to(out).as_posix()
        for p in sorted(out.rglob("*"))
        if p.is_file() or p.is_symlink()
    ]
    return [rel for rel in found if rel not in ours]


def write_output(out: Path, output: Output, *, keep: Sequence[str] = ()) -> None:
    """Write `output` (path -> bytes or source file) as the new content of `out`."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        for rel in keep:
            if rel not in output:
                _place(staging / rel, out / rel)
        for rel, content in output.items():
            _place(staging / rel, content)
        (staging / MANIFEST).write_text("".join(f"{rel}\n" for rel in output), "utf-8")
        os.chmod(staging, 0o777 & ~_umask())
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_in(staging, out)


def _place(target: Path, content: bytes | Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, Path):
        shutil.copyfile(content, target)
    else:
        target.write_bytes(content)


def _swap_in(staging: Path, out: Path) -> None:
    if not out.exists():
        os.rename(staging, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    old.rmdir()
    os.rename(out, old)
    os.rename(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def _recover(out: Path) -> None:
    """Put back an output folder left aside by a build killed mid-swap."""
    if out.exists():
        return
    left = sorted(out.parent.glob(f".{out.name}.old-*"))
    if left:
        os.rename(left[-1], out)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
