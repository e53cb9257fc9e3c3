"""Test profile: the same as base, with fast password hashing. DATABASE_URL picks SQLite or PostgreSQL."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
CELERY_BROKER_URL = ""
CELERY_TASK_ALWAYS_EAGER = True
