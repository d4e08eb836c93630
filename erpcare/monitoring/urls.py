"""Monitoring admin: integrations, routing and correlation rules, maintenance windows,
open alerts; and the incident's alert panel on the desk ticket page."""

from django.urls import URLPattern, URLResolver, path

from erpcare.monitoring import views

app_name = "monitoring"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.integrations, name="integrations"),
    path("integrations/new", views.integration_new, name="integration_new"),
    path("integrations/<int:integration_id>/", views.integration_edit, name="integration"),
    path(
        "integrations/<int:integration_id>/rotate",
        views.integration_rotate,
        name="integration_rotate",
    ),
    path(
        "integrations/<int:integration_id>/active",
        views.integration_active,
        name="integration_active",
    ),
    path(
        "integrations/<int:integration_id>/payloads/<int:payload_id>/",
        views.payload_detail,
        name="payload",
    ),
    path(
        "integrations/<int:integration_id>/payloads/<int:payload_id>/reprocess",
        views.payload_reprocess,
        name="payload_reprocess",
    ),
    path("zabbix-media-type.yaml", views.zabbix_media_type, name="zabbix_media_type"),
    path("routing/", views.routing_rules, name="routing_rules"),
    path("routing/new", views.routing_rule_edit, name="routing_rule_new"),
    path("routing/<int:rule_id>/", views.routing_rule_edit, name="routing_rule"),
    path("routing/<int:rule_id>/delete", views.routing_rule_delete, name="routing_rule_delete"),
    path("routing/dry-run", views.dry_run, name="dry_run"),
    path("correlation/", views.correlation_rules, name="correlation_rules"),
    path("correlation/new", views.correlation_rule_edit, name="correlation_rule_new"),
    path("correlation/<int:rule_id>/", views.correlation_rule_edit, name="correlation_rule"),
    path(
        "correlation/<int:rule_id>/delete",
        views.correlation_rule_delete,
        name="correlation_rule_delete",
    ),
    path("maintenance/", views.windows, name="windows"),
    path("maintenance/new", views.window_edit, name="window_new"),
    path("maintenance/<int:window_id>/", views.window_edit, name="window"),
    path("maintenance/<int:window_id>/end", views.window_end, name="window_end"),
    path("alerts/", views.alerts, name="alerts"),
    path("tickets/<str:number>/alerts", views.ticket_alerts, name="ticket_alerts"),
]
