"""The common carriers' codes and status words of each aggregator, as editable rows (DESIGN.md
"Tracking pushes"). kuaidi100: `com` codes and the `status` words of `lastResult.data[]`; kdniao:
`ShipperCode`s and the `Action` codes of `Traces[]`. A word without a row becomes `info`."""

from django.db import migrations

CARRIERS = {
    "kuaidi100": {
        "zhongtong": "ZTO",
        "yuantong": "YTO",
        "shentong": "STO",
        "yunda": "YD",
        "shunfeng": "SF",
        "jtexpress": "JT",
        "ems": "EMS",
    },
    "kdniao": {"ZTO": "ZTO", "YTO": "YTO", "STO": "STO", "YD": "YD", "SF": "SF", "JTSD": "JT", "EMS": "EMS"},
}

STATUS_WORDS = {
    "kuaidi100": {
        "揽收": "picked_up",
        "在途": "in_transit",
        "派件": "out_for_delivery",
        "签收": "delivered",
        "疑难": "exception",
        "退回": "returned",
        "退签": "returned",
    },
    # kdniao's Action: 1 picked up, 2 in transit, 202 out for delivery, 3/301/304/311 signed for,
    # 4/405 problem parcel, 406 returned and signed for.
    "kdniao": {
        "1": "picked_up",
        "2": "in_transit",
        "202": "out_for_delivery",
        "3": "delivered",
        "301": "delivered",
        "304": "delivered",
        "311": "delivered",
        "4": "exception",
        "405": "exception",
        "406": "returned",
    },
}


def seed(apps, schema_editor):
    CarrierCodeMapping = apps.get_model("live", "CarrierCodeMapping")
    StatusWordMapping = apps.get_model("live", "StatusWordMapping")
    CarrierCodeMapping.objects.bulk_create(
        [
            CarrierCodeMapping(kind=kind, their_code=theirs, carrier_code=ours)
            for kind, codes in CARRIERS.items()
            for theirs, ours in codes.items()
        ],
        ignore_conflicts=True,
    )
    StatusWordMapping.objects.bulk_create(
        [
            StatusWordMapping(kind=kind, word=word, code=code)
            for kind, words in STATUS_WORDS.items()
            for word, code in words.items()
        ],
        ignore_conflicts=True,
    )


def unseed(apps, schema_editor):
    apps.get_model("live", "CarrierCodeMapping").objects.all().delete()
    apps.get_model("live", "StatusWordMapping").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("live", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
