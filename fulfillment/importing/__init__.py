"""The import framework every `import_*` command is built on. It knows no model of the domain.

- `parsing`: `RowError`, `ImportRefused` and the cell parsers (`parse_time`, `require`, …);
- `sources`: `open_source`, `SourceFile` (encoding and CSV / JSON Lines detection, streamed rows);
- `workbooks`: `WorkbookSource` (`.xlsx`, first sheet, streamed read-only);
- `importer`: the `Importer` base class (`clean_row` → record, `apply_batch` → counts);
- `runner`: `run_import` (batches, transactions, dry run, error report, `ImportRun`);
- `upsert`: `upsert_by_natural_key`, the one write of every reference importer;
- `progress`, `command` (`ImportCommand`, the management command).

The importers themselves live in each app's `importers` (fulfillment: `fulfillment.importers`).
"""

from .command import ImportCommand
from .importer import Importer
from .parsing import (
    ImportRefused,
    RowError,
    optional,
    parse_amount,
    parse_bool,
    parse_choice,
    parse_date,
    parse_int,
    parse_optional_time,
    parse_time,
    require,
)
from .progress import Progress
from .runner import ImportReport, default_error_report_path, run_import
from .sources import SourceFile, detect_encoding, json_row, open_source
from .upsert import UpsertResult, upsert_by_natural_key

__all__ = [
    "ImportCommand",
    "ImportRefused",
    "ImportReport",
    "Importer",
    "Progress",
    "RowError",
    "SourceFile",
    "open_source",
    "json_row",
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
