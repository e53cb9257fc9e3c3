"""The managers' dashboards: thin views over monitoring.selectors, drawn inside the admin's frame.

The admin site (backoffice.site) mounts them under /admin/dashboard/ behind its `admin_view` (active
staff only); `dashboard_view` adds the permission the managers hold.

Charts are inline SVG computed here (no JavaScript, nothing fetched from the internet).
"""

from __future__ import annotations

import datetime
import functools
from decimal import Decimal

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from fulfillment.access import shop_ids_for, visible_shops
from monitoring import selectors
from monitoring.filters import STALLED_SORTS, IndicatorPeriodForm
from monitoring.models import AlertLevel
from monitoring.stalled_export import stalled_csv

PAGE_SIZE = 50
DEFAULT_PERIOD_DAYS = 14
OUTLET_ROWS = 50
CONCLUSIVE_PERCENT = int(selectors.RateRow.CONCLUSIVE_SHARE * 100)


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
    data = selectors.dashboard_overview(shop_ids=shop_ids_for(request.user))
    chart = bar_chart(
        [{"label": formats.date_format(d["day"], "m-d"), "new": d["new"], "resolved": d["resolved"]}
         for d in data.daily],
        [("new", _("New alerts"), "series-a"), ("resolved", _("Resolved alerts"), "series-b")],
    )
    return render(request, "monitoring/overview.html", _("Overview"), overview=data, chart=chart,
                  due_soon_hours=selectors.DUE_SOON_HOURS)


@dashboard_view
def stalled(request):
    shop_ids = shop_ids_for(request.user)
    filterset, queryset = selectors.stalled_parcels(data=request.GET, shop_ids=shop_ids)
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
    selectors.with_open_alerts(page.rows)
    now = timezone.now()
    for alert in page.rows:
        last = alert.parcel.last_event_at
        alert.hours_since_last_node = None if last is None else int((now - last).total_seconds() // 3600)
        alert.hours_since_payment = int((now - alert.parcel.paid_at).total_seconds() // 3600)
        alert.destination = selectors.destination(alert.parcel.order.dest_province, alert.parcel.order.dest_city)
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("format", None)
    csv_params = params.copy()
    csv_params["format"] = "csv"
    return render(
        request, "monitoring/stalled.html", _("Stalled and overdue parcels"),
        filter=filterset, page=page, sort_links=_sort_links(params), base_query=params.urlencode(),
        csv_query=csv_params.urlencode(), outlet_names=selectors.outlet_names(shop_ids=shop_ids),
        **_tabs_and_total(request, filterset, queryset, params, shop_ids),
    )


def _sort_links(params) -> dict:
    sort = params.get("sort", "due")
    links = {}
    for name in STALLED_SORTS:
        p = params.copy()
        p["sort"] = f"-{name}" if sort == name else name
        links[name] = {"query": p.urlencode(), "active": sort.lstrip("-") == name, "descending": sort == f"-{name}"}
    return links


def _tabs_and_total(request, filterset, queryset, params, shop_ids) -> dict:
    """The tabs of 包裹监控: one per rule with its warning (即将超时) and overdue (已超时) counts, each a
    link filtering the list; and the list's total."""
    if not filterset.is_valid():
        return {"tabs": [], "total": None}
    kind, level = filterset.form.cleaned_data.get("kind") or "", filterset.form.cleaned_data.get("level") or ""
    counts = selectors.stalled_counts(data=request.GET, shop_ids=shop_ids)

    def link(**chosen):
        p = params.copy()
        for name in ("kind", "level"):
            p.pop(name, None)
            if chosen.get(name):
                p[name] = chosen[name]
        return p.urlencode()

    tabs = [
        {"count": count, "query": link(kind=count.kind), "active": kind == count.kind and not level,
         "levels": [{"level": lv, "label": label, "n": n, "query": link(kind=count.kind, level=lv),
                     "active": (kind, level) == (count.kind, lv)}
                    for lv, label, n in ((AlertLevel.WARNING, _("due soon"), count.warning),
                                         (AlertLevel.OVERDUE, _("overdue"), count.overdue))]}
        for count in counts
    ]
    total = selectors.stalled_total(rows=queryset, counts=counts, conditions=filterset.alert_conditions(),
                                    kind=kind, level=level)
    return {"tabs": tabs, "total": total, "all_query": link(), "all_active": not kind and not level,
            "all_alerts": sum(c.total for c in counts)}


def _period(request):
    """The bound period form, the chosen shop and dates (defaults: first shop, the last 28 local days)."""
    shops = visible_shops(request.user)
    form = IndicatorPeriodForm(request.GET or None, shops=shops)
    today = timezone.localdate(timezone.now(), selectors.shop_timezone())
    shop, date_from, date_to = None, today - datetime.timedelta(days=DEFAULT_PERIOD_DAYS - 1), today
    if form.is_bound and form.is_valid():
        shop = form.cleaned_data["shop"]
        date_from = form.cleaned_data["date_from"] or date_from
        date_to = form.cleaned_data["date_to"] or date_to
        if date_from > date_to:
            date_from = date_to
    if shop is None:
        shop = shops.order_by("code").first()
    if not form.errors:  # show the shop and the dates used, defaults included (a box left empty says nothing)
        form = IndicatorPeriodForm(initial={"shop": shop, "date_from": date_from, "date_to": date_to}, shops=shops)
    return form, shop, date_from, date_to


@dashboard_view
def shops(request):
    form, shop, date_from, date_to = _period(request)
    context = {"form": form, "shop": shop, "conclusive_share": CONCLUSIVE_PERCENT}
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
    context = {"form": form, "shop": shop, "conclusive_share": CONCLUSIVE_PERCENT}
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
