"""Production settings for the loopback load benchmark only: cookies without the Secure flag (plain HTTP)."""
from .production import *  # noqa: F403

SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
