from django.urls import include, path

from erpcare.api import api
from erpcare.core import metrics
from erpcare.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("health", core_views.health, name="health"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("erpcare.accounts.urls")),
    path("desk/sla/", include("erpcare.sla.urls")),
    path("desk/notifications/", include("erpcare.channels.urls")),
    path("desk/channels/mail/", include("erpcare.channels.urls_mail")),
    path("desk/channels/", include("erpcare.channels.urls_outbound")),
    path("desk/monitoring/", include("erpcare.monitoring.urls")),
    path("desk/inspections/", include("erpcare.inspections.urls")),
    path("desk/backups/", include("erpcare.backups.urls")),
    path("desk/surveys/", include("erpcare.surveys.urls_desk")),
    path("desk/dashboards/", include("erpcare.reports.urls_dashboards")),
    path("desk/changes/", include("erpcare.changes.urls")),
    path("desk/problems/", include("erpcare.problems.urls")),
    path("portal/dashboard/", include("erpcare.reports.urls_portal_dashboard")),
    path("desk/reports/", include("erpcare.reports.urls_monthly")),
    path("portal/reports/", include("erpcare.reports.urls_monthly_portal")),
    path("desk/kb/", include("erpcare.kb.urls.desk")),
    path("portal/kb/", include("erpcare.kb.urls.portal")),
    path("portal/notifications/", include("erpcare.channels.urls_portal")),
    path("surveys/", include("erpcare.surveys.urls")),
    path("desk/", include("erpcare.tickets.urls.desk")),
    path("portal/", include("erpcare.tickets.urls.portal")),
    path("api/v1/", api.urls),
]
