from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "erpcare.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        from erpcare.search import providers  # noqa: F401  (registers the ticket provider)
