"""Model records as plain JSON data, so the build cache can keep parsed content.

A drop read, parsed and validated once is kept in the cache as the record it
became; the next build decodes it instead of parsing its YAML and validating
its fields again. Only the model's own record types can come back: each value
is a list led by a tag that names one of them (or a date, a time, a tuple, or
HTML), so a cache entry of any other shape is a miss, never an object the code
did not mean to make (no pickles). HTML comes back marked safe, as a new
record holds it: a page that shows it (every drop's, after a template edit)
then takes that string itself, where a plain one would be copied into a safe
one for each drop, twice the bodies' memory in all.

A record's spans mostly point into its own file: given that `home` path, they
are kept as `["@", line, col]`, without it. A large site's records were twice
the JSON text, and twice as slow to parse, with the path written out in each.
And a body's links, all in its own file, are kept as one flat list,
`["LinkRefs", url, line, col, image, alt, ...]`: they are most of a large
site's records (58,000 links in 10,000 drops), and decoding them a list and
a span apiece was 45 % of the time the rebuild after a one-drop edit spent
decoding records (flat: 0.26 s for all of them, against 0.32 s, and 0.08 s
of JSON against 0.10 s). They come back flat too (`model.LinkRefs`), their
types checked but not made into objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from sys import intern
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from markupsafe import Markup as Html

from hubgen.diagnostics import Span
from hubgen.model import (
    Allow,
    Creator,
    Drop,
    Event,
    Image,
    Link,
    LinkRef,
    LinkRefs,
    Markup,
    Ref,
)
from hubgen.packed import PackedHtml

_RECORDS: dict[str, type] = {
    cls.__name__: cls
    for cls in (Drop, Creator, Span, Ref, Image, Link, LinkRef, Markup, Allow, Event)
}
_FIELDS = {name: tuple(f.name for f in fields(cls)) for name, cls in _RECORDS.items()}
_PLAIN = frozenset({str, bool, int, type(None)})
_SHARED_TEXT = 200  # characters: paths, slugs, titles; not bodies


class NotARecord(ValueError):
    """A cached value that `encode` did not write."""


def encode(value: object, home: str | None = None) -> Any:
    """`value` as JSON data: a record, or any tuple, date, time or text inside
    one; a span in the file `home` without its path."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is Span and value.path == home:  # type: ignore[attr-defined]
        return ["@", value.line, value.col]  # type: ignore[attr-defined]
    if kind is Html or kind is PackedHtml:  # (held compressed: the same HTML)
        return ["html", str.__str__(value.__html__())]  # type: ignore[attr-defined]
    if kind is LinkRefs:
        refs: LinkRefs = value  # type: ignore[assignment]
        if refs.home == home or not refs.flat:
            return ["LinkRefs", *refs.flat]
        return ["LinkRefsIn", refs.home, *refs.flat]  # a record of another file's
    if kind is tuple:
        items: tuple[Any, ...] = value  # type: ignore[assignment]
        return ["tuple", *(encode(item, home) for item in items)]
    if kind is datetime:
        return _encode_time(value)  # type: ignore[arg-type]
    if kind is date:
        return ["date", value.isoformat()]  # type: ignore[attr-defined]
    name = kind.__name__
    if is_dataclass(value) and _RECORDS.get(name) is kind:
        return [name, *(encode(getattr(value, f), home) for f in _FIELDS[name])]
    raise TypeError(f"cannot keep a {name} in the build cache")


def _encode_time(value: datetime) -> list[object]:
    zone = value.tzinfo
    if isinstance(zone, ZoneInfo):  # the zone's name: its rules, not one offset
        naive = value.replace(tzinfo=None).isoformat()
        return ["zoned", naive, value.fold, zone.key]
    return ["time", value.isoformat()]  # naive, or a fixed offset


def decode(data: object, home: str | None = None) -> Any:
    """What `encode` wrote, given the same `home`; raises NotARecord for anything else."""
    if type(data) is not list:
        if type(data) in _PLAIN:
            return _plain(data)
        raise NotARecord("not a value encode writes")
    if not data:
        raise NotARecord("an empty list")
    make = _MAKERS.get(data[0]) if type(data[0]) is str else None
    if make is None:
        raise NotARecord(f"not a record: {data[0]!r}")
    try:
        return make(data, home)
    except (TypeError, ValueError, KeyError, OSError) as exc:  # bad dates, unknown zones
        raise NotARecord(str(exc)) from None


def _values(data: list[Any], home: str | None) -> list[Any]:
    """The values after a record's tag. Written out, not a call per value: a
    large site's records hold hundreds of thousands."""
    return [
        x
        if (kind := type(x)) is int or x is None or kind is bool
        else (intern(x) if len(x) <= _SHARED_TEXT else x)
        if kind is str
        else ()
        if x == _EMPTY
        else decode(x, home)
        for x in data[1:]
    ]


def _record(cls: type) -> Callable[[list[Any], str | None], object]:
    size = len(_FIELDS[cls.__name__]) + 1
    setters = _setters(cls)

    def make(data: list[Any], home: str | None) -> object:
        if len(data) != size:
            raise NotARecord(f"{cls.__name__} with {len(data) - 1} fields")
        made = _new(cls)
        for put, value in zip(setters, _values(data, home), strict=True):  # see `_setters`
            put(made, value)
        return made

    return make


def _setters(cls: type) -> tuple[Callable[[object, object], None], ...]:
    """Each field's slot setter. A record is made by setting its slots, not by
    its `__init__`: a frozen dataclass's sets each field through
    `object.__setattr__`, a lookup and a call apiece, and a large site's
    records hold hundreds of thousands of them (the model's records have no
    `__post_init__`, so the two make the same object)."""
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} checks its fields: make it by its __init__")
    return tuple(getattr(cls, name).__set__ for name in _FIELDS[cls.__name__])


_new = object.__new__
_EMPTY = ["tuple"]
_SPAN_PATH, _SPAN_LINE, _SPAN_COL = _setters(Span)
R = TypeVar("R")
# Of each record type: each field's name, slot setter and getter; and the names.
_SLOTS = {
    cls: tuple(
        (field, put, getattr(cls, field).__get__)
        for field, put in zip(_FIELDS[name], _setters(cls), strict=True)
    )
    for name, cls in _RECORDS.items()
}
_NAMES = {cls: frozenset(name for name, _put, _get in slots) for cls, slots in _SLOTS.items()}


def replaced(record: R, **changes: object) -> R:
    """`dataclasses.replace(record, **changes)` for the model's records, made
    by their slots (see `_setters`): 3.0 us a drop against 5.4. A cold build
    copies each drop's record, and its body's with it, twice in the worker
    that parses it (without its text for the cache, with its HTML held
    compressed) and once more in the building process (its strings shared:
    `validate._shared`)."""
    cls = type(record)
    names = _NAMES.get(cls)
    if names is None or not changes.keys() <= names:
        raise TypeError(f"not fields of a record: {sorted(changes.keys() - (names or set()))}")
    made = _new(cls)
    for name, put, get in _SLOTS[cls]:
        put(made, changes[name] if name in changes else get(record))
    return made  # type: ignore[no-any-return]


def _span(path: str, line: int, col: int) -> Span:
    """`Span(path, line, col)`, by its slots (see `_setters`)."""
    span = _new(Span)
    _SPAN_PATH(span, path)
    _SPAN_LINE(span, line)
    _SPAN_COL(span, col)
    return span  # type: ignore[no-any-return]


def _at_home(data: list[Any], home: str | None) -> Span:
    _, line, col = data
    if home is None or type(line) is not int or type(col) is not int:
        raise NotARecord("a span in no file")
    return _span(home, line, col)


def _link_refs(data: list[Any], home: str | None) -> LinkRefs:
    """A body's links as `encode` wrote them, each value's type checked (one
    pass over each field's column)."""
    if home is None:
        if len(data) != 1:
            raise NotARecord("links in no file")
        home = ""
    return _links_in(data[1:], home)


def _link_refs_in(data: list[Any], home: str | None) -> LinkRefs:
    if len(data) < 2 or type(data[1]) is not str:
        raise NotARecord("links in no file")
    return _links_in(data[2:], _plain(data[1]))  # type: ignore[arg-type]


def _links_in(flat: list[Any], home: str) -> LinkRefs:
    if len(flat) % 5:
        raise NotARecord("a link cut short")
    # Each value's type against the pattern's, in one comparison: half the time
    # of checking each field's column.
    if tuple(map(type, flat)) != _LINK_TYPES * (len(flat) // 5):
        raise NotARecord("not a link")
    return LinkRefs(tuple(flat), home)


_LINK_TYPES = (str, int, int, bool, str)  # url, line, column, image, alt


def _zoned(data: list[Any], home: str | None) -> datetime:
    _, naive, fold, key = data
    return datetime.fromisoformat(_text(naive)).replace(tzinfo=ZoneInfo(_text(key)), fold=fold)


def _one(data: list[Any]) -> object:
    _, value = data
    return value


_MAKERS: dict[str, Callable[[list[Any], str | None], object]] = {
    **{name: _record(cls) for name, cls in _RECORDS.items()},
    "@": _at_home,
    "LinkRefs": _link_refs,
    "LinkRefsIn": _link_refs_in,
    "tuple": lambda data, home: tuple(_values(data, home)),
    "html": lambda data, home: Html(_text(_one(data))),
    "zoned": _zoned,
    "time": lambda data, home: datetime.fromisoformat(_text(_one(data))),
    "date": lambda data, home: date.fromisoformat(_text(_one(data))),
}


def _plain(value: object) -> object:
    """A plain value, short text shared: a drop's path is in every span it holds,
    a slug or zone in thousands of drops, and a large site's records are kept
    in memory for the whole build."""
    if type(value) is str and len(value) <= _SHARED_TEXT:
        return intern(value)
    return value


def _text(value: object) -> str:
    if type(value) is not str:
        raise NotARecord("not text")
    return value
