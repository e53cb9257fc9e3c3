"""Consolidation bags, pickup handover sheets and official pickup coverage (DESIGN.md, "Bags, handover sheets, pickup")."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from fulfillment.models import Carrier, Parcel, Shop

# Sealing limits (Cainiao consolidation: Shenzhen and Yiwu sorting centres only).
BAG_MAX_PARCELS = 300
BAG_MAX_WEIGHT_KG = Decimal("50")
BAG_MAX_LONGEST_SIDE_CM = Decimal("120")  # the longest side must be *under* this
BAG_MAX_SIDES_SUM_CM = Decimal("180")


class SortingCentre(models.TextChoices):
    SZ = "SZ", _("Shenzhen")
    YW = "YW", _("Yiwu")


class BagStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SEALED = "sealed", _("Sealed")
    HANDED_OVER = "handed_over", _("Handed over")
    PICKED_UP = "picked_up", _("Picked up")
    RECEIVED = "received", _("Received")
    LOST = "lost", _("Lost")


class ConsolidationBag(models.Model):
    TRANSITIONS = {
        BagStatus.OPEN: (BagStatus.SEALED,),
        BagStatus.SEALED: (BagStatus.OPEN, BagStatus.HANDED_OVER),
        BagStatus.HANDED_OVER: (BagStatus.SEALED, BagStatus.PICKED_UP),
        BagStatus.PICKED_UP: (BagStatus.RECEIVED, BagStatus.LOST),
        BagStatus.RECEIVED: (),
        BagStatus.LOST: (),
    }

    number = models.CharField(_("bag number"), max_length=32, unique=True)
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="bags", verbose_name=_("shop"))
    sorting_centre = models.CharField(_("destination sorting centre"), max_length=2, choices=SortingCentre.choices)
    status = models.CharField(_("status"), max_length=16, choices=BagStatus.choices, default=BagStatus.OPEN)
    gross_weight_kg = models.DecimalField(_("gross weight (kg)"), max_digits=7, decimal_places=2, null=True, blank=True)
    length_cm = models.DecimalField(_("length (cm)"), max_digits=6, decimal_places=1, null=True, blank=True)
    width_cm = models.DecimalField(_("width (cm)"), max_digits=6, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(_("height (cm)"), max_digits=6, decimal_places=1, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sealed_at = models.DateTimeField(_("sealed at"), null=True, blank=True)
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    reported_lost_at = models.DateTimeField(_("reported lost at"), null=True, blank=True)

    class Meta:
        verbose_name = _("consolidation bag")
        verbose_name_plural = _("consolidation bags")
        ordering = ["-created_at"]
        permissions = [
            ("seal_consolidationbag", _("Can seal a consolidation bag")),
            ("export_claim_evidence", _("Can export claim evidence of a lost bag")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(sorting_centre__in=SortingCentre.values), name="bag_sorting_centre_valid"
            ),
            models.CheckConstraint(condition=Q(status__in=BagStatus.values), name="bag_status_valid"),
            models.CheckConstraint(
                condition=Q(gross_weight_kg__isnull=True) | Q(gross_weight_kg__gte=0), name="bag_weight_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["status"], name="bag_status_idx")]

    def __str__(self):
        return self.number

    def can_become(self, status) -> bool:
        return status in self.TRANSITIONS[self.status]

    @property
    def is_reported_lost(self) -> bool:
        return self.reported_lost_at is not None

    def seal_problems(self, parcel_count: int | None = None, parcels_weight_kg: Decimal | None = None) -> list[str]:
        """Every reason this bag cannot be sealed, all at once (Cainiao consolidation limits).

        At most 300 parcels, at most 50 kg, the longest side *under* 120 cm and length + width +
        height at most 180 cm; an empty bag is never sealed, and a bag must be weighed and measured.
        The gross weight is at least the parcels' known weights, and every figure is positive (a scale
        or tape typo is refused, naming both figures). `parcel_count` / `parcels_weight_kg` may be
        passed when the caller already summed the bag's items.
        """
        if parcel_count is None:
            totals = self.items.aggregate(count=Count("pk"), weight=Sum("parcel__weight_kg"))
            parcel_count = totals["count"]
            parcels_weight_kg = totals["weight"] if parcels_weight_kg is None else parcels_weight_kg
        if parcels_weight_kg is not None:  # SQLite sums decimals as floats
            parcels_weight_kg = Decimal(str(parcels_weight_kg)).quantize(Decimal("0.001")).normalize()
        problems = []
        if parcel_count == 0:
            problems.append(_("The bag is empty: scan at least one parcel into it."))
        elif parcel_count > BAG_MAX_PARCELS:
            problems.append(
                _("The bag holds %(count)d parcels; at most %(max)d are allowed.")
                % {"count": parcel_count, "max": BAG_MAX_PARCELS}
            )
        if self.gross_weight_kg is None:
            problems.append(_("Enter the bag's gross weight."))
        elif self.gross_weight_kg <= 0:
            problems.append(_("The gross weight must be more than 0 kg."))
        elif parcels_weight_kg and self.gross_weight_kg < parcels_weight_kg:
            problems.append(
                _("The bag weighs %(weight)s kg, less than its parcels' known weights (%(parcels)s kg): weigh it again.")
                % {"weight": self.gross_weight_kg, "parcels": format(parcels_weight_kg, "f")}
            )
        elif self.gross_weight_kg > BAG_MAX_WEIGHT_KG:
            problems.append(
                _("The bag weighs %(weight)s kg; at most %(max)s kg is allowed.")
                % {"weight": self.gross_weight_kg, "max": BAG_MAX_WEIGHT_KG}
            )
        sides = [self.length_cm, self.width_cm, self.height_cm]
        measured = [side for side in sides if side is not None]
        if len(measured) < len(sides):
            problems.append(_("Enter the bag's length, width and height."))
        if any(side <= 0 for side in measured):
            problems.append(_("Every side must be more than 0 cm."))
        if measured and max(measured) >= BAG_MAX_LONGEST_SIDE_CM:
            problems.append(
                _("The longest side is %(side)s cm; it must be under %(max)s cm.")
                % {"side": max(measured), "max": BAG_MAX_LONGEST_SIDE_CM}
            )
        total = sum(measured)
        if total > BAG_MAX_SIDES_SUM_CM:
            problems.append(
                _("Length + width + height is %(total)s cm; at most %(max)s cm is allowed.")
                % {"total": total, "max": BAG_MAX_SIDES_SUM_CM}
            )
        return problems


class BagItem(models.Model):
    """A parcel on a bag's list (consolidated). A parcel is in at most one bag."""

    bag = models.ForeignKey(ConsolidationBag, on_delete=models.CASCADE, related_name="items", verbose_name=_("bag"))
    parcel = models.OneToOneField(Parcel, on_delete=models.PROTECT, related_name="bag_item", verbose_name=_("parcel"))
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("added by")
    )

    class Meta:
        verbose_name = _("bag item")
        verbose_name_plural = _("bag items")
        ordering = ["added_at", "pk"]

    def __str__(self):
        return f"{self.bag} / {self.parcel}"


class SheetStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    BOOKED = "booked", _("Booked")
    PICKED_UP = "picked_up", _("Picked up")
    CANCELLED = "cancelled", _("Cancelled")


class HandoverSheet(models.Model):
    """A pickup handover sheet: cancellable in draft and booked only, never after the agent's confirmation."""

    TRANSITIONS = {
        SheetStatus.DRAFT: (SheetStatus.BOOKED, SheetStatus.CANCELLED),
        SheetStatus.BOOKED: (SheetStatus.PICKED_UP, SheetStatus.CANCELLED),
        SheetStatus.PICKED_UP: (),
        SheetStatus.CANCELLED: (),
    }

    number = models.CharField(_("sheet number"), max_length=32, unique=True)
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="handover_sheets", verbose_name=_("shop"))
    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, related_name="handover_sheets", verbose_name=_("pickup provider")
    )
    pickup_address = models.TextField(_("pickup address"))
    pickup_province = models.CharField(_("pickup province"), max_length=64)
    pickup_city = models.CharField(_("pickup city"), max_length=64)
    window_start = models.DateTimeField(_("pickup window from"))
    window_end = models.DateTimeField(_("pickup window to"))
    status = models.CharField(_("status"), max_length=16, choices=SheetStatus.choices, default=SheetStatus.DRAFT)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    booked_at = models.DateTimeField(_("booked at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    pickup_agent = models.CharField(_("pickup agent"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("handover sheet")
        verbose_name_plural = _("handover sheets")
        ordering = ["-created_at"]
        permissions = [
            ("cancel_handoversheet", _("Can cancel a handover sheet before pickup")),
            ("confirm_pickup_handoversheet", _("Can record the pickup agent's confirmation")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=SheetStatus.values), name="sheet_status_valid"),
            models.CheckConstraint(
                condition=Q(window_end__gte=models.F("window_start")),
                name="sheet_window_ordered",
                violation_error_message=_("The pickup window ends before it starts."),
            ),
            # A cancelled sheet has a reason; a picked-up sheet has a pickup time (enforced by the database too).
            models.CheckConstraint(
                condition=~Q(status="cancelled") | (Q(cancelled_at__isnull=False) & ~Q(cancel_reason="")),
                name="sheet_cancel_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="picked_up") | Q(picked_up_at__isnull=False), name="sheet_pickup_has_time"
            ),
            # A sheet whose pickup was confirmed can never be cancelled, whatever path writes the row.
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(picked_up_at__isnull=True), name="sheet_cancelled_never_picked_up"
            ),
        ]
        indexes = [models.Index(fields=["status"], name="sheet_status_idx")]

    def __str__(self):
        return self.number

    def can_become(self, status) -> bool:
        return status in self.TRANSITIONS[self.status]


class HandoverItem(models.Model):
    """A sealed bag or a loose parcel on a sheet. Cancelling a sheet deactivates its items, freeing them."""

    sheet = models.ForeignKey(HandoverSheet, on_delete=models.CASCADE, related_name="items", verbose_name=_("sheet"))
    bag = models.ForeignKey(
        ConsolidationBag,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handover_items",
        verbose_name=_("bag"),
    )
    parcel = models.ForeignKey(
        Parcel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handover_items",
        verbose_name=_("loose parcel"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("handover item")
        verbose_name_plural = _("handover items")
        constraints = [
            models.CheckConstraint(
                condition=(Q(bag__isnull=False) & Q(parcel__isnull=True))
                | (Q(bag__isnull=True) & Q(parcel__isnull=False)),
                name="handover_item_bag_xor_parcel",
            ),
            models.UniqueConstraint(fields=["bag"], condition=Q(active=True), name="handover_item_bag_on_one_sheet"),
            models.UniqueConstraint(
                fields=["parcel"], condition=Q(active=True), name="handover_item_parcel_on_one_sheet"
            ),
        ]

    def __str__(self):
        return str(self.bag or self.parcel)


# The reasons the services write themselves: stored as a code with its figures, read in the reader's
# language (a clerk's own words, a reopening or a loss, stay as typed in `reason`).
SYSTEM_REASONS = {
    "bag_created": gettext_noop("Bag created"),
    "put_on_sheet": gettext_noop("Put on handover sheet %(sheet)s"),
    "sheet_cancelled": gettext_noop("Handover sheet %(sheet)s cancelled: %(reason)s"),
    "picked_up_by": gettext_noop("Picked up by %(agent)s"),
}


class Transition(models.Model):
    """Audit row: who moved a bag or a sheet from which status to which, when and why."""

    bag = models.ForeignKey(
        ConsolidationBag,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="transitions",
        verbose_name=_("bag"),
    )
    sheet = models.ForeignKey(
        HandoverSheet,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="transitions",
        verbose_name=_("sheet"),
    )
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16)
    at = models.DateTimeField(_("at"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("by")
    )
    reason = models.TextField(_("reason"), blank=True)
    reason_code = models.CharField(_("reason code"), max_length=32, blank=True)
    reason_params = models.JSONField(_("reason figures"), default=dict, blank=True)

    class Meta:
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(bag__isnull=False) | Q(sheet__isnull=False), name="transition_has_subject"
            ),
        ]

    def __str__(self):
        return f"{self.from_status or '∅'} → {self.to_status}"

    @staticmethod
    def status_label(status: str) -> str:
        if not status:
            return "—"
        if status == "reported_lost":
            return _("Reported lost")
        labels = dict(BagStatus.choices) if status not in SheetStatus.values else dict(SheetStatus.choices)
        return labels.get(status, status)

    @property
    def reason_label(self) -> str:
        """The reason in the reader's language: a system reason from its code, a clerk's as typed."""
        template = SYSTEM_REASONS.get(self.reason_code)
        if template is None:
            return self.reason
        try:
            return gettext(template) % (self.reason_params or {})
        except (KeyError, TypeError, ValueError):
            return self.reason

    @property
    def from_label(self) -> str:
        return self.status_label(self.from_status)

    @property
    def to_label(self) -> str:
        return self.status_label(self.to_status)


class PickupCoverage(models.Model):
    """A province (city empty) or city covered by the official pickup service."""

    province = models.CharField(_("province"), max_length=64)
    city = models.CharField(_("city"), max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("pickup coverage")
        verbose_name_plural = _("pickup coverage")
        ordering = ["province", "city"]
        constraints = [models.UniqueConstraint(fields=["province", "city"], name="coverage_unique_province_city")]

    def __str__(self):
        return f"{self.province} {self.city}".strip()


class LabelFormat(models.TextChoices):
    A4 = "a4", _("A4 sheet (office printer)")
    THERMAL_100X150 = "thermal_100x150", _("100 × 150 mm thermal label")


class PrinterPreference(models.Model):
    """The paper a user's printer takes for bag labels and handover sheets: warehouses print on
    100 × 150 mm thermal labels (203 dpi), offices on A4. Set by the user from the label page."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="printer_preference", verbose_name=_("user")
    )
    label_format = models.CharField(
        _("label format"), max_length=20, choices=LabelFormat.choices, default=LabelFormat.A4
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("printer preference")
        verbose_name_plural = _("printer preferences")

    def __str__(self):
        return f"{self.user} · {self.get_label_format_display()}"
