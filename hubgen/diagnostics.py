"""Problems found in the author's files, as data.

Every stage appends `Diagnostic`s instead of raising, so one run reports all
of them; `format_*` turns the collected list into text for people, JSON for
tools, or GitHub annotations for pull requests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
_RULE_ID = re.compile(r"[A-Z]{2}\d{3}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True, order=True, slots=True)
class Span:
    """Where something came from: a path relative to the site, 1-based line and column."""

    path: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    span: Span
    severity: Severity
    code: str
    message: str

    def as_row(self) -> list[str | int]:
        """As plain data, for the build cache."""
        return [
            self.span.path,
            self.span.line,
            self.span.col,
            self.severity,
            self.code,
            self.message,
        ]

    @classmethod
    def from_rows(cls, rows: object) -> list[Diagnostic] | None:
        """What `as_row` wrote, or None for anything of another shape."""
        try:
            found = [
                cls(Span(path, line, col), severity, code, message)
                for path, line, col, severity, code, message in rows  # type: ignore[attr-defined]
            ]
        except (TypeError, ValueError):
            return None
        for d in found:
            texts = (d.span.path, d.code, d.message)
            if not all(isinstance(t, str) for t in texts) or d.severity not in ("error", "warning"):
                return None
            if not (type(d.span.line) is int and type(d.span.col) is int):
                return None
        return found

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.span.path, self.span.line, self.span.col, self.message)

    def format(self) -> str:
        """`path:line:col: warning: ...`, always one line; a content rule's finding names
        it (`warning[SM001]`), and control characters quoted from a file are shown escaped."""
        label = f"{self.severity}[{self.code}]" if is_rule_id(self.code) else self.severity
        message = _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], self.message)
        return f"{self.span}: {label}: {message}"


def is_rule_id(code: str) -> bool:
    """Content rules have ids like SM001 (docs/safe-messaging.md); other codes are words."""
    return _RULE_ID.fullmatch(code) is not None


class Diagnostics:
    """A collector shared by the stages of one run."""

    def __init__(self) -> None:
        self._items: list[Diagnostic] = []

    def error(self, span: Span, code: str, message: str) -> None:
        self._items.append(Diagnostic(span, "error", code, message))

    def warning(self, span: Span, code: str, message: str) -> None:
        self._items.append(Diagnostic(span, "warning", code, message))

    def extend(self, items: Iterable[Diagnostic]) -> None:
        self._items.extend(items)

    def sorted(self, *, strict: bool = False) -> list[Diagnostic]:
        """All diagnostics in file order; `strict` turns warnings into errors."""
        items = sorted(set(self._items), key=Diagnostic.sort_key)
        if strict:
            items = [Diagnostic(d.span, "error", d.code, d.message) for d in items]
        return items

    def has_errors(self, *, strict: bool = False) -> bool:
        return any(d.severity == "error" or strict for d in self._items)

    def __len__(self) -> int:
        return len(self._items)


def count_line(items: list[Diagnostic]) -> str:
    errors = sum(d.severity == "error" for d in items)
    warnings = len(items) - errors
    return f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def format_text(items: list[Diagnostic]) -> str:
    lines = [d.format() for d in items]
    return "\n".join([*lines, count_line(items)]) + "\n"


def format_json(items: list[Diagnostic]) -> str:
    """A stable schema, documented in docs/authoring.md, "Machine-readable output"."""
    records = [
        {
            "file": d.span.path,
            "line": d.span.line,
            "column": d.span.col,
            "severity": d.severity,
            "rule": d.code,
            "message": d.message,
        }
        for d in items
    ]
    errors = sum(d.severity == "error" for d in items)
    doc = {"diagnostics": records, "errors": errors, "warnings": len(items) - errors}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def format_github(items: list[Diagnostic], *, root: str = "") -> str:
    """GitHub Actions workflow commands, shown as annotations on a pull request.

    GitHub wants paths from the repository root: `root` is the site folder's
    path from there ("" when the site is the repository).
    """
    lines = []
    for d in items:
        path = f"{root.rstrip('/')}/{d.span.path}" if root else d.span.path
        props = {"file": path, "line": d.span.line, "col": d.span.col, "title": f"hubgen {d.code}"}
        where = ",".join(f"{key}={_escape_property(str(value))}" for key, value in props.items())
        lines.append(f"::{d.severity} {where}::{_escape(d.message)}")
    return "\n".join([*lines, count_line(items)]) + "\n"


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")
