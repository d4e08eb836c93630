"""Monitoring admin: integrations, routing and correlation rules, maintenance windows,
open alerts; and the incident's alert panel on the desk ticket page."""

from django.urls import URLPattern, URLResolver, path

from erpcare.monitoring import views

app_name = "monitoring"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.integrations, name="integrations"),
]
