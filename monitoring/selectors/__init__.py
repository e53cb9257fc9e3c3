"""Reads for the managers' dashboards: every figure is one SQL aggregate, never a loop over parcels.

One module per dashboard: `overview`, `stalled` (the stalled and overdue list), `indicators` (shop
rates and courier-outlet scorecards). Each takes `shop_ids` (the shops the user may see,
`fulfillment.access.shop_ids_for`; None = every shop) and returns rows of those shops only.
"""

from monitoring.selectors.common import ShopIds, open_alerts, shop_timezone
from monitoring.selectors.indicators import (
    CHART_DAYS,
    PICKUP_HOURS,
    PLATFORM_TARGETS,
    UPDATE_HOURS,
    RateRow,
    Scorecards,
    ShopIndicators,
    outlet_scorecards,
    percent,
    shop_indicators,
)
from monitoring.selectors.overview import DUE_SOON_HOURS, DUE_SOON_LIMIT, Overview, dashboard_overview
from monitoring.selectors.stalled import (
    MAX_PAGE,
    STALLED_CSV_COLUMNS,
    Page,
    RuleCount,
    Total,
    destination,
    one_row_per_parcel,
    open_alerts_of,
    outlet_names,
    page_without_count,
    stalled_counts,
    stalled_ordering,
    stalled_parcels,
    stalled_parcels_export,
    stalled_total,
    with_open_alerts,
)

__all__ = [
    "CHART_DAYS", "DUE_SOON_HOURS", "DUE_SOON_LIMIT", "MAX_PAGE", "PICKUP_HOURS", "PLATFORM_TARGETS",
    "STALLED_CSV_COLUMNS", "UPDATE_HOURS", "Overview", "Page", "RateRow", "Scorecards", "ShopIds",
    "ShopIndicators", "dashboard_overview", "open_alerts", "outlet_scorecards", "page_without_count",
    "percent", "shop_indicators", "shop_timezone", "stalled_ordering", "stalled_parcels",
    "stalled_parcels_export", "RuleCount", "Total", "destination", "one_row_per_parcel", "open_alerts_of",
    "outlet_names", "stalled_counts", "stalled_total", "with_open_alerts",
]
