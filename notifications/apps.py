from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """Alert digests to people: email, WeCom, DingTalk and Feishu robots, webhooks."""

    default = True
    name = "notifications"
    verbose_name = _("Notifications")
