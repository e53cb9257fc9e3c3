from django.urls import path

from .views import push_receive

app_name = "live"
urlpatterns = [path("push/<slug:source>/", push_receive, name="push")]
