"""The measured weight and sides of a bag, recorded before it is sealed (the API's seal takes them
with the request; the admin's bag form writes the same fields)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import TransitionNotAllowed

from ..models import BagStatus, ConsolidationBag

MEASURED_FIELDS = ("gross_weight_kg", "length_cm", "width_cm", "height_cm")


@transaction.atomic
def bag_measure(*, bag: ConsolidationBag, by, **measurements: Decimal) -> ConsolidationBag:
    """Record the given measurements of an open bag; each must be positive."""
    bag = ConsolidationBag.objects.select_for_update(of=("self",)).get(pk=bag.pk)
    if bag.status != BagStatus.OPEN:
        raise TransitionNotAllowed(
            _("Bag %(bag)s is %(status)s: only an open bag is weighed and measured.")
            % {"bag": bag.number, "status": bag.get_status_display()}
        )
    fields = [name for name in MEASURED_FIELDS if measurements.get(name) is not None]
    bad = [name for name in fields if measurements[name] <= 0]
    if bad:
        raise TransitionNotAllowed(
            _("Weight and sides must be positive: %(fields)s.") % {"fields": ", ".join(bad)}, code="measurements"
        )
    for name in fields:
        setattr(bag, name, measurements[name])
    bag.save(update_fields=fields)
    return bag
