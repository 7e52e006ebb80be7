"""Dates and wall-clock times as authors write them, turned into instants.

A date means 00:00. A time without a UTC offset is wall-clock time in the
given zone; one with an offset is absolute. Wall-clock times that do not exist
(inside a spring-forward gap) or that happen twice (autumn) are reported, not
silently shifted: the author meant *something* and should see what.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?",
    re.IGNORECASE,
)
EXPECTED = "a date like 2023-05-01 or a date and time like 2023-05-01 09:00"
# Far from the ends of what datetime can hold, so that adding a day or moving
# to another zone never overflows; and far beyond any campaign.
YEARS = (1900, 2999)


class TimeError(ValueError):
    """The text is not a date or time; the message says why."""


@dataclass(frozen=True)
class Resolved:
    instant: datetime  # aware, in the zone it was interpreted in
    ambiguous: bool  # the wall-clock time happens twice; the first was used


def parse_date(text: str) -> date:
    text = text.strip()
    if not _DATE.fullmatch(text):
        raise TimeError(f"'{text}' is not a date; expected a date like 2023-05-01")
    try:
        value = date.fromisoformat(text)
    except ValueError as exc:
        raise TimeError(f"'{text}' is not a date: {exc}") from None
    return _in_range(value, text)


def _in_range(value: date, text: str) -> date:
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise TimeError(f"'{text}' is out of range: use a year from {YEARS[0]} to {YEARS[1]}")
    return value


def parse_moment(text: str, zone: ZoneInfo) -> Resolved:
    """Parse a date or date-time; naive values are wall-clock time in `zone`."""
    text = text.strip()
    if _DATE.fullmatch(text):
        value = datetime.combine(parse_date(text), datetime.min.time())
    elif _DATETIME.fullmatch(text):
        try:
            value = datetime.fromisoformat(re.sub(r"\s+(?=[Zz+-]\d*)", "", text))
        except ValueError as exc:
            raise TimeError(f"'{text}' is not a valid date and time: {exc}") from None
        _in_range(value, text)
    else:
        raise TimeError(f"'{text}' is not a date or time; expected {EXPECTED}")
    if value.tzinfo is not None:
        return Resolved(value, ambiguous=False)
    return localize(value, zone)


def localize(naive: datetime, zone: ZoneInfo) -> Resolved:
    """Attach `zone` to a wall-clock time, refusing times that do not exist."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return Resolved(first, ambiguous=False)
    if _round_trips(first):
        return Resolved(first, ambiguous=True)
    raise TimeError(_gap_message(naive, zone))


def _round_trips(value: datetime) -> bool:
    back = value.astimezone(UTC).astimezone(value.tzinfo)
    return back.replace(tzinfo=None, fold=0) == value.replace(tzinfo=None, fold=0)


def _gap_message(naive: datetime, zone: ZoneInfo) -> str:
    """Name the gap the time falls in and the valid times either side of it."""
    a = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    b = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = min(a, b), max(a, b)
    while high - low > timedelta(minutes=1):  # the transition lies between them
        mid = low + (high - low) / 2
        mid = mid.replace(second=0, microsecond=0)
        if mid <= low:
            break
        if mid.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
            low = mid
        else:
            high = mid
    before = low.astimezone(zone)
    after = high.astimezone(zone)
    jump = before.replace(tzinfo=None) + timedelta(minutes=1)
    return (
        f"{naive:%Y-%m-%d %H:%M} does not exist in {zone.key}: that night the clocks go "
        f"forward from {jump:%H:%M} {before:%Z} to {after:%H:%M} {after:%Z}; "
        f"use {before:%H:%M} or {after:%H:%M}, or give a UTC offset"
    )


def format_wall(value: datetime, zone: ZoneInfo) -> str:
    """'2023-05-15 09:00 EDT': an instant as the clocks in `zone` showed it."""
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M %Z}"


def format_utc(value: datetime) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def format_local(value: datetime, zone: ZoneInfo) -> str:
    """'2023-05-15 09:00 EDT (2023-05-15 13:00 UTC)': what a wall-clock time really meant."""
    if value.astimezone(zone).tzname() == "UTC":
        return format_utc(value)
    return f"{format_wall(value, zone)} ({format_utc(value)})"


def parse_now(text: str) -> datetime:
    """Parse --now: ISO 8601, with or without an offset (naive is resolved later)."""
    text = text.strip()
    try:
        if _DATE.fullmatch(text):
            return datetime.combine(parse_date(text), datetime.min.time())
        value = datetime.fromisoformat(text)
    except TimeError:
        raise
    except ValueError:
        raise TimeError(f"'{text}' is not an ISO 8601 time like 2023-05-10T12:00") from None
    _in_range(value, text)
    return value
