"""`import_regions` and `import_holidays`: reference data keyed by a natural key (`importing.upsert`)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

from fulfillment.importing import (
    Importer,
    ImportRefused,
    optional,
    parse_bool,
    parse_date,
    require,
    upsert_by_natural_key,
)


@dataclass(slots=True)
class RegionRecord:
    line: int
    province: str
    city: str
    is_remote: bool


class RegionImporter(Importer):
    """`province,city,is_remote`; `city` empty = the whole province. Keyed by (province, city).

    After the file, the running parcels bound for the file's regions are derived again, so that their
    stagnation deadlines (72 h, 96 h to remote destinations) follow without a manual
    `recompute_deadlines`. Every region of the file counts, changed or not: a run interrupted after
    its write is finished by running the file again (only parcels whose deadline differs are written).
    """

    permission = "fulfillment.change_region"  # besides fulfillment.add_importrun, to upload such a file

    command = "import_regions"
    required_columns = ("province", "city", "is_remote")
    batch_size = 2000

    def __init__(self, **options):
        super().__init__(**options)
        self.regions: set[tuple[str, str]] = set()

    def clean_row(self, row, line):
        return RegionRecord(
            line=line,
            province=require(row, "province", max_length=64),
            city=optional(row, "city", max_length=64),
            is_remote=parse_bool(row.get("is_remote", ""), "is_remote"),
        )

    def apply_batch(self, records):
        from fulfillment.models import Region

        result = upsert_by_natural_key(
            model=Region, key_fields=("province", "city"), value_fields=("is_remote",), records=records
        )
        self.regions.update((r.province, r.city) for r in records)
        return result.counts

    def finish(self):
        if self.regions and not self.dry_run:
            from fulfillment.services import parcels_destination_remote_changed

            parcels_destination_remote_changed(regions=self.regions)


@dataclass(slots=True)
class HolidayRecord:
    line: int
    date: datetime.date
    is_working_day: bool
    name: str


class HolidayImporter(Importer):
    """`date,is_working_day,name` — or, with `year`, the mainland schedule from `chinese-calendar`.

    After the file, the parcels whose deadlines count working days (Lazada Mall: ship by the end of
    the 1st working day, sorting centre by the end of the 3rd), paid within a month before the
    file's first working-day date and not yet past those milestones, are derived again; only those
    whose deadline differs are written, so a run interrupted after its write is finished by running
    the file again.
    """

    permission = "fulfillment.change_holiday"  # besides fulfillment.add_importrun, to upload such a file

    command = "import_holidays"
    required_columns = ("date", "is_working_day", "name")
    batch_size = 2000

    def __init__(self, *, year: int | None = None, **options):
        super().__init__(**options)
        self.year = year
        self.dates: set[datetime.date] = set()

    def source_label(self):
        return f"chinese-calendar {self.year}"

    def rows(self):
        if self.year is None:
            return None
        return chinese_calendar_rows(self.year)

    def clean_row(self, row, line):
        return HolidayRecord(
            line=line,
            date=parse_date(row.get("date", ""), "date"),
            is_working_day=parse_bool(row.get("is_working_day", ""), "is_working_day"),
            name=optional(row, "name", max_length=100),
        )

    def apply_batch(self, records):
        from fulfillment.models import Holiday

        result = upsert_by_natural_key(
            model=Holiday, key_fields=("date",), value_fields=("is_working_day", "name"), records=records
        )
        self.dates.update(r.date for r in records)
        return result.counts

    def finish(self):
        if self.dates and not self.dry_run:
            from fulfillment.services import parcels_working_day_deadlines_changed

            parcels_working_day_deadlines_changed(since=min(self.dates))


def chinese_calendar_rows(year: int) -> Iterator[tuple[int, dict[str, str]]]:
    """The mainland schedule of `year`: weekday holidays and make-up working days on weekends."""
    import chinese_calendar

    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    try:
        holidays = chinese_calendar.get_holidays(start, end, include_weekends=False)
        workdays = [d for d in chinese_calendar.get_workdays(start, end) if d.weekday() >= 5]
    except NotImplementedError:
        raise ImportRefused(
            _("The chinese-calendar package has no schedule for %(year)s; upgrade it or import a CSV.") % {"year": year}
        ) from None
    days = [(d, False) for d in holidays] + [(d, True) for d in workdays]
    for line, (day, is_working_day) in enumerate(sorted(days), start=1):
        _on_holiday, name = chinese_calendar.get_holiday_detail(day)
        name = name or ""
        if is_working_day and name:
            name = _("%(holiday)s (make-up working day)") % {"holiday": name}
        yield line, {"date": day.isoformat(), "is_working_day": "1" if is_working_day else "0", "name": name[:100]}

