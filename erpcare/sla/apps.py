from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "erpcare.sla"
    label = "sla"
    verbose_name = _("SLA")

    def ready(self) -> None:
        from erpcare.core import scheduler
        from erpcare.sla import receivers  # noqa: F401  (connects the ticket signal)

        scheduler.register("sla.evaluate", "* * * * *", "erpcare.sla.jobs.evaluate")
