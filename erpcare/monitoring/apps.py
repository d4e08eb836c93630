from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "erpcare.monitoring"
    label = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self) -> None:
        # Imported here, not at the top: these modules use the models.
        from erpcare.core import pollers
        from erpcare.monitoring import (
            ingest,  # noqa: F401  (cache invalidation receivers)
            sources,
            worker,
        )
        from erpcare.monitoring.health import register_metrics

        register_metrics()
        # Every source registers itself now, so a parser that fails to import stops the
        # start, not the first alert of its kind.
        sources.load_all()
        # ``erpcare worker`` drains the stored payloads within a second of their 202.
        pollers.register(worker.POLLER_NAME, worker.poll, idle_seconds=worker.IDLE_SECONDS)
        # Alerts still firing when their maintenance window ends open their incidents.
        pollers.register(
            worker.MAINTENANCE_POLLER_NAME,
            worker.release_maintenance,
            idle_seconds=worker.MAINTENANCE_SECONDS,
        )
