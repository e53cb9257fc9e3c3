"""The working-day calendar and local-day helpers (DESIGN.md, "Deadlines and rules").

Working days exclude Saturdays, Sundays and `Holiday` rows with `is_working_day=False`, and include
make-up working days (`Holiday.is_working_day=True`, usually on a weekend). Day-based deadlines end at
23:59:59 local time (the shop's time zone, default Asia/Shanghai) of the Nth day after the order day;
when counting working days the order day itself never counts.
"""

import datetime
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from core.timezones import DEFAULT_TIMEZONE, shop_zone  # noqa: F401 - DEFAULT_TIMEZONE re-exported
from fulfillment.models import Holiday

SATURDAY = 5


def holiday_overrides(start: datetime.date, end: datetime.date) -> dict[datetime.date, bool]:
    """`Holiday` rows between start and end (inclusive): date → is_working_day. One query."""
    return dict(Holiday.objects.filter(date__gte=start, date__lte=end).values_list("date", "is_working_day"))


def is_working_day(day: datetime.date, overrides: Mapping[datetime.date, bool] | None = None) -> bool:
    """Monday to Friday, unless a Holiday row says otherwise (a holiday, or a make-up working day)."""
    if overrides is None:
        overrides = holiday_overrides(day, day)
    if day in overrides:
        return overrides[day]
    return day.weekday() < SATURDAY


def add_working_days(
    day: datetime.date, n: int, overrides: Mapping[datetime.date, bool] | None = None
) -> datetime.date:
    """The Nth working day after `day` (the day itself never counts); n=0 returns `day`.

    Without `overrides` the Holiday rows of the span are read in one query (the span is widened
    and re-read in the rare case that long holidays push the answer beyond it).
    """
    if n <= 0:
        return day
    if overrides is not None:
        return _nth_working_day(day, n, overrides, limit=None)
    span = 2 * n + 30
    while True:
        found = _nth_working_day(day, n, holiday_overrides(day, day + datetime.timedelta(days=span)), limit=span)
        if found is not None:
            return found
        span *= 2


def _nth_working_day(day, n, overrides, *, limit):
    current = day
    for _step in range(limit if limit is not None else 10 * n + 366):
        current += datetime.timedelta(days=1)
        if is_working_day(current, overrides):
            n -= 1
            if n == 0:
                return current
    return None


def add_days(day: datetime.date, n: int, *, working: bool, overrides: Mapping[datetime.date, bool] | None = None):
    """The Nth calendar or working day after `day`."""
    if working:
        return add_working_days(day, n, overrides)
    return day + datetime.timedelta(days=n)


def local_date(moment: datetime.datetime, tz: str | ZoneInfo | None = None) -> datetime.date:
    """The calendar day of an aware instant in the shop's time zone."""
    return moment.astimezone(tz if isinstance(tz, ZoneInfo) else shop_zone(tz)).date()


def start_of_day(day: datetime.date, tz: str | ZoneInfo | None = None) -> datetime.datetime:
    """00:00:00 local time of `day`, as an aware datetime."""
    return datetime.datetime.combine(day, datetime.time(0, 0), tzinfo=tz if isinstance(tz, ZoneInfo) else shop_zone(tz))


def end_of_day(day: datetime.date, tz: str | ZoneInfo | None = None) -> datetime.datetime:
    """23:59:59 local time of `day`, the end of a day-based deadline."""
    return datetime.datetime.combine(
        day, datetime.time(23, 59, 59), tzinfo=tz if isinstance(tz, ZoneInfo) else shop_zone(tz)
    )


def at_local_hour(day: datetime.date, hour: int, tz: str | ZoneInfo | None = None) -> datetime.datetime:
    """`hour`:00:00 local time of `day` (delivery: 20:00 on the day after out for delivery)."""
    return datetime.datetime.combine(day, datetime.time(hour, 0), tzinfo=tz if isinstance(tz, ZoneInfo) else shop_zone(tz))
