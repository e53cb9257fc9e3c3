"""fulfillment.calendar: working days with holidays and make-up days; local end of day."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from fulfillment.calendar import add_working_days, end_of_day, is_working_day, local_date
from fulfillment.tests.factories import HolidayFactory

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def national_day_2026():
    """2026 National Day: 1–7 October off, Saturday 10 October a make-up working day."""
    for day in range(1, 8):
        HolidayFactory(date=D(2026, 10, day), is_working_day=False, name="National Day")
    HolidayFactory(date=D(2026, 10, 10), is_working_day=True, name="National Day (make-up)")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 9, 30), True),  # Wednesday
        (D(2026, 10, 1), False),  # holiday on a Thursday
        (D(2026, 10, 3), False),  # holiday on a Saturday
        (D(2026, 10, 8), True),
        (D(2026, 10, 10), True),  # make-up Saturday
        (D(2026, 10, 11), False),  # ordinary Sunday
        (D(2026, 10, 17), False),  # ordinary Saturday
    ],
)
def test_is_working_day(national_day_2026, day, expected):
    assert is_working_day(day) is expected


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (D(2026, 9, 30), 1, D(2026, 10, 8)),  # the whole holiday is skipped
        (D(2026, 9, 30), 3, D(2026, 10, 10)),  # 8, 9, then the make-up Saturday
        (D(2026, 10, 9), 1, D(2026, 10, 10)),
        (D(2026, 10, 10), 1, D(2026, 10, 12)),  # the order day itself never counts, even a make-up day
        (D(2026, 10, 2), 1, D(2026, 10, 8)),  # ordered on a holiday
        (D(2026, 9, 28), 0, D(2026, 9, 28)),
    ],
)
def test_add_working_days(national_day_2026, day, n, expected):
    assert add_working_days(day, n) == expected


def test_add_working_days_without_holidays_skips_weekends():
    assert add_working_days(D(2026, 11, 6), 1) == D(2026, 11, 9)  # Friday → Monday
    assert add_working_days(D(2026, 11, 7), 1) == D(2026, 11, 9)  # Saturday → Monday


def test_long_holiday_beyond_the_first_span_is_found():
    for i in range(60):
        HolidayFactory(date=D(2027, 1, 1) + datetime.timedelta(days=i), is_working_day=False, name="long")
    assert add_working_days(D(2026, 12, 31), 1) == D(2027, 3, 2)


def test_end_of_day_is_local():
    shanghai = ZoneInfo("Asia/Shanghai")
    assert end_of_day(D(2026, 10, 8)) == datetime.datetime(2026, 10, 8, 23, 59, 59, tzinfo=shanghai)
    assert end_of_day(D(2026, 10, 8), "Asia/Bangkok").utcoffset() == datetime.timedelta(hours=7)
    # 00:30 in Shanghai is still the previous day in UTC.
    assert local_date(datetime.datetime(2026, 9, 29, 16, 30, tzinfo=datetime.UTC)) == D(2026, 9, 30)
