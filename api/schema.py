"""The client's key in the OpenAPI schema (drf-spectacular finds this extension once it is imported)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiClientKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiClientAuthentication"
    name = "ApiClientKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: the key shown once when the API client is created in the admin.",
        }
