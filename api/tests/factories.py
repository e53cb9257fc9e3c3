import factory
from django.conf import settings

from api.models import ApiClient, ApiWrite


class StaffUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = settings.AUTH_USER_MODEL
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"api-user-{n}")
    is_staff = True


class ApiClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiClient

    name = factory.Sequence(lambda n: f"erp-{n}")
    acts_as = factory.SubFactory(StaffUserFactory)
    key_prefix = factory.Sequence(lambda n: f"f{n:07d}")
    key_hash = ""


class ApiWriteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiWrite

    client = factory.SubFactory(ApiClientFactory)
    method = "POST"
    path = "/api/v1/orders/"
    status_code = 200
