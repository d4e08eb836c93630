from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "erpcare.surveys"
    label = "surveys"
    verbose_name = _("Surveys")

    def ready(self) -> None:
        from erpcare.core import scheduler
        from erpcare.surveys import receivers  # noqa: F401  (CSAT invitation on resolution)

        # Safety net for CSAT invitations a failed after-commit receiver did not write.
        scheduler.register("surveys.csat_sweep", "*/30 * * * *", "erpcare.surveys.jobs.csat_sweep")
        # NPS: each active customer contact at most once per calendar quarter.
        scheduler.register("surveys.nps", "15 2 * * *", "erpcare.surveys.jobs.invite_nps")
