"""The fulfillment importers: `reference` (regions, holidays), `events` (tracking events), `orders`.

Each is an `Importer` of the framework in `fulfillment.importing`. The framework's names are
re-exported here too, so that `from fulfillment.importers import ImportCommand, RowError, …`
keeps working where it is still written that way; new code imports them from
`fulfillment.importing`.
"""

from fulfillment.importing import (
    ImportCommand,
    Importer,
    ImportRefused,
    ImportReport,
    Progress,
    RowError,
    SourceFile,
    UpsertResult,
    default_error_report_path,
    detect_encoding,
    optional,
    parse_amount,
    parse_bool,
    parse_choice,
    parse_date,
    parse_int,
    parse_optional_time,
    parse_time,
    require,
    run_import,
    upsert_by_natural_key,
)

from .events import EventImporter
from .orders import OrderImporter, OrderRecord
from .reference import HolidayImporter, HolidayRecord, RegionImporter, RegionRecord

__all__ = [
    "EventImporter",
    "HolidayImporter",
    "HolidayRecord",
    "ImportCommand",
    "ImportRefused",
    "ImportReport",
    "Importer",
    "OrderImporter",
    "OrderRecord",
    "Progress",
    "RegionImporter",
    "RegionRecord",
    "RowError",
    "SourceFile",
    "UpsertResult",
    "default_error_report_path",
    "detect_encoding",
    "optional",
    "parse_amount",
    "parse_bool",
    "parse_choice",
    "parse_date",
    "parse_int",
    "parse_optional_time",
    "parse_time",
    "require",
    "run_import",
    "upsert_by_natural_key",
]
