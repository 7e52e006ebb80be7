"""timeparse: dates, wall-clock times, offsets, gaps and folds."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from hubgen.timeparse import TimeError, format_local, parse_date, parse_moment, parse_now

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2023-05-01", datetime(2023, 5, 1, 4, 0, tzinfo=UTC)),
        ("2023-05-01 09:00", datetime(2023, 5, 1, 13, 0, tzinfo=UTC)),
        ("2023-05-01T09:00:30", datetime(2023, 5, 1, 13, 0, 30, tzinfo=UTC)),
        ("2023-05-01T09:00+02:00", datetime(2023, 5, 1, 7, 0, tzinfo=UTC)),
        ("2023-05-01 09:00Z", datetime(2023, 5, 1, 9, 0, tzinfo=UTC)),
        ("2023-05-01 09:00 -05:00", datetime(2023, 5, 1, 14, 0, tzinfo=UTC)),
    ],
)
def test_moments_resolve_to_the_right_instant(text: str, utc: datetime) -> None:
    assert parse_moment(text, NY).instant == utc


@pytest.mark.parametrize("text", ["2023-02-30", "May 1", "2023-05-01 9:00", "tomorrow", ""])
def test_bad_moments_are_errors(text: str) -> None:
    with pytest.raises(TimeError):
        parse_moment(text, NY)


def test_a_time_in_the_spring_gap_is_an_error_naming_the_gap() -> None:
    with pytest.raises(TimeError) as exc:
        parse_moment("2023-03-12 02:30", NY)
    assert str(exc.value) == (
        "2023-03-12 02:30 does not exist in America/New_York: that night the clocks go "
        "forward from 02:00 EST to 03:00 EDT; use 01:59 or 03:00, or give a UTC offset"
    )


def test_a_time_that_happens_twice_uses_the_first_and_says_so() -> None:
    resolved = parse_moment("2023-10-29 01:30", LONDON)
    assert resolved.ambiguous
    assert resolved.instant.astimezone(UTC) == datetime(2023, 10, 29, 0, 30, tzinfo=UTC)
    assert not parse_moment("2023-10-29 01:30+00:00", LONDON).ambiguous


def test_format_local_shows_the_utc_instant() -> None:
    value = parse_moment("2023-05-15 09:00", NY).instant
    assert format_local(value, NY) == "2023-05-15 09:00 EDT (2023-05-15 13:00 UTC)"


def test_parse_date_and_now() -> None:
    assert parse_date("2023-05-31").day == 31
    assert parse_now("2023-05-10T12:00").tzinfo is None
    assert parse_now("2023-05-10T12:00Z").tzinfo is not None
    assert parse_now("2023-05-10") == datetime(2023, 5, 10)
    with pytest.raises(TimeError):
        parse_now("next tuesday")
