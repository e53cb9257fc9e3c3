"""A database that stops answering mid-import: a clear message, the committed batches kept, a re-run finishes."""
import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError

from fulfillment.importers.reference import RegionImporter
from fulfillment.models import Region

pytestmark = pytest.mark.django_db(transaction=True)


def test_lost_database_ends_the_import_with_a_clear_message_and_a_rerun_finishes(tmp_path, monkeypatch):
    source = tmp_path / "regions.csv"
    source.write_text("province,city,is_remote\n" + "".join(f"省{i},,false\n" for i in range(5)), encoding="utf-8")
    real_apply = RegionImporter.apply_batch
    calls = {"n": 0}

    def apply_then_fail(self, records):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real_apply(self, records)

    monkeypatch.setattr(RegionImporter, "apply_batch", apply_then_fail)
    with pytest.raises(CommandError) as lost:
        call_command("import_regions", str(source), "--batch-size", "2")
    assert lost.value.returncode == 3
    assert "stopped answering" in str(lost.value) and "run the same command again" in str(lost.value)
    assert Region.objects.count() == 2  # the first batch is kept, the failed one rolled back

    monkeypatch.setattr(RegionImporter, "apply_batch", real_apply)
    call_command("import_regions", str(source))
    assert sorted(Region.objects.values_list("province", flat=True)) == [f"省{i}" for i in range(5)]
