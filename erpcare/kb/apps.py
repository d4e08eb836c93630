from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KbConfig(AppConfig):
    name = "erpcare.kb"
    label = "kb"
    verbose_name = _("Knowledge base")

    def ready(self) -> None:
        from erpcare.kb import search  # noqa: F401  (registers the article search provider)
