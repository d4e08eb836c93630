from django.urls import path

from erpcare.reports import views_dashboards as views

app_name = "dashboards"

urlpatterns = [
    path("", views.service, name="service"),
    path("widgets/<slug:name>", views.widget, name="widget"),
    path("export", views.export, name="export"),
    path("glossary", views.glossary, name="glossary"),
    path("me", views.agent, name="agent"),
    path("operations", views.operations, name="operations"),
]
