"""When Python's cyclic garbage collector runs during a build.

A build makes hundreds of thousands of objects that live till its end (cached
drop records, the site graph, views), almost none of them in reference cycles.
The collector would go over them again and again for nothing: with Python's
defaults, a sixth of a rebuild at 10,000 drops. So during a build it runs
less often, never while records are decoded from the cache, and objects a
stage has finished making are frozen (`gc.freeze`): moved out of every
generation, never scanned again until the build ends. Freezing before workers
are forked is also what the `gc` documentation advises, so that a collection
in a worker does not write to, and so copy, the pages it shares with the
building process. Garbage still goes as soon as its last reference does;
only cycles wait, until the end of the build.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_ALLOCATIONS = 50_000  # between collections of the youngest objects (Python's default: 700)
_building = 0  # builds under way in this process (nested: `serve` tests, a check in a build)


@contextmanager
def during_build() -> Iterator[None]:
    """The collector's settings for one build; everything frozen in it is let
    go at its end (a long-running `serve` collects its cycles between builds)."""
    global _building
    before = gc.get_threshold()
    gc.set_threshold(_ALLOCATIONS, *before[1:])
    _building += 1
    try:
        yield
    finally:
        _building -= 1
        if not _building:
            gc.unfreeze()
        gc.set_threshold(*before)


def settle() -> None:
    """What exists now lives till the build ends: never scan it again (a no-op
    outside a build, so that no process keeps objects frozen)."""
    if _building:
        gc.freeze()


@contextmanager
def paused() -> Iterator[None]:
    """A block that makes many objects to keep, and no garbage in cycles or
    little: records decoded from the cache; the drops parsed (Python-Markdown
    leaves one cycle of five small objects for each body it converts). No
    collection runs during it, and what it made is settled after it: in a
    cold build at 10,000 drops, a collection of the youngest objects every
    50,000 went over every record taken in since the last, 11-31 ms each,
    0.12 s of the building process in all. The few cycles wait for the
    build's end. (Processes forked in the block start with the collector off
    too: the parse's worker, the calendars' and the feeds' writers.)"""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        # Settled first, so that no object made once the collector is on
        # again can set off a collection that goes over all of these.
        settle()
        gc.enable()
