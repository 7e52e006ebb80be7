"""A drop's body as its view holds it: the same safe HTML to templates, but
noting when the page being rendered reads it.

A list page (a campaign's hub, a topic's page) holds the views of hundreds of
drops, each with its body, which the default theme's lists never show. A
page's fingerprint covered everything its context holds (`produce`), so an
edit of one drop's text made every list showing that drop again, to the same
bytes: three pages, a twentieth of a rebuild after a one-drop edit at 10,000
drops. Now rendering a page notes whether it read any body (`start`, `read`).
One that read none is kept under a fingerprint that leaves the bodies out, and
is the same page whatever they say, as long as all else it holds is the same:
a template given the same values takes the same path, and again reads no body.

That holds only if every way a template can learn something of a body is
noted. A body is not a string here (C code could read a string's text without
asking it), so a template learns of it only by asking: printing it, its
length, comparing or hashing it, iterating it, any of its attributes or
methods (`__getattribute__` notes every look, even at its slot). Each of
those is a method of this class, or of `packed.HtmlStandIn`, which makes
every use of a string of the text `__html__` gives, and `__html__` notes it.
"""

from __future__ import annotations

import threading
from typing import Any

from markupsafe import Markup as Html

from hubgen.packed import HtmlStandIn, PackedHtml, text_of

_noted = threading.local()  # .read: whether the page rendered in this thread read a body


def start() -> None:
    """Note from now whether a body is read (`read` says): before each page."""
    _noted.read = False


def read() -> bool:
    """Whether a body was read since `start` (in this thread); True if never started."""
    return bool(getattr(_noted, "read", True))


def _note() -> None:
    _noted.read = True


class Body(HtmlStandIn):
    """A drop's body HTML (held compressed or not), noting each look at it:
    its own methods note it, and those of `HtmlStandIn` ask `__html__`."""

    __slots__ = ("_html",)

    def __init__(self, html: Html | PackedHtml) -> None:
        _set_html(self, html)

    def __getattribute__(self, name: str) -> Any:
        _note()
        return object.__getattribute__(self, name)

    def __html__(self) -> Html:
        _note()
        return _html_of(self).__html__()  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"Body({str(self)!r})"

    def __eq__(self, other: object) -> bool:  # `!=` too: Python makes it of this
        return self.__html__() == text_of(other)

    def __hash__(self) -> int:
        return hash(self.__html__())

    def __reduce__(self) -> tuple[Any, tuple[Html | PackedHtml]]:
        return Body, (_html_of(self),)


_slot = Body.__dict__["_html"]  # read and set without a note: for this module and `unwrap`
_html_of = _slot.__get__
_set_html = _slot.__set__


def unwrap(body: Body) -> Html | PackedHtml:
    """The HTML a body holds, not noted as read (for fingerprints)."""
    return _html_of(body)  # type: ignore[no-any-return]
