"""Uploading an import file in the admin: permission, CSRF, size and type checks, then the real importer."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from fulfillment.models import ImportRun, Region

pytestmark = pytest.mark.django_db
URL = "/admin/import/"
REGIONS = "province,city,is_remote\n西藏自治区,,true\n新疆维吾尔自治区,喀什地区,1\n青海省,,maybe\n".encode()


@pytest.fixture
def operator_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("operator", password="operator-pass-1"))
    return client


def upload(client, content: bytes, name: str = "regions.csv", command: str = "import_regions", **extra):
    return client.post(URL, {"command": command, "file": SimpleUploadedFile(name, content), **extra})


def test_upload_applies_good_rows_and_lists_rejected_ones(operator_client):
    response = operator_client.post(
        URL, {"command": "import_regions", "file": SimpleUploadedFile("regions.csv", REGIONS)}
    )
    assert response.status_code == 200
    assert set(Region.objects.values_list("province", "city", "is_remote")) == {
        ("西藏自治区", "", True),
        ("新疆维吾尔自治区", "喀什地区", True),
    }
    rejects = response.context["rejects"]
    assert [(r["line"], r["field"]) for r in rejects] == [("4", "is_remote")]
    assert ImportRun.objects.get().rows_rejected == 1


def test_dry_run_upload_writes_nothing_and_says_what_it_would_do(operator_client):
    response = upload(operator_client, REGIONS, dry_run="on")
    assert not Region.objects.exists()
    html = response.content.decode()
    assert "would insert 2" in html and "Dry run: nothing was written" in html


def test_a_spreadsheet_upload_imports_like_its_csv(operator_client):
    import io

    from openpyxl import Workbook

    book = Workbook()
    for row in (["province", "city", "is_remote"], ["西藏自治区", None, True], ["青海省", None, "maybe"]):
        book.active.append(row)
    content = io.BytesIO()
    book.save(content)

    response = upload(operator_client, content.getvalue(), name="regions.xlsx")

    assert list(Region.objects.values_list("province", "is_remote")) == [("西藏自治区", True)]
    assert [(r["line"], r["field"]) for r in response.context["rejects"]] == [("3", "is_remote")]


def test_the_page_lists_each_kinds_columns_and_offers_templates(operator_client):
    import io

    from openpyxl import load_workbook

    html = operator_client.get(URL).content.decode()
    assert "<code>sheet_number</code>" in html and "<code>outlet_code</code>" in html
    csv_template = operator_client.get(f"{URL}template/import_regions/")
    assert csv_template.content.decode("utf-8-sig") == "province,city,is_remote\r\n"
    assert 'filename="import_regions.csv"' in csv_template["Content-Disposition"]
    book = load_workbook(io.BytesIO(operator_client.get(f"{URL}template/import_orders/?format=xlsx").content))
    assert [c.value for c in next(book.active.iter_rows())][:3] == ["platform", "shop_code", "order_id"]
    assert operator_client.get(f"{URL}template/no_such_import/").status_code == 404


def test_templates_only_for_the_kinds_the_user_may_upload(client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("uploader", password="uploader-pass-1", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_importrun", "add_order"]))
    client.force_login(user)
    assert client.get(f"{URL}template/import_orders/").status_code == 200
    assert client.get(f"{URL}template/import_regions/").status_code == 404


def test_oversized_upload_is_refused_before_anything_is_written(operator_client, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 20
    response = upload(operator_client, REGIONS)
    assert "files up to" in response.context["form"].errors["file"][0]
    assert not Region.objects.exists()
    assert not ImportRun.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("regions.exe", REGIONS, "not a CSV, JSON Lines or .xlsx file"),
        ("regions.xlsx", REGIONS, "does not match its name"),
        ("regions.csv", b"PK\x03\x04rest", "does not match its name"),
        ("regions.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        ("regions.csv", b"province,town\n", "missing the required column"),
    ],
)
def test_wrong_kind_of_file_is_refused(operator_client, name, content, message):
    response = upload(operator_client, content, name=name)
    assert message in response.context["form"].errors["file"][0]
    assert not Region.objects.exists()


@pytest.mark.parametrize("user", ["warehouse_user", "manager_user"])
def test_warehouse_and_managers_cannot_upload(request, user):
    client = Client()
    client.force_login(request.getfixturevalue(user))
    assert client.get(URL).status_code == 403
    assert upload(client, REGIONS).status_code == 403
    assert not Region.objects.exists()


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_upload_without_csrf_token_is_rejected(django_user_model):
    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.create_superuser("operator", password="operator-pass-1"))
    assert upload(client, REGIONS).status_code == 403
    assert not Region.objects.exists()


def test_admin_index_links_the_upload_page_for_operators_only(operator_client, manager_user):
    assert URL in operator_client.get("/admin/").content.decode()
    manager = Client()
    manager.force_login(manager_user)
    assert URL not in manager.get("/admin/").content.decode()


def test_the_error_report_is_a_download_for_its_user_only_and_no_work_file_is_left(operator_client, django_user_model):
    import glob
    import tempfile

    before = set(glob.glob(f"{tempfile.gettempdir()}/parcel-upload-*"))
    response = upload(operator_client, REGIONS)

    token = response.context["report_token"]
    page = response.content.decode()
    assert f"/admin/import/report/{token}/" in page
    assert tempfile.gettempdir() not in page  # no server path on the page
    assert set(glob.glob(f"{tempfile.gettempdir()}/parcel-upload-*")) == before  # the work folder is gone
    run = ImportRun.objects.get()
    assert run.source == "upload: regions.csv" and run.error_report == token

    download = operator_client.get(f"/admin/import/report/{token}/")
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    report = b"".join(download.streaming_content).decode("utf-8-sig").splitlines()
    assert report[0] == "line,field,message" and report[1].startswith("4,is_remote,")
    other = Client()
    other.force_login(django_user_model.objects.create_superuser("other", password="other-pass-12345"))
    assert other.get(f"/admin/import/report/{token}/").status_code == 404
    assert operator_client.get("/admin/import/report/../../etc/passwd/").status_code == 404


def test_a_refused_upload_names_the_users_file_not_the_server_path(operator_client):
    response = upload(operator_client, b"province,city\n", name="my regions.csv")
    errors = " ".join(response.context["form"].errors["file"])
    assert "my_regions.csv" in errors and "parcel-upload-" not in errors
