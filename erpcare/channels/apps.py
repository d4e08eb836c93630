import importlib
import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("erpcare.channels")

# Transport modules register themselves on import; each may not exist yet.
TRANSPORT_MODULES = (
    "erpcare.channels.email.outbound",
    "erpcare.channels.robots",
    "erpcare.channels.webhooks",
)


class ChannelsConfig(AppConfig):
    name = "erpcare.channels"
    label = "erpcare_channels"  # "channels" is Django Channels' label
    verbose_name = _("Channels and notifications")

    def ready(self) -> None:
        from erpcare.channels import events  # noqa: F401  (connects the ticket receiver)
        from erpcare.core import scheduler

        for module in TRANSPORT_MODULES:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as error:
                if error.name is None or not module.startswith(error.name):
                    raise
                logger.debug("transport module %s is not installed", module)

        scheduler.register("channels.pump", "* * * * *", "erpcare.channels.jobs.pump")
        scheduler.register("channels.fetch_mail", "* * * * *", "erpcare.channels.jobs.fetch_mail")
        scheduler.register("channels.purge", "17 3 * * *", "erpcare.channels.jobs.purge")
