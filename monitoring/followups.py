"""What runs after each scan, named in `settings.SCAN_FOLLOW_UPS` (dotted paths, each called with
`now=`): the apps above monitoring plug in there (the notification digests), so monitoring imports none
of them."""

from django.conf import settings
from django.utils.module_loading import import_string


def scan_follow_ups(*, report) -> None:
    if report.skipped:
        return
    for path in getattr(settings, "SCAN_FOLLOW_UPS", ()):
        import_string(path)(now=report.now)
