"""Test profile: the same as base, with fast password hashing. DATABASE_URL picks SQLite or PostgreSQL."""
import tempfile

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
CELERY_BROKER_URL = ""
CELERY_TASK_ALWAYS_EAGER = True
# django-axes needs the request to authenticate(), which the test client's login() does not pass: off here,
# on in tests/test_settings_security.py (the settings fixture), as in every other profile.
AXES_ENABLED = False

# Upload error reports of the tests go to a throwaway folder, not the checkout.
IMPORT_REPORTS_DIR = tempfile.mkdtemp(prefix="parcel-test-reports-")
