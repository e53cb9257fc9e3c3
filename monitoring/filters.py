"""Filters of the managers' dashboards, applied inside the selectors (`StalledParcelFilter(data, qs).qs`)."""

import datetime

import django_filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fulfillment.models import Carrier, CarrierOutlet, Platform, Region, Shop
from monitoring.models import Alert, AlertKind, AlertLevel

# Sortable columns of the stalled-parcels table: public name -> field (a "-" prefix in the URL reverses).
# Only columns an index can deliver in order (alert due/raised, parcel last node/payment) or small groups:
# sorting 100,000 open alerts by shop name would be a full sort on every page, filter by shop instead.
STALLED_SORTS = {
    "due": "due_at",
    "raised": "raised_at",
    "last_node": "parcel__last_event_at",
    "paid": "parcel__paid_at",
    "kind": "kind",
    "level": "level",
    "compensation": "compensation_estimate",
}


# A filter of hours beyond a year is a typo (and beyond a timestamp's range, an error page).
MAX_HOURS = 24 * 366
MAX_OUTLETS_MATCHED = 500  # an outlet search matching more says too little to filter by
DATE_BOUNDS = [MinValueValidator(datetime.date(2000, 1, 1)), MaxValueValidator(datetime.date(2100, 12, 31))]


def remote_destination():
    """True when the parcel's destination province (a Region with no city) or its city is marked remote."""
    return Exists(
        Region.objects.filter(is_remote=True, province=OuterRef("parcel__order__dest_province")).filter(
            Q(city="") | Q(city=OuterRef("parcel__order__dest_city"))
        )
    )


class StalledParcelFilter(django_filters.FilterSet):
    """Filters over open alerts: one row per parcel and kind of trouble."""

    shop = django_filters.ModelChoiceFilter(
        field_name="parcel__shop", queryset=Shop.objects.only("id", "code", "name"), label=_("Shop")
    )
    platform = django_filters.ChoiceFilter(field_name="parcel__platform", choices=Platform.choices, label=_("Platform"))
    carrier = django_filters.ModelChoiceFilter(
        field_name="parcel__carrier", queryset=Carrier.objects.only("id", "code", "name"), label=_("Carrier")
    )
    # A search box, not a select: a carrier network has thousands of outlets and rendering them all
    # as options costs more than the query of the page. The outlet is found by the name the list
    # shows (its beginning, or any part) or by its exact code; the small outlet table is searched first.
    outlet = django_filters.CharFilter(
        method="filter_outlet",
        max_length=200,
        label=_("Courier outlet (name or code)"),
        widget=forms.TextInput(attrs={"size": 14, "list": "outlet-names", "autocomplete": "off"}),
    )
    kind = django_filters.ChoiceFilter(choices=AlertKind.choices, label=_("Rule"))
    level = django_filters.ChoiceFilter(choices=AlertLevel.choices, label=_("Level"))
    min_hours = django_filters.NumberFilter(
        method="filter_min_hours",
        min_value=0,
        max_value=MAX_HOURS,
        label=_("Hours since last valid node, at least"),
        widget=forms.NumberInput(attrs={"min": 0, "step": 1, "size": 5}),
    )
    due_within_hours = django_filters.NumberFilter(
        method="filter_due_within",
        min_value=0,
        max_value=MAX_HOURS,
        label=_("Due within (hours)"),
        widget=forms.NumberInput(attrs={"min": 0, "step": 1, "size": 5}),
    )
    remote = django_filters.BooleanFilter(
        method="filter_remote",
        label=_("Remote destination"),
        widget=forms.Select(choices=[("", "---------"), ("true", _("Yes")), ("false", _("No"))]),
    )

    class Meta:
        model = Alert
        fields = ["shop", "platform", "carrier", "outlet", "kind", "level", "min_hours", "due_within_hours", "remote"]

    def __init__(self, *args, now: datetime.datetime | None = None, shops=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()
        if shops is not None:  # only the shops the user may see are offered (and accepted)
            self.filters["shop"].queryset = shops.only("id", "code", "name")

    PARCEL_FILTERS = ("shop", "platform", "carrier", "outlet", "min_hours", "remote")

    def narrows_parcels(self) -> bool:
        """True when a filter on the parcel is set (counting then joins the parcels)."""
        return any(self.form.cleaned_data.get(name) not in (None, "") for name in self.PARCEL_FILTERS)

    def alert_conditions(self) -> Q:
        """The conditions on the alert itself (rule, level, due window), without those on its parcel:
        the one-row-per-parcel list picks each parcel's leading alert among the alerts they keep."""
        data = self.form.cleaned_data
        condition = Q()
        if data.get("kind"):
            condition &= Q(kind=data["kind"])
        if data.get("level"):
            condition &= Q(level=data["level"])
        if data.get("due_within_hours") is not None:
            hours = datetime.timedelta(hours=float(data["due_within_hours"]))
            condition &= Q(due_at__gt=self.now, due_at__lte=self.now + hours)
        return condition

    def filter_outlet(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        # The outlet ids first (a small table): as a subquery, PostgreSQL would plan the parcels' side
        # before knowing how few outlets match.
        outlets = list(
            CarrierOutlet.objects.filter(Q(code=value) | Q(name__icontains=value)).values_list("pk", flat=True)[
                :MAX_OUTLETS_MATCHED
            ]
        )
        return queryset.filter(parcel__outlet_id__in=outlets)

    def filter_min_hours(self, queryset, name, value):
        if value is None:
            return queryset
        # Parcels without any valid node yet count from their payment.
        since = self.now - datetime.timedelta(hours=float(value))
        return queryset.filter(
            Q(parcel__last_event_at__lte=since) | Q(parcel__last_event_at__isnull=True, parcel__paid_at__lte=since)
        )

    def filter_due_within(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(due_at__gt=self.now, due_at__lte=self.now + datetime.timedelta(hours=float(value)))

    def filter_remote(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(remote_destination()) if value else queryset.exclude(remote_destination())


# An <input type="date"> holds an ISO date whatever the language; rendered in the language's own date
# format (zh-hans: 2026/06/01) the browser would show it blank.
ISO_DATE_INPUT = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class IndicatorPeriodForm(forms.Form):
    """The shop and the period (local dates, both included) of the indicators and scorecards.

    `shops`: the shops the user may see (`fulfillment.access.visible_shops`), the only ones offered."""

    def __init__(self, *args, shops=None, **kwargs):
        super().__init__(*args, **kwargs)
        if shops is not None:
            self.fields["shop"].queryset = shops

    shop = forms.ModelChoiceField(queryset=Shop.objects.all(), label=_("Shop"), required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=ISO_DATE_INPUT, validators=DATE_BOUNDS
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=ISO_DATE_INPUT, validators=DATE_BOUNDS
    )

    MAX_DAYS = 92

    def clean(self):
        data = super().clean()
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from and date_to:
            if date_from > date_to:
                raise forms.ValidationError(_("The start of the period is after its end."))
            if (date_to - date_from).days >= self.MAX_DAYS:
                raise forms.ValidationError(
                    _("Choose a period of at most %(days)s days.") % {"days": self.MAX_DAYS}
                )
        return data
