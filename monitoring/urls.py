from django.urls import path

from monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("stalled/", views.stalled, name="stalled"),
    path("shops/", views.shops, name="shops"),
    path("outlets/", views.outlets, name="outlets"),
]
