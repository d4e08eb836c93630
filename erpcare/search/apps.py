from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "erpcare.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        from erpcare.core import scheduler
        from erpcare.search import providers  # noqa: F401  (registers the ticket provider)

        # The vocabulary snapshot behind typo correction and similar-article weights.
        scheduler.register("search.vocabulary", "17 3 * * *", "erpcare.search.jobs.refresh")
