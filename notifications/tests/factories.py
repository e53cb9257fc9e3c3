import factory

from notifications.models import ChannelAlert, Digest, NotificationChannel


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
