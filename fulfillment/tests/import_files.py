"""Import files for the tests: write one, run a command on it, read its error report."""

import csv
import datetime
import io
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
UTC = datetime.UTC
ROOT = Path(__file__).resolve().parents[2]

ORDER_HEADER = (
    "platform,shop_code,order_id,paid_at,amount,seller_tier,origin_province,dest_province,dest_city,"
    "carrier_code,tracking_no,shipped_at,rts_at"
)
EVENT_HEADER = "carrier_code,tracking_no,code,occurred_at,location,description,outlet_code"
REGIONS = "province,city,is_remote\n西藏自治区,,1\n新疆维吾尔自治区,喀什地区,是\n广东省,深圳市,0\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def orders_file(tmp_path, *rows, name="orders.csv", encoding="utf-8"):
    return write(tmp_path / name, ORDER_HEADER + "\n" + "\n".join(rows) + "\n", encoding)


def events_file(tmp_path, *rows, name="events.csv", encoding="utf-8"):
    return write(tmp_path / name, EVENT_HEADER + "\n" + "\n".join(rows) + "\n", encoding)


def run(command: str, path, *args):
    """Run an import command; returns (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, str(path), *args, stdout=out, stderr=err)
        status = 0
    except CommandError as error:
        status = error.returncode
        err.write(str(error))
    return status, out.getvalue(), err.getvalue()


def error_rows(path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)
