"""The parcel's admin page says where the parcel is: its bag, its handover sheet, the pickup
(named in settings.PARCEL_WHEREABOUTS, shown by fulfillment.whereabouts)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext

from core.admin import in_shop_time

from ..selectors import parcel_place


def parcel_whereabouts_html(parcel) -> str:
    place = parcel_place(parcel=parcel)
    parts = []
    if place.bag is not None:
        bag = place.bag
        parts.append(
            format_html(
                '{} <a href="{}">{}</a> ({})',
                gettext("In bag"),
                reverse("admin:pickups_consolidationbag_change", args=[bag.pk]),
                bag.number,
                bag.get_status_display(),
            )
        )
    if place.sheet is not None:
        sheet = place.sheet
        parts.append(
            format_html(
                '{} <a href="{}">{}</a> ({})',
                gettext("on handover sheet"),
                reverse("admin:pickups_handoversheet_change", args=[sheet.pk]),
                sheet.number,
                sheet.get_status_display(),
            )
        )
    picked_up_at = (place.bag.picked_up_at if place.bag else None) or (place.sheet.picked_up_at if place.sheet else None)
    if picked_up_at:
        parts.append(format_html("{} {}", gettext("picked up at"), in_shop_time(picked_up_at, parcel.shop)))
    if not parts:
        return gettext("In no bag and on no handover sheet.")
    return format_html_join(", ", "{}", ((part,) for part in parts))
