from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "erpcare.inspections"
    label = "inspections"
    verbose_name = _("Health inspections")

    def ready(self) -> None:
        from erpcare.core import scheduler

        # The leader queues the due checks every minute; any worker runs them.
        scheduler.register(
            "inspections.schedule", "* * * * *", "erpcare.inspections.jobs.schedule_due"
        )
        # Weekly and monthly report mails; each finished period is sent once.
        scheduler.register(
            "inspections.report_mail", "*/15 * * * *", "erpcare.inspections.jobs.mail_reports"
        )
