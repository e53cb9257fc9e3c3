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


def test_each_kind_needs_its_importers_own_permission(client, django_user_model):
    """A user with only `add_importrun` once confirmed pickups by uploading a confirmation file: each
    kind now also needs the permission of the write it stands for."""
    operator = django_user_model.objects.create_user("operator", password="operator-pass-1", is_staff=True)
    operator.user_permissions.add(
        Permission.objects.get(codename="add_importrun"), Permission.objects.get(codename="add_order")
    )
    client.force_login(operator)

    choices = dict(client.get(URL).context["form"].fields["command"].choices)
    assert set(choices) == {"import_orders"}

    for command, content in (
        ("import_regions", b"province,city,is_remote\n\xe8\xa5\xbf\xe8\x97\x8f,,1\n"),
        ("import_pickup_confirmations", b"sheet_number,picked_up_at,agent\nHS1,2026-03-02 10:00,A\n"),
    ):
        response = client.post(URL, {"command": command, "file": SimpleUploadedFile("f.csv", content)})
        assert "command" in response.context["form"].errors
    assert not Region.objects.exists()

    only_upload = django_user_model.objects.create_user("uploader", password="uploader-pass-1", is_staff=True)
    only_upload.user_permissions.add(Permission.objects.get(codename="add_importrun"))
    client.force_login(only_upload)
    assert client.get(URL).status_code == 403
