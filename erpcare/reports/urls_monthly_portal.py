"""A customer's sent monthly service reports in the portal (/portal/reports/)."""

from django.urls import URLPattern, path

from erpcare.reports import views_monthly as views

app_name = "monthly_portal"

urlpatterns: list[URLPattern] = [
    path("", views.portal_index, name="index"),
    path("<str:month>/", views.portal_report, name="report"),
    path("<str:month>/pdf", views.portal_download, {"kind": "pdf"}, name="pdf"),
    path("<str:month>/xlsx", views.portal_download, {"kind": "xlsx"}, name="xlsx"),
]
