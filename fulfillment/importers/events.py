"""`import_events`: the carriers' tracking events, written by a few set statements per batch."""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from core.db.bulk import (
    bulk_write_transaction_tune,
    column_name,
    staging_batch_prepare,
    staging_datetime,
    staging_session_prepare,
    staging_table_create,
    staging_table_load,
    table_name,
)
from core.db.dialect import lock_rows_suffix
from fulfillment.access import shop_ids_for
from fulfillment.importing import Importer, RowError, parse_choice, parse_time

STAGE = "import_event_stage"
# The columns of a staging row, as `clean_row` returns them...
STAGE_ROW = (
    ("line", "integer"),
    ("carrier_code", "text"),
    ("tracking_no", "text"),
    ("code", "text"),
    ("occurred_at", "datetime"),
    ("location", "text"),
    ("description", "text"),
    ("outlet_code", "text"),
)
# ...and those the statements fill in: each row's parcel, found once.
STAGE_COLUMNS = (*STAGE_ROW, ("carrier_id", "bigint"), ("parcel_id", "bigint"))
# The parcels of the batch being applied (the stage is this connection's temporary table).
BATCH_PARCELS = f"SELECT DISTINCT parcel_id FROM {STAGE} WHERE parcel_id IS NOT NULL"  # noqa: S608


MAX_DESCRIPTION = 2000  # a carrier's node text is a sentence; a longer one is a broken file


class EventImporter(Importer):
    """`carrier_code,tracking_no,code,occurred_at,location,description,outlet_code`.

    Each batch is loaded into a temporary staging table (`core.db.bulk`: COPY on PostgreSQL, one
    `executemany` on SQLite) and written by a few set statements: each row's parcel is found once
    (carrier code + tracking number, one UPDATE … FROM on the staging table), rows without one are
    reported, missing outlets are created for the parcel's carrier, the events are inserted with
    one `INSERT … SELECT … ON CONFLICT DO NOTHING` (an event is identified by parcel, time, code
    and location, so importing it twice stores it once; the insert's row count is the number
    inserted, the rest are unchanged), and the new events are folded into their parcels'
    milestones with one UPDATE (`services.parcels_fold_new_events`), which also sends
    `parcels_changed(reason="events")`.

    The same SQL runs on both databases; on SQLite the staging table replaces the
    `bulk_create(ignore_conflicts=True)` of the house style because it also finds unknown parcels
    and counts inserted rows in SQL, and is faster than building a model instance per event.
    """

    permission = "fulfillment.add_trackingevent"  # besides fulfillment.add_importrun, to upload such a file

    command = "import_events"
    read_ahead = True
    required_columns = ("carrier_code", "tracking_no", "code", "occurred_at", "location", "description", "outlet_code")
    # Rows per transaction: fewer per-batch statements; a crash loses at most one batch, and on
    # SQLite a batch holds the write lock for a second or two (other writers wait; busy timeout 30 s).
    batch_size = 50000

    def __init__(self, **options):
        super().__init__(**options)
        from fulfillment.models import EventCode

        self.codes = frozenset(EventCode.values)
        # Chosen here, in the connection's thread: clean_row runs in the read-ahead thread.
        self.staging_datetime = staging_datetime()

    def clean_row(self, row, line):
        carrier_code = (row.get("carrier_code") or "").strip()
        tracking_no = (row.get("tracking_no") or "").strip()
        code = (row.get("code") or "").strip().lower()
        if not carrier_code:
            raise RowError("carrier_code", _("must not be empty"))
        if not tracking_no:
            raise RowError("tracking_no", _("must not be empty"))
        if code not in self.codes:
            parse_choice(code, "code", self.codes, label=_("event code"))
        occurred_at = parse_time(row.get("occurred_at", ""), "occurred_at")
        location = (row.get("location") or "").strip()
        description = (row.get("description") or "").strip()
        outlet_code = (row.get("outlet_code") or "").strip()
        if len(description) > MAX_DESCRIPTION:
            raise RowError("description", _("is longer than %(max)s characters") % {"max": MAX_DESCRIPTION})
        if len(location) > 200:
            raise RowError("location", _("is longer than %(max)s characters") % {"max": 200})
        if len(outlet_code) > 64:
            raise RowError("outlet_code", _("is longer than %(max)s characters") % {"max": 64})
        if len(tracking_no) > 64 or len(carrier_code) > 32:
            field_name = "tracking_no" if len(tracking_no) > 64 else "carrier_code"
            raise RowError(field_name, _("is too long"))
        occurred_at = self.staging_datetime(occurred_at)
        return (line, carrier_code, tracking_no, code, occurred_at, location, description, outlet_code)

    def begin(self):
        staging_session_prepare()
        staging_table_create(name=STAGE, columns=STAGE_COLUMNS)

    def prepare_batch(self, records):
        return staging_batch_prepare(records)

    def _forget_other_shops(self, cursor) -> None:
        """For a user limited to shops, another shop's parcel is as unknown as one that does not exist."""
        ids = shop_ids_for(self.by)
        if ids is None:
            return
        from fulfillment.models import Parcel

        marks = ", ".join(["%s"] * len(ids)) or "NULL"
        cursor.execute(
            f"UPDATE {STAGE} SET parcel_id = NULL WHERE parcel_id IN "  # noqa: S608 — names from the models
            f"(SELECT {column_name(Parcel, 'id')} FROM {table_name(Parcel)} "
            f"WHERE {column_name(Parcel, 'shop')} NOT IN ({marks}))",
            sorted(ids),
        )

    def apply_batch(self, records):
        from fulfillment.services import parcels_fold_new_events

        sql = _statements()
        with connection.cursor() as cursor:
            bulk_write_transaction_tune(cursor)
            staging_table_load(cursor, name=STAGE, columns=STAGE_ROW, rows=records)
            cursor.execute(sql["find_parcels"])
            self._forget_other_shops(cursor)
            # The batch's parcels, locked in id order before its events are inserted: the events'
            # foreign-key checks take a share lock on each parcel, and two batches holding share locks
            # on the same parcels would then deadlock upgrading them for the fold.
            cursor.execute(sql["lock_parcels"])
            # 1. Events for a parcel we do not know are reported, not stored.
            cursor.execute(sql["unknown_parcels"])
            unknown = cursor.fetchall()
            for line, carrier_code, tracking_no in unknown:
                self.reject(
                    line,
                    "tracking_no",
                    _("unknown parcel: no parcel with tracking number %(tracking_no)s for carrier %(carrier)s")
                    % {"tracking_no": tracking_no, "carrier": carrier_code},
                )
            # 2. Outlets named by the events, created for the parcel's carrier if unknown.
            cursor.execute(sql["add_outlets"])
            # 3. The events themselves; one already stored (same parcel, code, time, location) is skipped.
            cursor.execute(sql["last_event_id"])
            (before,) = cursor.fetchone()
            cursor.execute(sql["add_events"], [timezone.now()])
            inserted = max(cursor.rowcount, 0)
        # 4. Milestones, last node, outlet and status of the parcels that got new events.
        if inserted:
            parcels_fold_new_events(after_event_id=before, reason="events", parcels_sql=BATCH_PARCELS)
        return inserted, 0, len(records) - len(unknown) - inserted


@cache
def _statements() -> dict[str, str]:
    """The batch's statements, with the tables' and columns' names from the models."""
    from fulfillment.models import Carrier, CarrierOutlet, Parcel, TrackingEvent

    carrier, parcel, outlet, event = (table_name(m) for m in (Carrier, Parcel, CarrierOutlet, TrackingEvent))

    def col(model, name):
        return column_name(model, name)

    event_columns = ", ".join(
        col(TrackingEvent, name)
        for name in ("parcel", "code", "occurred_at", "location", "description", "outlet", "imported_at")
    )
    # A new outlet: its carrier and code, every other column empty (text) or NULL, from the model's
    # own field list, so that a column added to outlets later (a contact, say) cannot break the import.
    outlet_fields = [f for f in CarrierOutlet._meta.concrete_fields if not f.primary_key]
    outlet_columns = ", ".join(f.column for f in outlet_fields)
    outlet_values = ", ".join(
        "carrier_id" if f.name == "carrier" else "outlet_code" if f.name == "code" else "NULL" if f.null else "''"
        for f in outlet_fields
    )
    return {
        "find_parcels": (
            f"UPDATE {STAGE} SET carrier_id = c.{col(Carrier, 'id')}, parcel_id = p.{col(Parcel, 'id')} "  # noqa: S608
            f"FROM {carrier} c JOIN {parcel} p ON p.{col(Parcel, 'carrier')} = c.{col(Carrier, 'id')} "
            f"WHERE c.{col(Carrier, 'code')} = {STAGE}.carrier_code "
            f"AND p.{col(Parcel, 'tracking_no')} = {STAGE}.tracking_no"
        ),
        "lock_parcels": (
            f"SELECT {col(Parcel, 'id')} FROM {parcel} WHERE {col(Parcel, 'id')} IN ({BATCH_PARCELS})"  # noqa: S608
            f"{lock_rows_suffix()}"
        ),
        "unknown_parcels": (
            f"SELECT line, carrier_code, tracking_no FROM {STAGE} WHERE parcel_id IS NULL ORDER BY line"  # noqa: S608
        ),
        "add_outlets": (
            f"INSERT INTO {outlet} ({outlet_columns}) "  # noqa: S608 — names from the models
            f"SELECT {outlet_values} FROM (SELECT DISTINCT carrier_id, outlet_code FROM {STAGE} "
            "WHERE parcel_id IS NOT NULL AND outlet_code <> '') AS named WHERE true ON CONFLICT DO NOTHING"
        ),
        "last_event_id": f"SELECT COALESCE(MAX({col(TrackingEvent, 'id')}), 0) FROM {event}",  # noqa: S608
        "add_events": (
            f"INSERT INTO {event} ({event_columns}) "  # noqa: S608 — names from the models
            f"SELECT s.parcel_id, s.code, s.occurred_at, s.location, s.description, o.{col(CarrierOutlet, 'id')}, %s "
            f"FROM {STAGE} s LEFT JOIN {outlet} o "
            f"ON o.{col(CarrierOutlet, 'carrier')} = s.carrier_id AND o.{col(CarrierOutlet, 'code')} = s.outlet_code "
            "WHERE s.parcel_id IS NOT NULL "
            "ORDER BY s.line "
            "ON CONFLICT DO NOTHING"
        ),
    }
