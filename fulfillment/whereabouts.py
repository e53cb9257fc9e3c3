"""Where a parcel is beyond fulfillment (its bag, its handover sheet, the pickup), for its admin page.

Fulfillment keeps no bags or sheets: the apps that do name a callable in
`settings.PARCEL_WHEREABOUTS` (as the derivation steps are named in `PARCEL_DERIVATION_STEPS`);
each takes the parcel and returns safe HTML, or "" when it has nothing to say.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.html import format_html_join
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString, mark_safe


def parcel_whereabouts(parcel) -> SafeString | str:
    lines = [line for path in getattr(settings, "PARCEL_WHEREABOUTS", ()) if (line := import_string(path)(parcel))]
    if not lines:
        return "-"
    return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))
