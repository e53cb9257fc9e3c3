"""The admin site of Parcel Control."""

from django.contrib import admin


class ParcelControlSite(admin.AdminSite):
    pass
