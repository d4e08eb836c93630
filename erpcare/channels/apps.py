from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "erpcare.channels"
    label = "erpcare_channels"  # "channels" is Django Channels' label
    verbose_name = _("Channels and notifications")

    def ready(self) -> None:
        # Imported here, not at the top: these modules use the models, which are not
        # loaded yet when Django imports this AppConfig.
        from erpcare.channels import (
            events,  # noqa: F401  (connects the ticket receiver)
            robots,  # noqa: F401  (the robot transports register themselves on import)
            webhooks,  # noqa: F401  (registers the webhook transport)
        )
        from erpcare.channels.email import outbound  # noqa: F401  (registers e-mail)
        from erpcare.core import scheduler

        scheduler.register("channels.pump", "* * * * *", "erpcare.channels.jobs.pump")
        scheduler.register("channels.fetch_mail", "* * * * *", "erpcare.channels.jobs.fetch_mail")
        scheduler.register("channels.purge", "17 3 * * *", "erpcare.channels.jobs.purge")
