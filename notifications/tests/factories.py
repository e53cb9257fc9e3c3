import uuid

import factory
from django.contrib.auth import get_user_model

from notifications.models import ChannelAlert, Digest, NotificationChannel, OutletDispatch


class NotificationChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationChannel

    name = factory.Sequence(lambda n: f"channel-{n}")
    kind = "webhook"
    target = "http://127.0.0.1:9/hook"
    language = "en"


class DigestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Digest

    channel = factory.SubFactory(NotificationChannelFactory)


class ChannelAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelAlert

    channel = factory.SelfAttribute("digest.channel")
    digest = factory.SubFactory(DigestFactory)
    alert = factory.SubFactory("monitoring.tests.factories.AlertFactory")
    level = "warning"


class OutletDispatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutletDispatch

    outlet = factory.SubFactory("fulfillment.tests.factories.CarrierOutletFactory", contact_email="outlet@example.com")
    by = factory.LazyFunction(lambda: get_user_model().objects.get_or_create(username="sender")[0])
    token = factory.LazyFunction(uuid.uuid4)
    kind = "email"
    target = "outlet@example.com"
    language = "en"
    parcel_count = 1
