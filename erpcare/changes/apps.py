from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChangesConfig(AppConfig):
    name = "erpcare.changes"
    label = "changes"
    verbose_name = _("Changes")

    def ready(self) -> None:
        from erpcare.core import scheduler

        # Customers hear of a change's window a day ahead (services/notify.py).
        scheduler.register("changes.announce", "*/15 * * * *", "erpcare.changes.jobs.announce")
