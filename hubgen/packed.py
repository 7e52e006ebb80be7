"""A drop body's HTML held compressed, for a cold build that holds every body.

A cold build parses every drop and renders every page, so each body's HTML is
kept from `validate` to the last page (`produce`): about 3 KB for each drop,
a tenth of a large site's memory at the build's peak. Held zlib-compressed it
is less than half that, and each page that shows it makes the text again for
as long as it renders (about 16 microseconds a body). To templates it is the
same safe HTML: `{{ drop.body }}` prints it, and filters that take text
(`length`, `striptags`, `truncate`) get the text.

Page fingerprints pickle it as the `Markup` it stands for (`AS_MARKUP`), so a
page's fingerprint is the same whether its body was held compressed or not;
long HTML as its hash, which a body held compressed has from when it was
packed (in the worker that parsed it): making every body's text again to
fingerprint the pages of a cold build was a fiftieth of it, in the building
process alone.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from typing import Any

from markupsafe import Markup as Html

# Fast, and within a few percent of zlib's best on a page of HTML.
_LEVEL = 1
# An 8 KB window (zlib's default is 32 KB), larger than most bodies: the same
# size held, and 96 KB less state to set up for each body. Alone, the
# default's 256 KB of state was handed back to the system after each body and
# faulted in again (20 page faults and 72 us a body; now 1.6 and 47 us); in a
# build, 72 -> 67 us and half the page faults.
_WINDOW = 13
# Safe HTML of at least this many characters is pickled for a fingerprint as its hash.
_HASHED = 1024


class HtmlStandIn:
    """What stands for safe HTML to templates without being a string: its
    `__html__` makes the text, and every other use of a string (printing,
    `length`, `striptags`, comparing, ...) is made of that text."""

    __slots__ = ()

    def __html__(self) -> Html:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.__html__()  # still safe to the filters that take text

    def __format__(self, spec: str) -> str:
        return format(self.__html__(), spec)

    def __len__(self) -> int:
        return len(self.__html__())

    def __bool__(self) -> bool:
        return len(self) > 0

    def __lt__(self, other: object) -> bool:
        return self.__html__() < text_of(other)

    def __le__(self, other: object) -> bool:
        return self.__html__() <= text_of(other)

    def __gt__(self, other: object) -> bool:
        return self.__html__() > text_of(other)

    def __ge__(self, other: object) -> bool:
        return self.__html__() >= text_of(other)

    def __contains__(self, part: str) -> bool:
        return part in self.__html__()

    def __getitem__(self, index: int | slice) -> Html:
        return self.__html__()[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self.__html__())

    def __reversed__(self) -> Iterator[str]:
        return reversed(self.__html__())

    def __add__(self, other: str) -> Html:
        return self.__html__() + other

    def __radd__(self, other: str) -> Html:
        text = self.__html__()
        return Html(other) + text if isinstance(other, Html) else other + str(text)

    def __mul__(self, count: int) -> Html:
        return self.__html__() * count

    __rmul__ = __mul__

    def __mod__(self, values: Any) -> Html:
        return self.__html__() % values

    def __getattr__(self, name: str) -> Any:
        """Every other method of `Markup` (`striptags`, `split`, ...), on the text."""
        if name.startswith("_"):  # not a slot before it is set (unpickling)
            raise AttributeError(name)
        return getattr(self.__html__(), name)


def text_of(value: object) -> object:
    """A stand-in as the HTML it stands for, to compare with; any other value as it is."""
    return value.__html__() if isinstance(value, HtmlStandIn) else value


class PackedHtml(HtmlStandIn):
    """Safe HTML, held compressed and made again each time it is shown."""

    __slots__ = ("_data", "_hash")

    def __init__(self, html: str) -> None:
        data = html.encode("utf-8", "surrogatepass")
        self._data = zlib.compress(data, _LEVEL, wbits=_WINDOW)
        self._hash = hashlib.sha256(data).digest() if len(html) >= _HASHED else None

    def __html__(self) -> Html:
        return Html(zlib.decompress(self._data).decode("utf-8", "surrogatepass"))

    def __repr__(self) -> str:
        return f"PackedHtml({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedHtml):
            return self._data == other._data or str(self) == str(other)
        return isinstance(other, str) and str(self) == other

    def __hash__(self) -> int:
        return hash(str(self))

    def __reduce__(self) -> tuple[Any, tuple[bytes, bytes | None]]:
        return _from_data, (self._data, self._hash)  # sent between processes still compressed


def _from_data(data: bytes, hashed: bytes | None) -> PackedHtml:
    packed = PackedHtml.__new__(PackedHtml)
    packed._data, packed._hash = data, hashed
    return packed


def markup_reduced(html: Html | PackedHtml) -> tuple[Any, tuple[str | bytes]]:
    """Safe HTML as a fingerprint pickles it: as its text, or long HTML as its hash."""
    if type(html) is PackedHtml and html._hash is not None:
        return _hashed_html, (html._hash,)
    text = str.__str__(html.__html__())
    if len(text) >= _HASHED:
        return _hashed_html, (hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest(),)
    return Html, (text,)


def _hashed_html(digest: bytes) -> Html:
    """What a fingerprint pickles long HTML as, with its hash: it is never unpickled."""
    raise TypeError("a fingerprint's pickle is not unpickled")


# For a pickler's `dispatch_table`: safe HTML pickled the same, held compressed or not.
AS_MARKUP = {Html: markup_reduced, PackedHtml: markup_reduced}
