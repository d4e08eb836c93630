from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "erpcare.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from erpcare.core import scheduler

        scheduler.register("reports.rollup", "*/10 * * * *", "erpcare.reports.jobs.roll_up")
        # Last month's service report drafted per customer, for the manager to send.
        scheduler.register(
            "reports.monthly_drafts", "5 * * * *", "erpcare.reports.jobs.draft_monthly_reports"
        )
