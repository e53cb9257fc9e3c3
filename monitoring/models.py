"""SLA policies, route standards, alerts, stagnation tickets and complaints (DESIGN.md, "Deadlines and rules")."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fulfillment.models import Parcel, Platform, SellerTier

# DESIGN.md "Bounds on input": SLA policy hours lie in 1–720, days in 1–60, campaign windows in
# 2000–2100 — so that no policy can switch monitoring off or push a deadline past a timestamp's range.
HOURS = (1, 720)
DAYS = (1, 60)
HOUR_BOUNDS = [MinValueValidator(HOURS[0]), MaxValueValidator(HOURS[1])]
DAY_BOUNDS = [MinValueValidator(DAYS[0]), MaxValueValidator(DAYS[1])]
CALENDAR_BOUNDS = [
    MinValueValidator(datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)),
    MaxValueValidator(datetime.datetime(2100, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)),
]
HOUR_FIELDS = (
    "ship_due_hours",
    "pickup_warn_hours",
    "pickup_due_hours",
    "update_warn_hours",
    "update_due_hours",
    "stagnation_hours",
    "stagnation_remote_hours",
    "stagnation_warn_before_hours",
    "ticket_response_hours",
    "ticket_warn_hours",
    "ship_at_risk_hours",
)
DAY_FIELDS = ("ship_due_days", "sorting_due_days", "route_grace_days")


def _all_within(fields, low: int, high: int) -> Q:
    condition = Q()
    for field in fields:
        condition &= Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return condition


class SlaPolicy(models.Model):
    """The thresholds of one platform (and seller tier, and campaign window): data, not code.

    A campaign policy (`campaign_starts_at` set) replaces the default for orders paid inside its window.
    Hour thresholds count from the clock's start; day thresholds end at 23:59:59 local time of the
    Nth (calendar or working) day after the order day.
    """

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    seller_tier = models.CharField(
        _("seller tier"), max_length=16, choices=SellerTier.choices, blank=True, help_text=_("Empty: every tier.")
    )
    campaign_starts_at = models.DateTimeField(
        _("campaign starts at"), null=True, blank=True, validators=CALENDAR_BOUNDS
    )
    campaign_ends_at = models.DateTimeField(_("campaign ends at"), null=True, blank=True, validators=CALENDAR_BOUNDS)
    is_active = models.BooleanField(_("active"), default=True)

    # Tmall / Taobao: ship (tracking number uploaded) within N hours of payment.
    ship_due_hours = models.PositiveIntegerField(_("ship due (hours)"), null=True, blank=True, validators=HOUR_BOUNDS)
    ship_requires_pickup = models.BooleanField(
        _("shipping needs a pickup record"), default=False, help_text=_("618: shipped only once picked up.")
    )
    # Lazada: ship (RTS) by the end of the Nth day and reach the sorting centre by the end of the Mth day.
    ship_due_days = models.PositiveSmallIntegerField(_("ship due (days)"), null=True, blank=True, validators=DAY_BOUNDS)
    sorting_due_days = models.PositiveSmallIntegerField(
        _("sorting centre due (days)"), null=True, blank=True, validators=DAY_BOUNDS
    )
    count_working_days = models.BooleanField(_("count working days"), default=False)

    pickup_warn_hours = models.PositiveIntegerField(
        _("pickup warning (hours)"), null=True, blank=True, validators=HOUR_BOUNDS
    )
    pickup_due_hours = models.PositiveIntegerField(
        _("pickup due (hours)"), null=True, blank=True, validators=HOUR_BOUNDS
    )
    pickup_compensation_rate = models.DecimalField(
        _("pickup compensation rate"), max_digits=5, decimal_places=4, default=Decimal("0")
    )
    update_warn_hours = models.PositiveIntegerField(
        _("update warning (hours)"), null=True, blank=True, validators=HOUR_BOUNDS
    )
    update_due_hours = models.PositiveIntegerField(
        _("update due (hours)"), null=True, blank=True, validators=HOUR_BOUNDS
    )
    update_compensation_rate = models.DecimalField(
        _("update compensation rate"), max_digits=5, decimal_places=4, default=Decimal("0")
    )
    delivery_cutoff_hour = models.PositiveSmallIntegerField(
        _("delivery cut-off hour (next day, local)"), null=True, blank=True
    )
    route_grace_days = models.PositiveSmallIntegerField(
        _("route standard grace (days)"), null=True, blank=True, validators=DAY_BOUNDS
    )
    stagnation_hours = models.PositiveIntegerField(_("stagnation (hours)"), default=72, validators=HOUR_BOUNDS)
    stagnation_remote_hours = models.PositiveIntegerField(
        _("stagnation, remote (hours)"), default=96, validators=HOUR_BOUNDS
    )
    stagnation_warn_before_hours = models.PositiveIntegerField(
        _("stagnation warning before (hours)"), default=8, validators=HOUR_BOUNDS
    )
    ticket_response_hours = models.PositiveIntegerField(
        _("ticket response due (hours)"), default=24, validators=HOUR_BOUNDS
    )
    ticket_warn_hours = models.PositiveIntegerField(
        _("ticket response warning (hours)"), default=16, validators=HOUR_BOUNDS
    )

    # A parcel with warehouse nodes, not yet packed, this close to its ship deadline is at risk.
    ship_at_risk_hours = models.PositiveIntegerField(
        _("shipping at risk before the ship deadline (hours)"),
        default=8,
        validators=HOUR_BOUNDS,
        help_text=_("Only for parcels whose warehouse sends its nodes (accepted, printed, picked, packed)."),
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["platform", "code"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(campaign_starts_at__isnull=True) & Q(campaign_ends_at__isnull=True))
                | Q(campaign_ends_at__gte=models.F("campaign_starts_at")),
                name="policy_campaign_window_complete",
            ),
            models.CheckConstraint(
                condition=Q(pickup_warn_hours__isnull=True)
                | Q(pickup_due_hours__isnull=True)
                | Q(pickup_warn_hours__lte=models.F("pickup_due_hours")),
                name="policy_pickup_warn_before_due",
            ),
            models.CheckConstraint(
                condition=Q(update_warn_hours__isnull=True)
                | Q(update_due_hours__isnull=True)
                | Q(update_warn_hours__lte=models.F("update_due_hours")),
                name="policy_update_warn_before_due",
            ),
            models.CheckConstraint(
                condition=Q(pickup_compensation_rate__gte=0, pickup_compensation_rate__lte=1)
                & Q(update_compensation_rate__gte=0, update_compensation_rate__lte=1),
                name="policy_rates_between_0_and_1",
            ),
            models.CheckConstraint(condition=_all_within(HOUR_FIELDS, *HOURS), name="policy_hours_1_to_720"),
            models.CheckConstraint(condition=_all_within(DAY_FIELDS, *DAYS), name="policy_days_1_to_60"),
        ]

    def __str__(self):
        return self.name


class RouteStandard(models.Model):
    """The standard transit days from an origin province to a destination province."""

    origin_province = models.CharField(_("origin province"), max_length=64)
    dest_province = models.CharField(_("destination province"), max_length=64)
    days = models.PositiveSmallIntegerField(_("days"))

    class Meta:
        verbose_name = _("route standard")
        verbose_name_plural = _("route standards")
        ordering = ["origin_province", "dest_province"]
        constraints = [
            models.UniqueConstraint(fields=["origin_province", "dest_province"], name="route_unique_province_pair")
        ]

    def __str__(self):
        return f"{self.origin_province} → {self.dest_province}: {self.days}"


class AlertKind(models.TextChoices):
    SHIP_OVERDUE = "ship_overdue", _("Not shipped in time")
    PICKUP_OVERDUE = "pickup_overdue", _("Not picked up in time")
    UPDATE_OVERDUE = "update_overdue", _("No update after pickup")
    DELIVERY_OVERDUE = "delivery_overdue", _("Out for delivery, not signed")
    ROUTE_OVERDUE = "route_overdue", _("Route standard time exceeded")
    STAGNATION = "stagnation", _("Stagnant parcel")
    TICKET_RESPONSE_OVERDUE = "ticket_response_overdue", _("Stagnation ticket unanswered")
    LAZADA_SHIP_OVERDUE = "lazada_ship_overdue", _("Lazada: not ready to ship in time")
    LAZADA_SORTING_OVERDUE = "lazada_sorting_overdue", _("Lazada: not at sorting centre in time")
    FALSE_SIGNOFF = "false_signoff", _("False sign-off complaint")
    SHIP_AT_RISK = "ship_at_risk", _("Not packed, ship deadline near")


class AlertLevel(models.TextChoices):
    WARNING = "warning", _("Warning")
    OVERDUE = "overdue", _("Overdue")


class Alert(models.Model):
    """At most one open alert per (parcel, kind); a warning becomes overdue in place; resolved, never deleted."""

    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("parcel"))
    kind = models.CharField(_("kind"), max_length=32, choices=AlertKind.choices)
    level = models.CharField(_("level"), max_length=16, choices=AlertLevel.choices)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    raised_at = models.DateTimeField(_("raised at"))
    escalated_at = models.DateTimeField(_("overdue since"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolution_note = models.TextField(_("resolution note"), blank=True)
    compensation_estimate = models.DecimalField(
        _("compensation estimate"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        permissions = [
            ("resolve_alert", _("Can resolve an alert with a note")),
            ("view_dashboard", _("Can view the managers' dashboards")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["parcel", "kind"], condition=Q(resolved_at__isnull=True), name="alert_one_open_per_parcel_kind"
            ),
            models.CheckConstraint(condition=Q(kind__in=AlertKind.values), name="alert_kind_valid"),
            models.CheckConstraint(condition=Q(level__in=AlertLevel.values), name="alert_level_valid"),
        ]
        indexes = [
            models.Index(
                fields=["kind", "level"], condition=Q(resolved_at__isnull=True), name="alert_open_kind_level_idx"
            ),
            models.Index(fields=["due_at"], condition=Q(resolved_at__isnull=True), name="alert_open_due_idx"),
            models.Index(fields=["raised_at"], name="alert_raised_idx"),
            models.Index(fields=["resolved_at"], name="alert_resolved_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_level_display()})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class StagnationTicket(models.Model):
    """Opened by the platform when a buyer reports a stalled parcel; the merchant must answer within 24 h."""

    parcel = models.ForeignKey(
        Parcel, on_delete=models.CASCADE, related_name="stagnation_tickets", verbose_name=_("parcel")
    )
    opened_at = models.DateTimeField(_("opened at"))
    response_warn_at = models.DateTimeField(_("response warning at"))
    response_due_at = models.DateTimeField(_("response due at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    response = models.TextField(_("response"), blank=True)

    class Meta:
        verbose_name = _("stagnation ticket")
        verbose_name_plural = _("stagnation tickets")
        permissions = [("answer_stagnationticket", _("Can answer a stagnation ticket"))]
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["parcel", "opened_at"], name="ticket_unique_parcel_opened"),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | ~Q(response=""), name="ticket_answer_has_text"
            ),
        ]
        indexes = [
            models.Index(
                fields=["response_warn_at"], condition=Q(answered_at__isnull=True), name="ticket_open_warn_idx"
            )
        ]

    def __str__(self):
        # In the current time zone: the ticket's page renders in its shop's (core.admin.ShopTimeZoneMixin).
        return f"{self.parcel} {timezone.localtime(self.opened_at):%Y-%m-%d %H:%M}"


class Complaint(models.Model):
    """A buyer's false sign-off complaint, imported; raises a `false_signoff` alert at once."""

    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="complaints", verbose_name=_("parcel"))
    kind = models.CharField(_("kind"), max_length=32, default="false_signoff")
    opened_at = models.DateTimeField(_("opened at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["parcel", "kind", "opened_at"], name="complaint_unique_parcel_kind_opened")
        ]

    def __str__(self):
        return f"{dict(AlertKind.choices).get(self.kind, self.kind)} {self.parcel}"


class OrderSpikeThreshold(models.Model):
    """When a shop's day of paid orders is unusual (Lazada's risk-control advice): at least `factor`
    × the median of the previous `baseline_days` days and at least `min_orders`. One row, editable
    by managers; without an active row no day is judged."""

    factor = models.DecimalField(
        _("times the median"), max_digits=5, decimal_places=2, default=Decimal("5"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("100"))],
    )
    min_orders = models.PositiveIntegerField(
        _("at least (orders a day)"), default=100, validators=[MinValueValidator(1), MaxValueValidator(1_000_000)]
    )
    baseline_days = models.PositiveSmallIntegerField(_("median of the previous (days)"), default=14, validators=DAY_BOUNDS)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("order spike threshold")
        verbose_name_plural = _("order spike thresholds")
        constraints = [
            models.CheckConstraint(
                condition=Q(factor__gte=1, factor__lte=100, min_orders__gte=1, min_orders__lte=1_000_000)
                & Q(baseline_days__gte=DAYS[0], baseline_days__lte=DAYS[1]),
                name="spike_threshold_bounds",
            )
        ]

    def __str__(self):
        return _("%(factor)s× the %(days)s-day median, at least %(orders)s orders") % {
            "factor": self.factor.normalize(), "days": self.baseline_days, "orders": self.min_orders,
        }


class ShopAlertKind(models.TextChoices):
    ORDER_SPIKE = "order_spike", _("Unusual order volume")


class ShopAlert(models.Model):
    """An alert about a shop on one of its local days, not about a parcel: one row per (shop, kind,
    day); managers mark it reviewed (before marking the day's orders ready to ship)."""

    shop = models.ForeignKey(
        "fulfillment.Shop", on_delete=models.CASCADE, related_name="shop_alerts", verbose_name=_("shop")
    )
    kind = models.CharField(_("kind"), max_length=32, choices=ShopAlertKind.choices, default=ShopAlertKind.ORDER_SPIKE)
    day = models.DateField(_("day"), help_text=_("The shop's local day."))
    orders = models.PositiveIntegerField(_("paid orders"))
    median = models.DecimalField(_("median of the previous days"), max_digits=12, decimal_places=1)
    raised_at = models.DateTimeField(_("raised at"))
    resolved_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )

    class Meta:
        verbose_name = _("shop alert")
        verbose_name_plural = _("shop alerts")
        ordering = ["-day", "shop"]
        permissions = [("review_shopalert", _("Can mark a shop alert reviewed"))]
        constraints = [
            models.UniqueConstraint(fields=["shop", "kind", "day"], name="shop_alert_one_per_shop_kind_day"),
            models.CheckConstraint(condition=Q(kind__in=ShopAlertKind.values), name="shop_alert_kind_valid"),
        ]
        indexes = [models.Index(fields=["day"], condition=Q(resolved_at__isnull=True), name="shop_alert_open_day_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.shop} {self.day}"
