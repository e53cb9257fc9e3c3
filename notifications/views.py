"""Sending an outlet its parcels from the scorecard: a preview (with the CSV), then a confirm button.

Mounted in the admin site by `settings.ADMIN_SITE_PAGES` (`admin_pages`), behind `admin_view`, the
dashboards' permission (`monitoring.view_dashboard`) and `notifications.send_outletdispatch`. The
writes are `notifications.outlets`' services; this module only reads the request and answers.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fulfillment.access import shop_ids_for
from fulfillment.models import CarrierOutlet
from monitoring import selectors
from monitoring.stalled_export import stalled_csv
from monitoring.views import dashboard_view, render

from .models import OutletDispatch
from .outlets import outlet_channel, outlet_dispatch_create, outlet_stalled_rows
from .tasks import send_outlet_dispatch

PREVIEW_ROWS = 100
DISPATCHES_SHOWN = 10
SEND_PERMISSION = "notifications.send_outletdispatch"


class OutletSendForm(forms.Form):
    """The confirm button's form: its token makes two clicks one dispatch."""

    token = forms.UUIDField(widget=forms.HiddenInput)


@dashboard_view
def outlet_send(request, outlet_id: int):
    if not request.user.has_perm(SEND_PERMISSION):
        raise PermissionDenied
    outlet = get_object_or_404(CarrierOutlet.objects.select_related("carrier"), pk=outlet_id)
    here = reverse("admin:dashboard_outlet_send", args=[outlet.pk])
    if request.method == "POST":
        form = OutletSendForm(request.POST)
        if form.is_valid():
            _confirm(request, outlet, form.cleaned_data["token"])
        return HttpResponseRedirect(here)
    shop_ids = shop_ids_for(request.user)
    rows = outlet_stalled_rows(outlet=outlet, shop_ids=shop_ids)
    if request.GET.get("format") == "csv":
        return stalled_csv(rows)
    page = selectors.page_without_count(rows, number=1, size=PREVIEW_ROWS)
    selectors.with_open_alerts(page.rows)
    dispatches = OutletDispatch.objects.filter(outlet=outlet).select_related("by")
    if shop_ids is not None:  # a user limited to shops sees only what they sent
        dispatches = dispatches.filter(by=request.user)
    channel = outlet_channel(outlet)
    return render(
        request, "notifications/outlet_send.html",
        _("Send outlet %(outlet)s its parcels") % {"outlet": outlet},
        outlet=outlet, rows=page.rows, more=page.has_next, total=rows.order_by().count(),
        channel_kind=channel[0] if channel else None, channel_target=channel[1] if channel else None,
        form=OutletSendForm(initial={"token": uuid.uuid4()}), dispatches=dispatches[:DISPATCHES_SHOWN],
    )  # fmt: skip


def _confirm(request, outlet: CarrierOutlet, token: uuid.UUID) -> None:
    try:
        dispatch, created = outlet_dispatch_create(outlet=outlet, by=request.user, token=token)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return
    if created:
        transaction.on_commit(lambda: send_outlet_dispatch.delay(dispatch.pk))
        messages.success(
            request,
            ngettext(
                "%(count)d parcel is being sent to outlet %(outlet)s; the list below shows when it was sent.",
                "%(count)d parcels are being sent to outlet %(outlet)s; the list below shows when they were sent.",
                dispatch.parcel_count,
            )
            % {"count": dispatch.parcel_count, "outlet": outlet},
        )
    else:
        messages.info(request, _("This list was already sent (dispatch #%(id)d): it is not sent twice.") % {"id": dispatch.pk})


def admin_pages(site) -> list:
    """The URL patterns mounted in the admin site (settings.ADMIN_SITE_PAGES)."""
    return [
        path("dashboard/outlets/<int:outlet_id>/send/", site.admin_view(outlet_send), name="dashboard_outlet_send"),
    ]
