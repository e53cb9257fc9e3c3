"""The bag's scan page: a scanner gun types a number and Enter, faster than a page can reload.

With JavaScript (`pickups/static/pickups/scan.js`) each Enter is queued and sent, in order, to the
JSON endpoint `<pk>/scan.json`; without it the form posts and redirects back (POST/redirect/GET).
Both paths call `services.bag_add_parcels` and write the same running log of this bag's scans,
kept in the clerk's session, so a reload or the no-script path shows what the gun did.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import messages_of
from fulfillment.access import limit_to_shops
from fulfillment.models import Parcel
from fulfillment.services import parcels_mark_ready_to_ship

from .. import services
from ..forms import ScanForm
from ..models import BAG_MAX_PARCELS, BAG_MAX_WEIGHT_KG, BagStatus, ConsolidationBag
from ..selectors import bag_parcels, bag_totals
from ..services.scan_results import scan_message
from ..services.scanning import normalize_tracking_number, split_scanned_codes

SCAN_LOG_SIZE = 400  # lines kept per bag: a bag holds at most 300 parcels
SCAN_LOGS_KEPT = 5  # bags whose log a session keeps (the session is read on every request)
MAX_CODES_PER_REQUEST = 500
_LOGS = "pickups.bag_scan_logs"


class ScanLog:
    """This bag's scans by this clerk, kept in the session: the lines (oldest first), how many lines
    the latest request wrote (`last`), and the counts (which outlive lines dropped past the limit).
    The session keeps the logs of the last few bags scanned into."""

    def __init__(self, request, bag: ConsolidationBag):
        self.session = request.session
        self.bag_key = str(bag.pk)
        stored = (self.session.get(_LOGS) or {}).get(self.bag_key) or {}
        self.entries: list[dict] = list(stored.get("entries", []))
        self.last: int = stored.get("last", 0)
        self.added: int = stored.get("added", 0)
        self.refused: int = stored.get("refused", 0)

    def append(self, entries: list[dict]) -> None:
        self.entries = (self.entries + entries)[-SCAN_LOG_SIZE:]
        self.last = len(entries)
        added = sum(1 for entry in entries if entry["added"])
        self.added += added
        self.refused += len(entries) - added
        logs = dict(self.session.get(_LOGS) or {})
        logs.pop(self.bag_key, None)
        logs[self.bag_key] = {"entries": self.entries, "last": self.last, "added": self.added, "refused": self.refused}
        self.session[_LOGS] = dict(list(logs.items())[-SCAN_LOGS_KEPT:])  # the most recently scanned last

    def newest_first(self) -> list[dict]:
        return shown(list(reversed(self.entries)))

    def latest(self) -> list[dict]:
        """The lines of the latest request, oldest first."""
        return shown(self.entries[-self.last :]) if self.last else []


def scan_entry(result: services.ScanResult) -> dict:
    """One log line as stored: the facts, not the sentence (`shown` writes it in today's language)."""
    if result.added:
        tone = "added"
    elif result.outcome == services.ScanOutcome.ALREADY_IN_THIS_BAG:
        tone = "notice"
    else:
        tone = "refused"
    return {
        "tracking_no": result.tracking_no,
        "outcome": str(result.outcome),
        "details": result.details,
        "added": result.added,
        "tone": tone,
        "at": timezone.localtime().strftime("%H:%M:%S"),
    }


def shown(entries: list[dict]) -> list[dict]:
    """Log lines as the page and scan.js show them, with the clerk's sentence in the active language."""
    return [
        {**{k: v for k, v in entry.items() if k != "details"}, "message": scan_message(entry["outcome"], entry.get("details"))}
        for entry in entries
    ]


class BagScanViewsMixin:
    """The scan page, its JSON endpoint and "mark ready to ship" from a refused Lazada line."""

    def scan_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/scan/", view(self.scan_view), name="pickups_consolidationbag_scan"),
            path("<int:pk>/scan.json", view(self.scan_json_view), name="pickups_consolidationbag_scan_json"),
            path(
                "<int:pk>/ready-to-ship/",
                view(self.scan_ready_to_ship_view),
                name="pickups_consolidationbag_scan_ready_to_ship",
            ),
        ]

    def _may_scan(self, request) -> bool:
        return request.user.has_perm("pickups.add_bagitem")

    def _may_mark_ready(self, request) -> bool:
        return self._may_scan(request) and request.user.has_perm("fulfillment.mark_ready_to_ship_parcel")

    def _scan(self, request, bag: ConsolidationBag, codes: list[str]) -> ScanLog:
        """Scan `codes` into the bag and log the outcome; a closed bag raises the service's error."""
        log = ScanLog(request, bag)
        results = services.bag_add_parcels(bag=bag, tracking_numbers=codes, by=request.user)
        log.append([scan_entry(result) for result in results])
        return log

    def _added_parcels(self, bag: ConsolidationBag, log: ScanLog) -> list[dict]:
        """The rows the bag's list gains from the latest scans (scan.js puts them on top of it)."""
        numbers = [entry["tracking_no"] for entry in log.entries[-log.last :] if entry["added"]] if log.last else []
        if not numbers:
            return []
        return [
            {
                "id": parcel.pk,
                "tracking_no": parcel.tracking_no,
                "order_id": parcel.order.order_id,
                "weight_kg": "" if parcel.weight_kg is None else str(parcel.weight_kg),
                "added_at": timezone.localtime(parcel.bag_item.added_at).strftime("%H:%M:%S"),
            }
            for parcel in bag_parcels(bag=bag).filter(tracking_no__in=numbers)
        ]

    def _scan_answer(self, bag: ConsolidationBag, log: ScanLog) -> JsonResponse:
        return JsonResponse(
            {
                "results": log.latest(),
                "parcels": self._added_parcels(bag, log),
                "totals": self._scan_totals(bag, log),
            }
        )

    def _scan_totals(self, bag: ConsolidationBag, log: ScanLog) -> dict:
        totals = bag_totals(bag=bag)
        return {
            "parcels": totals.parcels,
            "max_parcels": BAG_MAX_PARCELS,
            "weight_kg": f"{totals.parcels_weight_kg:.2f}",
            "max_weight_kg": f"{BAG_MAX_WEIGHT_KG:.0f}",
            "over_parcels": totals.parcels > BAG_MAX_PARCELS,
            "over_weight": totals.parcels_weight_kg > BAG_MAX_WEIGHT_KG,
            "added": log.added,
            "refused": log.refused,
        }

    def scan_view(self, request, pk):
        """The scan page; a posted form (no JavaScript, or numbers pasted) scans and redirects back."""
        bag = self._bag_or_404(request, pk)
        if request.method == "POST":
            if not self._may_scan(request):
                raise PermissionDenied
            form = ScanForm(request.POST)
            if form.is_valid():
                try:
                    self._scan(request, bag, split_scanned_codes(form.cleaned_data["tracking_numbers"]))
                except ValidationError as error:
                    self.message_user(request, messages_of(error), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:pickups_consolidationbag_scan", args=[bag.pk]))
        log = ScanLog(request, bag)
        entries = log.newest_first()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Scan parcels into bag %(bag)s") % {"bag": bag.number},
            "bag": bag,
            "form": ScanForm(),
            "can_scan": bag.status == BagStatus.OPEN and self._may_scan(request),
            "can_mark_ready": self._may_mark_ready(request),
            "can_remove": bag.status == BagStatus.OPEN and request.user.has_perm("pickups.delete_bagitem"),
            "last_results": entries[: log.last],
            "log_entries": entries,
            "totals": self._scan_totals(bag, log),
            "parcels": list(bag_parcels(bag=bag)),
        }
        return TemplateResponse(request, "admin/pickups/consolidationbag/scan.html", context)

    def scan_json_view(self, request, pk):
        """POST {"numbers": ["…", …]} (one entry per Enter) → {"results": [...], "totals": {...}}."""
        bag = self._bag_or_404(request, pk)
        if request.method != "POST":
            return JsonResponse({"error": gettext("Send the scanned numbers with POST.")}, status=405)
        if not self._may_scan(request):
            return JsonResponse({"error": gettext("You may not add parcels to bags.")}, status=403)
        try:
            numbers = json.loads(request.body or b"{}").get("numbers")
            if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
                raise ValueError
        except (ValueError, AttributeError):
            return JsonResponse({"error": gettext('Expected {"numbers": ["…"]}.')}, status=400)
        codes = [code for number in numbers for code in split_scanned_codes(number)]
        if len(codes) > MAX_CODES_PER_REQUEST:
            return JsonResponse({"error": gettext("Too many numbers in one request.")}, status=400)
        try:
            log = self._scan(request, bag, codes)
        except ValidationError as error:
            return JsonResponse(
                {"error": messages_of(error), "totals": self._scan_totals(bag, ScanLog(request, bag))}, status=409
            )
        return self._scan_answer(bag, log)

    def scan_ready_to_ship_view(self, request, pk):
        """A Lazada parcel refused as not ready to ship: mark it ready to ship and scan it again."""
        bag = self._bag_or_404(request, pk)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:pickups_consolidationbag_scan", args=[bag.pk]))
        if not self._may_mark_ready(request):
            raise PermissionDenied
        number = normalize_tracking_number(request.POST.get("tracking_no", ""))
        parcel = (
            limit_to_shops(Parcel.objects.filter(shop=bag.shop, tracking_no=number), request.user).first()
            if number
            else None
        )
        wants_json = "application/json" in request.headers.get("Accept", "")
        error = None
        log = ScanLog(request, bag)
        if parcel is None:
            error = gettext("Unknown tracking number.")
        else:
            marked = parcels_mark_ready_to_ship(parcels=[parcel], at=timezone.now(), by=request.user)
            if marked.skipped and parcel.rts_at is None:
                error = marked.skipped[0][1]
            else:
                try:
                    log = self._scan(request, bag, [parcel.tracking_no])
                except ValidationError as problem:
                    error = messages_of(problem)
        if wants_json and error:
            return JsonResponse({"error": error, "totals": self._scan_totals(bag, log)}, status=409)
        if wants_json:
            return self._scan_answer(bag, log)
        if error:
            self.message_user(request, error, messages.ERROR)
        return HttpResponseRedirect(reverse("admin:pickups_consolidationbag_scan", args=[bag.pk]))
