"""Channel admin: overview, robots and webhooks, chat intakes, rules, deliveries, preferences."""

from django.urls import URLPattern, URLResolver

app_name = "channels"

urlpatterns: list[URLPattern | URLResolver] = []
