"""The managers' dashboards: thin views over monitoring.selectors, drawn inside the admin's frame.

The admin site (backoffice.site) mounts them under /admin/dashboard/ behind its `admin_view` (active
staff only); `dashboard_view` adds the permission the managers hold.

Charts are inline SVG computed here (no JavaScript, nothing fetched from the internet).
"""

from __future__ import annotations

import csv
import datetime
import functools
from decimal import Decimal

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from core.exports import csv_cell
from fulfillment.models import Shop
from monitoring import selectors
from monitoring.filters import STALLED_SORTS, IndicatorPeriodForm

PAGE_SIZE = 50
DEFAULT_PERIOD_DAYS = 14
OUTLET_ROWS = 50


def dashboard_view(view):
    """Anonymous users go to the admin login page; users without monitoring.view_dashboard get 403."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not request.user.is_active or not request.user.has_perm("monitoring.view_dashboard"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def render(request, template, title, **context):
    return TemplateResponse(
        request, template, {**admin.site.each_context(request), "title": title, "dashboard_nav": NAV, **context}
    )


NAV = [
    ("admin:dashboard_overview", _("Overview")),
    ("admin:dashboard_stalled", _("Stalled and overdue parcels")),
    ("admin:dashboard_shops", _("Shop indicators")),
    ("admin:dashboard_outlets", _("Courier outlet scorecards")),
]


# --- Charts --------------------------------------------------------------------------------------------

CHART_WIDTH, CHART_HEIGHT, CHART_LEFT, CHART_BOTTOM, CHART_TOP = 720, 220, 44, 28, 12


def nice_ceiling(value: float) -> int:
    """The smallest 2, 4, 6, 8 or 10 × 10^n at least `value`: the half-way tick is then a whole number."""
    magnitude = 1
    while True:
        for step in (2, 4, 6, 8, 10):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def bar_chart(points: list[dict], series: list[tuple[str, object, str]]) -> dict:
    """Grouped bars: `points` are {"label", <key>: number}; `series` are (key, legend, css class)."""
    top = nice_ceiling(max([p[key] for p in points for key, _l, _c in series] + [1]))
    plot_h = CHART_HEIGHT - CHART_BOTTOM - CHART_TOP
    slot = (CHART_WIDTH - CHART_LEFT) / max(len(points), 1)
    bar_w = slot * 0.8 / len(series)
    groups = []
    for i, point in enumerate(points):
        x0 = CHART_LEFT + i * slot + slot * 0.1
        bars = []
        for j, (key, legend, css) in enumerate(series):
            h = plot_h * point[key] / top
            bars.append(
                {"x": round(x0 + j * bar_w, 1), "y": round(CHART_TOP + plot_h - h, 1), "w": round(bar_w - 1, 1),
                 "h": round(h, 1), "value": point[key], "legend": legend, "css": css}
            )
        groups.append({"label": point["label"], "label_x": round(x0 + slot * 0.4, 1), "bars": bars})
    ticks = [{"value": int(top * f), "y": round(CHART_TOP + plot_h * (1 - f), 1)} for f in (0, 0.5, 1)]
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "left": CHART_LEFT, "groups": groups, "ticks": ticks,
            "base_y": CHART_TOP + plot_h, "label_y": CHART_HEIGHT - 8, "series": series}


def rate_chart(rows: list, targets: dict) -> dict:
    """Daily rates as two polylines (0–100 %) with the platform's targets as dashed lines."""
    plot_h = CHART_HEIGHT - CHART_BOTTOM - CHART_TOP
    step = (CHART_WIDTH - CHART_LEFT - 30) / max(len(rows) - 1, 1)

    def y(rate):
        return round(CHART_TOP + plot_h * (1 - float(rate)), 1)

    lines = []
    for attr, legend, css in (
        ("pickup_rate", _("48 h pickup rate"), "series-a"),
        ("update_rate", _("24 h update rate"), "series-b"),
    ):
        points = [(round(CHART_LEFT + i * step, 1), y(getattr(r, attr))) for i, r in enumerate(rows)
                  if getattr(r, attr) is not None]
        target = targets.get(attr)
        lines.append({"legend": legend, "css": css, "points": " ".join(f"{px},{py}" for px, py in points),
                      "dots": points, "target_y": y(target) if target is not None else None})
    labels = [{"x": round(CHART_LEFT + i * step, 1), "label": r.label} for i, r in enumerate(rows)
              if len(rows) <= 16 or i % max(len(rows) // 10, 1) == 0]
    ticks = [{"value": f"{int(f * 100)}%", "y": y(Decimal(str(f)))} for f in (0, 0.5, 1)]
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "left": CHART_LEFT, "lines": lines, "labels": labels,
            "ticks": ticks, "label_y": CHART_HEIGHT - 8, "right": CHART_WIDTH - 30}


# --- Pages -----------------------------------------------------------------------------------------------


@dashboard_view
def overview(request):
    data = selectors.dashboard_overview()
    chart = bar_chart(
        [{"label": formats.date_format(d["day"], "m-d"), "new": d["new"], "resolved": d["resolved"]}
         for d in data.daily],
        [("new", _("New alerts"), "series-a"), ("resolved", _("Resolved alerts"), "series-b")],
    )
    return render(request, "monitoring/overview.html", _("Overview"), overview=data, chart=chart,
                  due_soon_hours=selectors.DUE_SOON_HOURS)


@dashboard_view
def stalled(request):
    filterset, queryset = selectors.stalled_parcels(data=request.GET)
    if request.GET.get("format") == "csv":
        if not filterset.is_valid():
            problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items())
            return HttpResponseBadRequest(
                _("The export was not made: %(problems)s") % {"problems": problems}, content_type="text/plain; charset=utf-8"
            )
        return stalled_csv(queryset)
    try:
        number = int(request.GET.get("page", 1))
    except ValueError:
        number = 1
    page = selectors.page_without_count(queryset, number=number, size=PAGE_SIZE)
    now = timezone.now()
    for alert in page.rows:
        last = alert.parcel.last_event_at
        alert.hours_since_last_node = None if last is None else int((now - last).total_seconds() // 3600)
        alert.hours_since_payment = int((now - alert.parcel.paid_at).total_seconds() // 3600)
    sort = request.GET.get("sort", "due")
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("format", None)
    sort_links = {}
    for name in STALLED_SORTS:
        p = params.copy()
        p["sort"] = f"-{name}" if sort == name else name
        sort_links[name] = {"query": p.urlencode(), "active": sort.lstrip("-") == name,
                            "descending": sort == f"-{name}"}
    csv_params = params.copy()
    csv_params["format"] = "csv"
    return render(
        request, "monitoring/stalled.html", _("Stalled and overdue parcels"),
        filter=filterset, page=page, sort_links=sort_links, base_query=params.urlencode(),
        csv_query=csv_params.urlencode(),
    )


class _Echo:
    def write(self, value):
        return value


CSV_HEADER = (
    _("tracking number"), _("carrier"), _("shop"), _("platform"), _("courier outlet"), _("kind"), _("level"),
    _("raised at"), _("due at"), _("paid at"), _("picked up at"), _("last valid node at"), _("status"),
    _("order id"), _("destination province"), _("destination city"), _("compensation estimate"),
)


def stalled_csv(queryset):
    """Exactly the filtered rows, streamed; times in the shop's time zone (ISO 8601 with offset)."""
    tz = selectors.shop_timezone()
    writer = csv.writer(_Echo())

    def cell(value):
        if isinstance(value, datetime.datetime):
            return timezone.localtime(value, tz).isoformat(timespec="seconds")
        return csv_cell(value)

    def rows():
        yield "\ufeff"  # BOM: spreadsheet tools then read the Chinese text as UTF-8
        yield writer.writerow([str(h) for h in CSV_HEADER])
        for row in selectors.stalled_parcels_export(queryset=queryset):
            yield writer.writerow([cell(v) for v in row])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(timezone.now(), tz).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="stalled-parcels-{stamp}.csv"'
    return response


def _period(request):
    """The bound period form, the chosen shop and dates (defaults: first shop, the last 28 local days)."""
    form = IndicatorPeriodForm(request.GET or None)
    today = timezone.localdate(timezone.now(), selectors.shop_timezone())
    shop, date_from, date_to = None, today - datetime.timedelta(days=DEFAULT_PERIOD_DAYS - 1), today
    if form.is_bound and form.is_valid():
        shop = form.cleaned_data["shop"]
        date_from = form.cleaned_data["date_from"] or date_from
        date_to = form.cleaned_data["date_to"] or date_to
        if date_from > date_to:
            date_from = date_to
    if shop is None:
        shop = Shop.objects.order_by("code").first()
    if not form.is_bound:
        form = IndicatorPeriodForm(initial={"shop": shop, "date_from": date_from, "date_to": date_to})
    return form, shop, date_from, date_to


@dashboard_view
def shops(request):
    form, shop, date_from, date_to = _period(request)
    context = {"form": form, "shop": shop}
    if shop is not None and not form.errors:
        data = selectors.shop_indicators(shop=shop, date_from=date_from, date_to=date_to)
        context.update(indicators=data, chart=rate_chart(
            [_label_day(r) for r in data.days], data.targets))
    return render(request, "monitoring/shops.html", _("Shop indicators"), **context)


def _label_day(row):
    labelled = selectors.RateRow(formats.date_format(row.label, "m-d"))
    labelled.add(row)
    return labelled


@dashboard_view
def outlets(request):
    form, shop, date_from, date_to = _period(request)
    context = {"form": form, "shop": shop}
    if shop is not None and not form.errors:
        show_all = request.GET.get("all") == "1"
        data = selectors.outlet_scorecards(
            shop=shop, date_from=date_from, date_to=date_to, limit=None if show_all else OUTLET_ROWS
        )
        for row in data.outlets:
            row.pickup_delta = _delta(row.pickup_rate, data.shop_total.pickup_rate)
            row.update_delta = _delta(row.update_rate, data.shop_total.update_rate)
            row.stars = "★" * (row.star_rating or 0) + "☆" * (5 - (row.star_rating or 0))
        params = request.GET.copy()
        params["all"] = "1"
        context.update(scorecards=data, show_all_query=params.urlencode())
    return render(request, "monitoring/outlets.html", _("Courier outlet scorecards"), **context)


def _delta(rate, reference):
    """The difference in percentage points, or None when either side has no parcels."""
    if rate is None or reference is None:
        return None
    return ((rate - reference) * 100).quantize(Decimal("0.1"))
