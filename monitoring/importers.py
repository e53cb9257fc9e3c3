"""Imports of the monitoring reference data and of the platforms' tickets, on `fulfillment.importing`.

- `import_tickets`: `platform,order_id,tracking_no,opened_at,kind` — `kind` `stagnation` opens a
  StagnationTicket (answer due 24 h after opening, warning at 16 h: the parcel's policy says),
  `false_signoff` a Complaint; the next scan raises `ticket_response_overdue` / `false_signoff`.
- `import_route_standards`: `origin_province,dest_province,days`; the route deadlines of the parcels
  still on their way are recomputed afterwards.

Re-running a file is a no-op: tickets are keyed by (parcel, opened_at), complaints by
(parcel, kind, opened_at), route standards by the province pair.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fulfillment.access import limit_to_shops
from fulfillment.importing import (
    Importer,
    RowError,
    optional,
    parse_choice,
    parse_int,
    parse_time,
    require,
    upsert_by_natural_key,
)
from fulfillment.models import FINISHED_STATUSES, Parcel, Platform
from monitoring.deadlines import active_policies, policy_for, recompute_deadlines
from monitoring.models import AlertKind, Complaint, RouteStandard, SlaPolicy, StagnationTicket

TICKET_KINDS = ("stagnation", "false_signoff")
# Used only when no active policy governs the parcel (DESIGN.md: answer within 24 h).
DEFAULT_TICKET_WARN_HOURS, DEFAULT_TICKET_RESPONSE_HOURS = 16, 24


@dataclass(slots=True)
class TicketRecord:
    line: int
    platform: str
    order_id: str
    tracking_no: str
    opened_at: datetime.datetime
    kind: str


class TicketImporter(Importer):
    """Stagnation tickets and false sign-off complaints opened by the platforms."""

    permission = "monitoring.add_stagnationticket"  # besides fulfillment.add_importrun, to upload such a file

    command = "import_tickets"
    required_columns = ("platform", "order_id", "tracking_no", "opened_at", "kind")
    batch_size = 2000

    def clean_row(self, row, line):
        return TicketRecord(
            line=line,
            platform=parse_choice(row.get("platform", ""), "platform", Platform.values),
            order_id=require(row, "order_id", max_length=64),
            tracking_no=optional(row, "tracking_no", max_length=64),
            opened_at=parse_time(row.get("opened_at", ""), "opened_at"),
            kind=parse_choice(row.get("kind", ""), "kind", TICKET_KINDS),
        )

    def _parcels(self, records: list[TicketRecord]) -> dict[tuple[str, str], list[dict]]:
        wanted = Q(pk__in=[])
        for platform in {r.platform for r in records}:
            wanted |= Q(
                order__platform=platform, order__order_id__in={r.order_id for r in records if r.platform == platform}
            )
        parcels: dict[tuple[str, str], list[dict]] = {}
        for p in limit_to_shops(Parcel.objects.filter(wanted), self.by).values(
            "pk", "tracking_no", "paid_at", "order__platform", "order__order_id", "order__seller_tier"
        ):
            parcels.setdefault((p["order__platform"], p["order__order_id"]), []).append(p)
        return parcels

    def _find(self, record: TicketRecord, parcels) -> dict | None:
        candidates = parcels.get((record.platform, record.order_id), [])
        if not candidates:
            self.reject(record.line, "order_id", _("no order %(order)s on %(platform)s") % {
                "order": record.order_id, "platform": record.platform})  # fmt: skip
            return None
        if record.tracking_no:
            matching = [p for p in candidates if p["tracking_no"] == record.tracking_no]
            if not matching:
                self.reject(record.line, "tracking_no", _("order %(order)s has no parcel %(tracking)s") % {
                    "order": record.order_id, "tracking": record.tracking_no})  # fmt: skip
                return None
            return matching[0]
        if len(candidates) > 1:
            self.reject(
                record.line, "tracking_no", _("order %(order)s has several parcels: give the tracking number")
                % {"order": record.order_id},
            )  # fmt: skip
            return None
        return candidates[0]

    def apply_batch(self, records):
        policies = active_policies()
        parcels = self._parcels(records)
        tickets: dict[tuple[int, datetime.datetime], StagnationTicket] = {}
        complaints: dict[tuple[int, datetime.datetime], Complaint] = {}
        duplicates = 0
        for record in records:
            parcel = self._find(record, parcels)
            if parcel is None:
                continue
            key = (parcel["pk"], record.opened_at)
            if record.kind == "stagnation":
                if key in tickets:
                    duplicates += 1
                    continue
                policy = policy_for(
                    platform=record.platform,
                    seller_tier=parcel["order__seller_tier"],
                    paid_at=parcel["paid_at"],
                    policies=policies,
                )
                warn, due = _ticket_hours(policy)
                tickets[key] = StagnationTicket(
                    parcel_id=parcel["pk"],
                    opened_at=record.opened_at,
                    response_warn_at=record.opened_at + datetime.timedelta(hours=warn),
                    response_due_at=record.opened_at + datetime.timedelta(hours=due),
                )
            else:
                if key in complaints:
                    duplicates += 1
                    continue
                complaints[key] = Complaint(
                    parcel_id=parcel["pk"], kind=AlertKind.FALSE_SIGNOFF, opened_at=record.opened_at
                )
        new_tickets = _not_stored(tickets, StagnationTicket.objects.all())
        new_complaints = _not_stored(complaints, Complaint.objects.filter(kind=AlertKind.FALSE_SIGNOFF))
        StagnationTicket.objects.bulk_create(new_tickets, ignore_conflicts=True)
        Complaint.objects.bulk_create(new_complaints, ignore_conflicts=True)
        inserted = len(new_tickets) + len(new_complaints)
        unchanged = len(tickets) + len(complaints) - inserted + duplicates
        return inserted, 0, unchanged


def _ticket_hours(policy: SlaPolicy | None) -> tuple[int, int]:
    if policy is None:
        return DEFAULT_TICKET_WARN_HOURS, DEFAULT_TICKET_RESPONSE_HOURS
    return policy.ticket_warn_hours, policy.ticket_response_hours


def _not_stored(pending: dict, existing_rows) -> list:
    """The pending objects whose (parcel, opened_at) key is not in the database yet."""
    if not pending:
        return []
    stored = set(
        existing_rows.filter(
            parcel_id__in={key[0] for key in pending}, opened_at__in={key[1] for key in pending}
        ).values_list("parcel_id", "opened_at")
    )
    return [obj for key, obj in pending.items() if key not in stored]


@dataclass(slots=True)
class RouteRecord:
    line: int
    origin_province: str
    dest_province: str
    days: int


class RouteStandardImporter(Importer):
    """Standard transit days per province pair; a later row for the same pair wins."""

    permission = "monitoring.change_routestandard"  # besides fulfillment.add_importrun, to upload such a file

    command = "import_route_standards"
    required_columns = ("origin_province", "dest_province", "days")
    batch_size = 2000

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.pairs: set[tuple[str, str]] = set()

    def clean_row(self, row, line):
        return RouteRecord(
            line=line,
            origin_province=require(row, "origin_province", max_length=64),
            dest_province=require(row, "dest_province", max_length=64),
            days=parse_int(row.get("days", ""), "days", minimum=1, maximum=60),
        )

    def apply_batch(self, records):
        result = upsert_by_natural_key(
            model=RouteStandard,
            key_fields=("origin_province", "dest_province"),
            value_fields=("days",),
            records=records,
        )
        # Every pair of the file, changed or not: a run interrupted after its write and before this
        # recompute is finished by running the file again (the database, not memory, says what is due).
        self.pairs.update((r.origin_province, r.dest_province) for r in records)
        return result.counts

    def finish(self):
        """The standards of the file move the route deadline of parcels picked up and not finished on
        those routes; a recompute writes only the parcels whose deadline differs."""
        if not self.pairs or self.dry_run:
            return
        pairs = sorted(self.pairs)
        running = Parcel.objects.filter(picked_up_at__isnull=False, delivered_at__isnull=True).exclude(
            status__in=FINISHED_STATUSES
        )
        for start in range(0, len(pairs), PAIRS_PER_QUERY):  # a bounded OR per statement
            on_routes = Q(pk__in=[])
            for origin, dest in pairs[start : start + PAIRS_PER_QUERY]:
                on_routes |= Q(order__origin_province=origin, order__dest_province=dest)
            recompute_deadlines(parcels=running.filter(on_routes))


PAIRS_PER_QUERY = 200


__all__ = ["RouteStandardImporter", "RowError", "TicketImporter"]
