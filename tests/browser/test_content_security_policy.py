"""The Content-Security-Policy blocks nothing that our pages use: admin, scan page, print pages, dashboards."""

import pytest
from django.urls import reverse

from pickups.tests.factories import ConsolidationBagFactory, HandoverSheetFactory
from tests.browser.conftest import log_in
from tests.browser.data import build_dashboard_data

pytestmark = pytest.mark.browser

ADMIN = ("csp-admin", "csp-admin-pass-123")


def test_no_page_breaks_the_policy(page, live_server, django_user_model):
    build_dashboard_data(days=3, per_day=2)
    django_user_model.objects.create_superuser(ADMIN[0], password=ADMIN[1])
    bag = ConsolidationBagFactory()
    sheet = HandoverSheetFactory(shop=bag.shop)
    violations = []
    page.on(
        "console",
        lambda message: violations.append(f"{page.url}: {message.text}")
        if "Content Security Policy" in message.text
        else None,
    )

    log_in(page, live_server, *ADMIN)
    for path in (
        "/admin/",
        "/admin/fulfillment/parcel/",
        reverse("admin:pickups_consolidationbag_change", args=[bag.pk]),
        reverse("admin:pickups_consolidationbag_label", args=[bag.pk]),
        reverse("admin:pickups_handoversheet_change", args=[sheet.pk]),
        reverse("admin:pickups_handoversheet_print", args=[sheet.pk]),
        reverse("admin:pickups_handoversheet_add"),
        reverse("admin:dashboard_overview"),
        reverse("admin:dashboard_stalled"),
        reverse("admin:dashboard_shops"),
        reverse("admin:dashboard_outlets"),
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert response.headers["content-security-policy"]
    page.goto(f"{live_server.url}{reverse('admin:pickups_handoversheet_print', args=[sheet.pk])}")
    page.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }")
    page.click(".toolbar button")
    assert page.locator("body").get_attribute("data-printed") == "yes"

    # The scan page's script (a static file) sends each Enter to the JSON endpoint, within the policy.
    page.goto(f"{live_server.url}{reverse('admin:pickups_consolidationbag_scan', args=[bag.pk])}")
    page.fill("#id_tracking_numbers", "NO-SUCH-NUMBER")
    page.press("#id_tracking_numbers", "Enter")
    page.wait_for_selector("#scan-log tr[data-outcome=unknown]")

    # The sheet form's scanner is a static file: it runs, and Enter checks the code instead of submitting.
    page.goto(f"{live_server.url}{reverse('admin:pickups_handoversheet_add')}")
    page.fill("#id_scan", "NO-SUCH-BAG")
    page.press("#id_scan", "Enter")
    page.locator("#scan-log li:not([data-outcome=checking])").wait_for()
    assert "/add/" in page.url
    assert violations == []
