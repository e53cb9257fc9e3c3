"""The shop's time zone, computed one way everywhere (DESIGN.md: times shown in the shop's zone)."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DEFAULT_TIMEZONE = "Asia/Shanghai"


@lru_cache(maxsize=64)
def shop_zone(name: str | None) -> ZoneInfo:
    """The zone named `name`; an empty or unknown name (a row typed before the validator existed)
    falls back to Asia/Shanghai instead of breaking the shop's pages."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_timezone(value: str) -> None:
    """`Shop.timezone` validator: an IANA zone name such as Asia/Shanghai or Asia/Bangkok."""
    if value not in _known_zones():
        raise ValidationError(
            _("%(value)s is not a time zone name; use an IANA name such as Asia/Shanghai."),
            params={"value": value},
            code="invalid_timezone",
        )
