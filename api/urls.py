"""`/api/v1/…` for ERPs and scripts, the OpenAPI schema at `/api/schema/` and its docs at `/api/docs/`."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAdminUser

from .authentication import ApiClientAuthentication, StaffOrClient
from .views.orders import OrdersView
from .views.parcels import AlertsView, ParcelView
from .views.pickups import (
    BagParcelsView,
    BagSealView,
    BagsView,
    BagView,
    SheetBookView,
    SheetCancelView,
    SheetConfirmPickupView,
    SheetsView,
    SheetView,
)


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema: for a staff user logged in to the admin, or any client's key."""

    authentication_classes = [SessionAuthentication, ApiClientAuthentication]
    permission_classes = [StaffOrClient]


class DocsView(SpectacularSwaggerSplitView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAdminUser]


urlpatterns = [
    path("v1/orders/", OrdersView.as_view(), name="api_orders"),
    path("v1/parcels/<str:carrier>/<str:tracking_no>/", ParcelView.as_view(), name="api_parcel"),
    path("v1/alerts/", AlertsView.as_view(), name="api_alerts"),
    path("v1/bags/", BagsView.as_view(), name="api_bags"),
    path("v1/bags/<str:number>/", BagView.as_view(), name="api_bag"),
    path("v1/bags/<str:number>/parcels/", BagParcelsView.as_view(), name="api_bag_parcels"),
    path("v1/bags/<str:number>/seal/", BagSealView.as_view(), name="api_bag_seal"),
    path("v1/handover-sheets/", SheetsView.as_view(), name="api_sheets"),
    path("v1/handover-sheets/<str:number>/", SheetView.as_view(), name="api_sheet"),
    path("v1/handover-sheets/<str:number>/book/", SheetBookView.as_view(), name="api_sheet_book"),
    path("v1/handover-sheets/<str:number>/cancel/", SheetCancelView.as_view(), name="api_sheet_cancel"),
    path("v1/handover-sheets/<str:number>/confirm-pickup/", SheetConfirmPickupView.as_view(), name="api_sheet_confirm"),
    path("schema/", SchemaView.as_view(), name="api_schema"),
    path("docs/", DocsView.as_view(url_name="api_schema"), name="api_docs"),
]
