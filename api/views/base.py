"""What every API view shares: the client's token, its scopes, its rate, the record of its writes,
and refusals of the services answered as JSON a script can read."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from rest_framework import permissions, status
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
