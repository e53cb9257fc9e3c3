"""The shared schema: shops, carriers, orders, parcels, tracking events, regions and holidays.

Milestone timestamps and deadlines live on `Parcel` as indexed columns so that every monitoring
rule is one set query (DESIGN.md, "The parcel's life").
"""

from django.conf import settings
from django.core.validators import validate_email
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.timezones import DEFAULT_TIMEZONE, validate_timezone
from fulfillment.vocabulary import (  # noqa: F401 — the domain's vocabulary, importable from here as before
    DEADLINE_FIELDS,
    FINISHED_STATUSES,
    STATUS_RANK,
    UNFINISHED_CLOCK_INDEXES,
    VALID_NODE_CODES,
    WAREHOUSE_MILESTONES,
    WAREHOUSE_NODE_CODES,
    EventCode,
    ParcelStatus,
    Platform,
    SellerTier,
    has_warehouse_node,
    unfinished,
)


class Shop(models.Model):
    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    seller_tier = models.CharField(
        _("seller tier"), max_length=16, choices=SellerTier.choices, default=SellerTier.MARKETPLACE
    )
    timezone = models.CharField(_("time zone"), max_length=64, default=DEFAULT_TIMEZONE, validators=[validate_timezone])
    pickup_address = models.TextField(_("pickup address"), blank=True)
    pickup_province = models.CharField(_("pickup province"), max_length=64, blank=True)
    pickup_city = models.CharField(_("pickup city"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="limited_to_shops",
        verbose_name=_("staff limited to this shop"),
        help_text=_(
            "A user listed under one or more shops sees and changes only those shops. "
            "A user listed under none sees every shop."
        ),
    )

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(platform__in=Platform.values), name="shop_platform_valid"),
            models.CheckConstraint(condition=Q(seller_tier__in=SellerTier.values), name="shop_tier_valid"),
        ]

    def __str__(self):
        return self.name or self.code


class Carrier(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")
        ordering = ["code"]

    def __str__(self):
        return self.name or self.code


class OutletRobotKind(models.TextChoices):
    """The IM robots an outlet can be reached through (the same formats as the alert channels)."""

    WECOM = "wecom", _("WeCom robot")
    DINGTALK = "dingtalk", _("DingTalk robot")
    FEISHU = "feishu", _("Feishu robot")
    WEBHOOK = "webhook", _("webhook")


class CarrierOutlet(models.Model):
    """A carrier's local branch; its star rating (1–5) is imported monthly.

    Its contact (DESIGN.md, "Outlet contacts"): Cainiao's package monitoring cannot contact an outlet
    ("目前产品暂不支持直接联系网点"), so the outlet's person, phone, and the robot or email address its
    own stalled parcels are sent to from the scorecard (a robot first, else the email)."""

    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="outlets", verbose_name=_("carrier"))
    code = models.CharField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=200, blank=True)
    province = models.CharField(_("province"), max_length=64, blank=True)
    city = models.CharField(_("city"), max_length=64, blank=True)
    star_rating = models.PositiveSmallIntegerField(_("star rating"), null=True, blank=True)
    rating_month = models.DateField(_("rating month"), null=True, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    robot_kind = models.CharField(_("IM robot"), max_length=16, choices=OutletRobotKind.choices, blank=True)
    robot_url = models.URLField(_("robot webhook URL"), max_length=500, blank=True)
    robot_secret = models.CharField(
        _("robot secret"), max_length=200, blank=True,
        help_text=_("DingTalk and Feishu: the robot's signing secret; webhook: the HMAC-SHA256 key of X-Signature."),
    )  # fmt: skip
    contact_email = models.CharField(
        _("contact email"), max_length=500, blank=True, help_text=_("Addresses separated by commas.")
    )

    class Meta:
        verbose_name = _("courier outlet")
        verbose_name_plural = _("courier outlets")
        ordering = ["carrier__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "code"], name="outlet_unique_code_per_carrier"),
            models.CheckConstraint(
                condition=Q(star_rating__isnull=True) | Q(star_rating__gte=1, star_rating__lte=5),
                name="outlet_star_rating_1_to_5",
            ),
        ]

    def __str__(self):
        return f"{self.carrier.code}/{self.name or self.code}"

    @property
    def has_contact_channel(self) -> bool:
        """True when the outlet can be sent its parcels: a robot webhook or an email address."""
        return bool((self.robot_kind and self.robot_url) or self.contact_email.strip())

    def clean(self):
        from django.core.exceptions import ValidationError

        if bool(self.robot_kind) != bool(self.robot_url):
            raise ValidationError(
                {"robot_url" if self.robot_kind else "robot_kind": _("Choose the robot and give its webhook URL.")}
            )
        addresses = [a.strip() for a in self.contact_email.replace(";", ",").split(",") if a.strip()]
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError({"contact_email": _("Not an email address: %(address)s") % {"address": address}}) from None


class Order(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders", verbose_name=_("shop"))
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    seller_tier = models.CharField(_("seller tier"), max_length=16, choices=SellerTier.choices)
    order_id = models.CharField(_("order id"), max_length=64)
    paid_at = models.DateTimeField(_("paid at"), db_index=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    origin_province = models.CharField(_("origin province"), max_length=64, blank=True)
    dest_province = models.CharField(_("destination province"), max_length=64, blank=True)
    dest_city = models.CharField(_("destination city"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(fields=["platform", "order_id"], name="order_unique_per_platform"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="order_amount_not_negative"),
            models.CheckConstraint(condition=Q(platform__in=Platform.values), name="order_platform_valid"),
            models.CheckConstraint(condition=Q(seller_tier__in=SellerTier.values), name="order_tier_valid"),
        ]

    def __str__(self):
        return self.order_id


# The parcels whose ship_at_risk clock still runs (the rule repeats it, so SQLite uses the index).
SHIP_RISK_OPEN = Q(
    packed_at__isnull=True, shipped_at__isnull=True, rts_at__isnull=True, picked_up_at__isnull=True
)


class Parcel(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="parcels", verbose_name=_("order"))
    # Copied from the order so that every scan and dashboard filter is a query on this table alone.
    # No single-column index: (shop, paid_at) below serves every lookup by shop.
    shop = models.ForeignKey(
        Shop, on_delete=models.PROTECT, related_name="parcels", verbose_name=_("shop"), db_index=False
    )
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    # No single-column index: the unique (carrier, tracking number) index serves the lookups by carrier.
    carrier = models.ForeignKey(
        Carrier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parcels",
        verbose_name=_("carrier"),
        db_index=False,
    )
    outlet = models.ForeignKey(
        CarrierOutlet,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="parcels",
        verbose_name=_("courier outlet"),
        db_index=False,  # (outlet, paid_at) below serves every lookup by outlet
    )
    # NULL, not "", is the untracked parcel: the per-carrier unique constraint must not see it.
    tracking_no = models.CharField(_("tracking number"), max_length=64, null=True, blank=True)  # noqa: DJ001
    status = models.CharField(_("status"), max_length=24, choices=ParcelStatus.choices, default=ParcelStatus.PAID)
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=8, decimal_places=3, null=True, blank=True)
    declared_value = models.DecimalField(_("declared value"), max_digits=12, decimal_places=2, null=True, blank=True)

    # Milestones (UTC). First milestones keep the earliest time, last_event_at the latest valid node.
    paid_at = models.DateTimeField(_("paid at"))
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    rts_at = models.DateTimeField(_("ready to ship at"), null=True, blank=True)
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    sorting_centre_at = models.DateTimeField(_("at sorting centre at"), null=True, blank=True)
    out_for_delivery_at = models.DateTimeField(_("out for delivery at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_event_at = models.DateTimeField(_("last valid node at"), null=True, blank=True)
    # The warehouse's nodes (earliest of each code); not valid nodes for the carrier rules.
    accepted_at = models.DateTimeField(_("warehouse accepted at"), null=True, blank=True)
    printed_at = models.DateTimeField(_("waybill printed at"), null=True, blank=True)
    picked_at = models.DateTimeField(_("picked at"), null=True, blank=True)
    packed_at = models.DateTimeField(_("packed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
        db_index=False,  # never searched by; one index fewer to maintain on every parcel update
    )
    cancel_reason = models.CharField(_("cancellation reason"), max_length=500, blank=True)

    # Deadlines, computed from the parcel's SLA policy whenever the order or a milestone changes.
    ship_due_at = models.DateTimeField(_("ship due at"), null=True, blank=True)
    pickup_warn_at = models.DateTimeField(_("pickup warning at"), null=True, blank=True)
    pickup_due_at = models.DateTimeField(_("pickup due at"), null=True, blank=True)
    update_warn_at = models.DateTimeField(_("update warning at"), null=True, blank=True)
    update_due_at = models.DateTimeField(_("update due at"), null=True, blank=True)
    sorting_due_at = models.DateTimeField(_("sorting centre due at"), null=True, blank=True)
    delivery_due_at = models.DateTimeField(_("delivery due at"), null=True, blank=True)
    route_due_at = models.DateTimeField(_("route standard due at"), null=True, blank=True)
    stagnation_warn_at = models.DateTimeField(_("stagnation warning at"), null=True, blank=True)
    stagnation_due_at = models.DateTimeField(_("stagnation due at"), null=True, blank=True)
    # ship_due_at less the policy's at-risk hours, only for parcels with a warehouse node.
    ship_risk_at = models.DateTimeField(_("shipping at risk from"), null=True, blank=True)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("parcel")
        verbose_name_plural = _("parcels")
        permissions = [("mark_ready_to_ship_parcel", _("Can mark parcels ready to ship"))]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "tracking_no"],
                condition=Q(tracking_no__isnull=False),
                name="parcel_unique_tracking_no_per_carrier",
            ),
            models.CheckConstraint(condition=Q(status__in=ParcelStatus.values), name="parcel_status_valid"),
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | Q(weight_kg__gte=0), name="parcel_weight_not_negative"
            ),
        ]
        # Every index here is written on each milestone or deadline change of a parcel: none
        # without a reader.
        indexes = [
            # Pattern ops: serves the admin's exact (=) and prefix (LIKE 'X%') tracking-number search
            # whatever the database collation (PostgreSQL; other databases ignore opclasses).
            models.Index(fields=["tracking_no"], name="parcel_tracking_no_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["status"], name="parcel_status_idx"),
            models.Index(fields=["shop", "paid_at"], name="parcel_shop_paid_idx"),
            models.Index(fields=["outlet", "paid_at"], name="parcel_outlet_paid_idx"),
            models.Index(fields=["paid_at"], name="parcel_paid_idx"),
            models.Index(fields=["last_event_at"], name="parcel_last_event_idx"),
            # The scan's clocks, each over the parcels it can still run on (the rule repeats the
            # condition, so SQLite uses them too): a parcel past the milestone leaves the index,
            # and its later milestone and deadline writes no longer touch it.
            models.Index(
                fields=["pickup_warn_at"], name="parcel_pickup_warn_open_idx", condition=Q(picked_up_at__isnull=True)
            ),
            models.Index(
                fields=["sorting_due_at"], name="parcel_sorting_due_open_idx", condition=Q(sorting_centre_at__isnull=True)
            ),
            models.Index(
                fields=["delivery_due_at"], name="parcel_delivery_due_open_idx", condition=Q(delivered_at__isnull=True)
            ),
            models.Index(fields=["route_due_at"], name="parcel_route_due_open_idx", condition=Q(delivered_at__isnull=True)),
            *(
                models.Index(fields=[column], name=name, condition=Q(unfinished()))
                for name, column in UNFINISHED_CLOCK_INDEXES.items()
            ),
            # ship_at_risk: only parcels with a warehouse node have the column; they leave the
            # index once packed, shipped, ready to ship or picked up.
            models.Index(fields=["ship_risk_at"], name="parcel_ship_risk_open_idx", condition=SHIP_RISK_OPEN),
        ]

    def __str__(self):
        return self.tracking_no or _("untracked parcel #%(pk)s") % {"pk": self.pk}

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class ParcelDraft(models.Model):
    """The next values of a batch of parcels, in a temporary table of the writing connection.

    A change of state (events folded, a status advanced, a pickup recorded) is followed by the
    derivation steps: pickups back-dates, monitoring recomputes deadlines. Done on the parcel table,
    each step would rewrite every parcel row with all its indexes; done here (a temporary table
    without indexes, `fulfillment.derivations`), the steps adjust the drafts and one UPDATE writes
    each changed parcel once. Never migrated (`managed = False`); the columns are the parcel's that these steps read or
    write, under the same names, so the same querysets and F() expressions work on both models.
    """

    id = models.BigIntegerField(primary_key=True)  # the parcel's
    order = models.ForeignKey(Order, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    shop = models.ForeignKey(Shop, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    platform = models.CharField(max_length=16)
    outlet = models.ForeignKey(
        CarrierOutlet, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    status = models.CharField(max_length=24)
    paid_at = models.DateTimeField()
    shipped_at = models.DateTimeField(null=True)
    rts_at = models.DateTimeField(null=True)
    picked_up_at = models.DateTimeField(null=True)
    sorting_centre_at = models.DateTimeField(null=True)
    out_for_delivery_at = models.DateTimeField(null=True)
    delivered_at = models.DateTimeField(null=True)
    last_event_at = models.DateTimeField(null=True)
    accepted_at = models.DateTimeField(null=True)
    printed_at = models.DateTimeField(null=True)
    picked_at = models.DateTimeField(null=True)
    packed_at = models.DateTimeField(null=True)
    ship_due_at = models.DateTimeField(null=True)
    pickup_warn_at = models.DateTimeField(null=True)
    pickup_due_at = models.DateTimeField(null=True)
    update_warn_at = models.DateTimeField(null=True)
    update_due_at = models.DateTimeField(null=True)
    sorting_due_at = models.DateTimeField(null=True)
    delivery_due_at = models.DateTimeField(null=True)
    route_due_at = models.DateTimeField(null=True)
    stagnation_warn_at = models.DateTimeField(null=True)
    stagnation_due_at = models.DateTimeField(null=True)
    ship_risk_at = models.DateTimeField(null=True)
    cancelled_at = models.DateTimeField(null=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    cancel_reason = models.CharField(max_length=500)

    class Meta:
        managed = False
        db_table = "fulfillment_parcel_draft"

    def __str__(self):
        return f"draft of parcel {self.pk}"

    # The columns a draft may change: written back to the parcel when they differ.
    WRITABLE = (
        "outlet_id",
        "status",
        "shipped_at",
        "rts_at",
        "picked_up_at",
        "sorting_centre_at",
        "out_for_delivery_at",
        "delivered_at",
        "last_event_at",
        *WAREHOUSE_MILESTONES,
        *DEADLINE_FIELDS,
        "cancelled_at",
        "cancelled_by_id",
        "cancel_reason",
    )


class TrackingEvent(models.Model):
    # Integrity lives in the database: both relations are real foreign keys, even though the
    # constraint check costs the importer about 1.5 s per 200,000 events on PostgreSQL. No
    # single-column index on `parcel`: the unique (parcel, occurred_at, …) index leads with it.
    parcel = models.ForeignKey(
        Parcel,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("parcel"),
        db_index=False,
    )
    code = models.CharField(_("code"), max_length=32, choices=EventCode.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    location = models.CharField(_("location"), max_length=200, blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="")
    outlet = models.ForeignKey(
        CarrierOutlet,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("courier outlet"),
        # Outlet indicators group parcels (Parcel.outlet), not events: no index to maintain per event.
        db_index=False,
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        constraints = [
            # An event is identified by (parcel, code, occurred_at, location). The columns are in
            # this order so that the same index also serves "a parcel's events by time" (scanned
            # backwards for the latest): one index fewer to maintain on every imported event.
            models.UniqueConstraint(
                fields=["parcel", "occurred_at", "code", "location"], name="event_unique_parcel_time_code_location"
            ),
            models.CheckConstraint(condition=Q(code__in=EventCode.values), name="event_code_valid"),
        ]

    def __str__(self):
        return f"{self.code} @ {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def is_valid_node(self) -> bool:
        return self.code in VALID_NODE_CODES


class Region(models.Model):
    """A province (city empty) or a city; remote destinations get the longer stagnation threshold."""

    province = models.CharField(_("province"), max_length=64)
    city = models.CharField(_("city"), max_length=64, blank=True, default="")
    is_remote = models.BooleanField(_("remote"), default=False)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["province", "city"]
        constraints = [models.UniqueConstraint(fields=["province", "city"], name="region_unique_province_city")]

    def __str__(self):
        return f"{self.province} {self.city}".strip()


class Holiday(models.Model):
    """A public holiday (is_working_day=False) or a make-up working day on a weekend (True)."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"), default=False)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.name}"


# The records of the commands (import runs, event archives) live in `fulfillment.records`.
from .records import EventArchive, ImportRun  # noqa: E402, F401
