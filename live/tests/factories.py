import factory

from live.models import PushDelivery, PushSource, SourceKind


class PushSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PushSource
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"source-{n}")
    kind = SourceKind.GENERIC
    secret = factory.Sequence(lambda n: f"secret-{n}")
    active = True


class PushDeliveryFactory(factory.django.DjangoModelFactory):
    """A verified generic push, not processed yet."""

    class Meta:
        model = PushDelivery

    source = factory.SubFactory(PushSourceFactory)
    body = "[]"
    verified = True
