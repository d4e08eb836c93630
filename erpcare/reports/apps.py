from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "erpcare.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from erpcare.core import scheduler

        scheduler.register("reports.rollup", "*/10 * * * *", "erpcare.reports.jobs.roll_up")
