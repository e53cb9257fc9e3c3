"""The platforms' published SLA thresholds as rows (editable by managers in the admin)."""
import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import migrations

SHANGHAI = ZoneInfo("Asia/Shanghai")

DOMESTIC = {
    "ship_due_hours": 24,
    "pickup_warn_hours": 40,
    "pickup_due_hours": 48,
    "pickup_compensation_rate": Decimal("0.05"),
    "update_warn_hours": 16,
    "update_due_hours": 24,
    "update_compensation_rate": Decimal("0.30"),
    "delivery_cutoff_hour": 20,
    "route_grace_days": 3,
}

POLICIES = [
    {"code": "tmall", "name": "Tmall logistics timeliness", "platform": "tmall", **DOMESTIC},
    {"code": "taobao", "name": "Taobao logistics timeliness", "platform": "taobao", **DOMESTIC},
    {
        "code": "taobao-618-2022",
        "name": "Taobao 618 (2022): shipped with a pickup record within 48 h",
        "platform": "taobao",
        **DOMESTIC,
        "ship_due_hours": 48,
        "ship_requires_pickup": True,
        "campaign_starts_at": datetime.datetime(2022, 5, 31, 20, 0, 0, tzinfo=SHANGHAI),
        "campaign_ends_at": datetime.datetime(2022, 6, 20, 23, 59, 59, tzinfo=SHANGHAI),
    },
    {
        "code": "lazada-marketplace",
        "name": "Lazada marketplace: RTS in 2 days, sorting centre in 5",
        "platform": "lazada",
        "seller_tier": "marketplace",
        "ship_due_days": 2,
        "sorting_due_days": 5,
        "count_working_days": False,
    },
    {
        "code": "lazada-mall",
        "name": "LazMall: RTS in 1 working day, sorting centre in 3",
        "platform": "lazada",
        "seller_tier": "mall",
        "ship_due_days": 1,
        "sorting_due_days": 3,
        "count_working_days": True,
    },
]


def seed(apps, schema_editor):
    SlaPolicy = apps.get_model("monitoring", "SlaPolicy")
    for row in POLICIES:
        SlaPolicy.objects.update_or_create(code=row["code"], defaults={k: v for k, v in row.items() if k != "code"})


def unseed(apps, schema_editor):
    apps.get_model("monitoring", "SlaPolicy").objects.filter(code__in=[p["code"] for p in POLICIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
