"""The upload page's registry: every importer of the three apps, each behind its own permission."""
import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from backoffice import uploads
from fulfillment.importers import Importer
from fulfillment.models import Region

pytestmark = pytest.mark.django_db
URL = "/admin/import/"
APPS = {"fulfillment", "pickups", "monitoring"}


def app_importers() -> set[type]:
    found, todo = set(), list(Importer.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        module = cls.__module__.split(".")
        if cls.command and module[0] in APPS and "tests" not in module:
            found.add(cls)
    return found


def test_every_importer_of_the_apps_can_be_uploaded():
    kinds = uploads.upload_kinds()
    assert {kind.importer for kind in kinds.values()} == app_importers()
    assert all(command == kind.importer.command for command, kind in kinds.items())


def test_the_page_offers_the_human_names(client, admin_user):
    client.force_login(admin_user)
    html = client.get(URL).content.decode()
    assert '<option value="import_regions">Regions (import_regions)</option>' in html
    assert "Pickup confirmations (import_pickup_confirmations)" in html


def test_a_kind_behind_another_permission_is_neither_offered_nor_accepted(client, django_user_model, monkeypatch):
    registry = uploads.upload_kinds()
    regions = registry["import_regions"]
    registry["import_regions"] = uploads.UploadKind(regions.importer, regions.name, "fulfillment.change_region")
    monkeypatch.setattr(uploads, "upload_kinds", lambda: registry)
    operator = django_user_model.objects.create_user("operator", password="operator-pass-1", is_staff=True)
    operator.user_permissions.add(Permission.objects.get(codename="add_importrun"))
    client.force_login(operator)

    choices = dict(client.get(URL).context["form"].fields["command"].choices)
    assert "import_regions" not in choices and "import_orders" in choices

    response = client.post(URL, {"command": "import_regions", "file": SimpleUploadedFile("r.csv", b"province,city\n")})
    assert "command" in response.context["form"].errors
    assert not Region.objects.exists()

