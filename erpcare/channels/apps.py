from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "erpcare.channels"
    label = "erpcare_channels"  # "channels" is Django Channels' label
    verbose_name = _("Channels and notifications")
