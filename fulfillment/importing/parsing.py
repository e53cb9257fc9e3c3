"""Row validation: `RowError` for a rejected row, `ImportRefused` for a refused file, and the parsers
that turn a CSV cell into a typed value or raise `RowError(field, message)`.

Times without an offset are in Asia/Shanghai (the platforms' exports); every message is translatable.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

SHANGHAI = ZoneInfo("Asia/Shanghai")


class RowError(ValueError):
    """A rejected row: `field` names the column at fault, `message` says what is wrong with it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = str(message)


class ImportRefused(CommandError):
    """The whole file is refused before anything is written (missing columns, unreadable bytes)."""

    def __init__(self, message: str):
        super().__init__(message, returncode=2)


# DESIGN.md "Bounds on input": a fact (payment, shipping, event, pickup, ticket) lies between
# 2000-01-01 and one day after the moment of import; calendar data lies in 2000–2100. Outside them a
# deadline could overflow a database timestamp.
EARLIEST_FACT = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
FACT_HORIZON = datetime.timedelta(days=1)
CALENDAR_YEARS = (2000, 2100)


def parse_time(value: str, field: str = "") -> datetime.datetime:
    """ISO 8601 date and time -> aware datetime; without an offset the time is in Asia/Shanghai.

    `Z` and `+08:00`-style offsets are honoured. A date alone, an impossible date (Feb 30), a time
    before 2000-01-01 or more than a day after now, or anything else raises `RowError(field, ...)`.
    """
    value = (value or "").strip()
    if not value:
        raise RowError(field, _("a date and time is required"))
    if len(value) <= 10:
        raise RowError(field, _("“%(value)s” has no time of day (expected e.g. 2026-05-01 14:30)") % {"value": value})
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise RowError(
            field, _("“%(value)s” is not a valid ISO 8601 date and time") % {"value": value[:40]}
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    try:
        utc = moment.astimezone(datetime.UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00:00-05:00 is past the year 9999 in UTC
        utc = None
    if utc is None or utc < EARLIEST_FACT:
        raise RowError(field, _("“%(value)s” is before 2000-01-01: check the date") % {"value": value[:40]})
    if utc > timezone.now() + FACT_HORIZON:
        raise RowError(field, _("“%(value)s” is more than a day in the future: check the date") % {"value": value[:40]})
    return moment


def parse_optional_time(value: str, field: str = "") -> datetime.datetime | None:
    return parse_time(value, field) if (value or "").strip() else None


def parse_date(value: str, field: str = "") -> datetime.date:
    value = (value or "").strip()
    if not value:
        raise RowError(field, _("a date is required"))
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise RowError(field, _("“%(value)s” is not a valid date (expected YYYY-MM-DD)") % {"value": value[:40]}) from None
    if not CALENDAR_YEARS[0] <= day.year <= CALENDAR_YEARS[1]:
        raise RowError(
            field,
            _("%(value)s is outside the years %(first)s–%(last)s")
            % {"value": value, "first": CALENDAR_YEARS[0], "last": CALENDAR_YEARS[1]},
        )
    return day


def parse_amount(value: str, field: str = "", *, places: int = 2) -> Decimal:
    """A non-negative decimal amount with at most `places` decimals."""
    value = (value or "").strip()
    if not value:
        raise RowError(field, _("an amount is required"))
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise RowError(field, _("“%(value)s” is not a number") % {"value": value[:40]}) from None
    if not amount.is_finite():
        raise RowError(field, _("“%(value)s” is not a number") % {"value": value[:40]})
    if amount < 0:
        raise RowError(field, _("must not be negative"))
    if -amount.as_tuple().exponent > places:
        raise RowError(field, _("has more than %(places)s decimals") % {"places": places})
    return amount


def parse_int(value: str, field: str = "", *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = (value or "").strip()
    if not value:
        raise RowError(field, _("a whole number is required"))
    try:
        number = int(value)
    except ValueError:
        raise RowError(field, _("“%(value)s” is not a whole number") % {"value": value[:40]}) from None
    if minimum is not None and number < minimum:
        raise RowError(field, _("must be at least %(minimum)s") % {"minimum": minimum})
    if maximum is not None and number > maximum:
        raise RowError(field, _("must be at most %(maximum)s") % {"maximum": maximum})
    return number


_TRUE = {"1", "true", "yes", "y", "t", "是"}
_FALSE = {"0", "false", "no", "n", "f", "否", ""}


def parse_bool(value: str, field: str = "") -> bool:
    """1/0, true/false, yes/no (any case), 是/否; empty is false."""
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RowError(field, _("“%(value)s” is not yes/no (use 1 or 0, true or false)") % {"value": value[:40]})


def parse_choice(value: str, field: str, choices, *, label: str | None = None) -> str:
    """A value from `choices` (case-insensitive); the message lists the accepted values."""
    text = (value or "").strip().lower()
    if text in choices:
        return text
    if not text:
        raise RowError(field, _("is required"))
    raise RowError(
        field,
        _("unknown %(label)s “%(value)s” (expected one of: %(choices)s)")
        % {"label": label or field, "value": value[:40], "choices": ", ".join(sorted(choices))},
    )


def require(row: dict[str, str], field: str, *, max_length: int | None = None) -> str:
    """The stripped value of a key column, which must not be empty."""
    value = (row.get(field) or "").strip()
    if not value:
        raise RowError(field, _("must not be empty"))
    if max_length is not None and len(value) > max_length:
        raise RowError(field, _("is longer than %(max)s characters") % {"max": max_length})
    return value


def optional(row: dict[str, str], field: str, *, max_length: int | None = None) -> str:
    value = (row.get(field) or "").strip()
    if max_length is not None and len(value) > max_length:
        raise RowError(field, _("is longer than %(max)s characters") % {"max": max_length})
    return value

