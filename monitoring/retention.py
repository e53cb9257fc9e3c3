"""What monitoring keeps from being archived (`settings.EVENT_ARCHIVE_GUARDS`): the events of a
parcel with an open complaint are evidence of the claim."""

from django.utils.translation import gettext as _

from .models import Complaint


def open_claims(*, parcel_ids) -> list[str]:
    count = Complaint.objects.filter(parcel_id__in=parcel_ids, resolved_at__isnull=True).count()
    if not count:
        return []
    return [_("%(count)s open complaints concern parcels with events in this month.") % {"count": count}]
