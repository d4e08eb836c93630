from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "erpcare.tickets"
    label = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from erpcare.core import scheduler

        scheduler.register("tickets.auto_close", "*/15 * * * *", "erpcare.tickets.jobs.auto_close")
