"""What every API view shares: the client's token, its scopes, its rate, the record of its writes,
and refusals of the services answered as JSON a script can read."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import permissions, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from core.db.replica import replica_reads
from core.errors import TransitionNotAllowed

from ..authentication import ApiClientAuthentication, ClientRateThrottle, HasScope, client_of
from ..services import api_write_record


def api_exception_handler(error, context):
    """A refused transition is 409 with the clerk's message; another ValidationError of a service 400."""
    if isinstance(error, ValidationError):
        code = status.HTTP_409_CONFLICT if isinstance(error, TransitionNotAllowed) else status.HTTP_400_BAD_REQUEST
        return Response({"detail": " ".join(str(m) for m in error.messages), "messages": error.messages}, status=code)
    return exception_handler(error, context)


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is larger than this API accepts.")
    default_code = "too_large"


def max_body_bytes() -> int:
    return getattr(settings, "API_MAX_BODY_BYTES", 5 << 20)


class ApiView(APIView):
    authentication_classes = [ApiClientAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [ClientRateThrottle]
    required_perms: dict[str, tuple[str, ...]] = {}

    def dispatch(self, request, *args, **kwargs):
        # Reads may be served by the replica (core.db.replica); a write never is.
        if request.method in permissions.SAFE_METHODS:
            with replica_reads():
                return super().dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        # A body is refused by its declared size before anything parses it (a 100 MB JSON array is not
        # read to find out it has too many rows).
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > max_body_bytes():
            raise BodyTooLarge(
                _("The request body is %(size)s bytes; at most %(max)s are accepted.")
                % {"size": declared, "max": max_body_bytes()}
            )
        super().initial(request, *args, **kwargs)

    def get_exception_handler(self):
        return api_exception_handler

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        client = client_of(request)
        if client is not None and request.method not in permissions.SAFE_METHODS:
            data = response.data if isinstance(getattr(response, "data", None), dict) else {}
            summary = {k: v for k, v in data.items() if k in self.recorded_keys}
            api_write_record(
                client=client, method=request.method, path=request.path, status_code=response.status_code, summary=summary
            )
        return response

    recorded_keys = ("number", "status", "detail", "read", "inserted", "updated", "unchanged", "rejected", "added")


def get_or_404(queryset, **lookup):
    found = queryset.filter(**lookup).first()
    if found is None:
        raise Http404
    return found
