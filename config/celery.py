"""The Celery app. With no CELERY_BROKER_URL the tasks run eagerly (see settings).

A worker or beat process is a production process: without DJANGO_SETTINGS_MODULE it runs the production
settings (and refuses to start without their secrets) rather than silently running the development ones.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("parcel_control")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
