from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupsConfig(AppConfig):
    name = "erpcare.backups"
    label = "backups"
    verbose_name = _("Backups")

    def ready(self) -> None:
        from erpcare.core import scheduler

        # The leader queues due backups and restore tests; any worker runs them.
        scheduler.register("backups.schedule", "* * * * *", "erpcare.backups.jobs.schedule_due")
        # Stale or failed backups and restore tests open (and close) incidents.
        scheduler.register("backups.watch", "*/15 * * * *", "erpcare.backups.jobs.watch")
