"""`Authorization: Token pc_<prefix>_<secret>` (or `Bearer`): the client, acting as its user."""

from __future__ import annotations

import hmac

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions, throttling

from .models import ApiClient
from .services import KEY_PREFIX, api_client_mark_used, key_hash


class ApiClientAuthentication(authentication.BaseAuthentication):
    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2 or not header[1].startswith(KEY_PREFIX) or header[1].count("_") < 2:
            raise exceptions.AuthenticationFailed(_("Malformed API key."))
        key = header[1]
        prefix = key[len(KEY_PREFIX) :].split("_", 1)[0]
        client = ApiClient.objects.select_related("acts_as").filter(key_prefix=prefix).first()
        if client is None or not hmac.compare_digest(client.key_hash, key_hash(key)):
            raise exceptions.AuthenticationFailed(_("Unknown API key."))
        if not client.active or not client.acts_as.is_active:
            raise exceptions.AuthenticationFailed(_("This API client is inactive."))
        api_client_mark_used(client=client)
        return client.acts_as, client

    def authenticate_header(self, request):
        return "Token"


def client_of(request) -> ApiClient | None:
    return request.auth if isinstance(request.auth, ApiClient) else None


class HasScope(permissions.BasePermission):
    """Reads need the client's read scope, writes its write scope; then the view's model permissions
    (`required_perms`, per method) on the user the client acts as."""

    message = _("This API client's scopes do not allow this request.")

    def has_permission(self, request, view):
        client = client_of(request)
        if client is None:
            return False
        if request.method in permissions.SAFE_METHODS:
            allowed = client.can_read
        else:
            allowed = client.can_write
        if not allowed:
            return False
        perms = getattr(view, "required_perms", {}).get(request.method, ())
        if perms and not request.user.has_perms(perms):
            self.message = _("The user this client acts as lacks the permission: %(perms)s") % {"perms": ", ".join(perms)}
            return False
        return True


class ClientRateThrottle(throttling.SimpleRateThrottle):
    """Requests per client (settings `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_client"]`)."""

    scope = "api_client"

    def get_cache_key(self, request, view):
        client = client_of(request)
        ident = f"client-{client.pk}" if client else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class StaffOrClient(permissions.IsAdminUser):
    def has_permission(self, request, view):
        return client_of(request) is not None or super().has_permission(request, view)
