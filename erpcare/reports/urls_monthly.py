"""Monthly service report pages on the desk (/desk/reports/); the portal's are in
``urls_monthly_portal``."""

from django.urls import URLPattern, path

from erpcare.reports import views_monthly as views

app_name = "monthly_desk"

urlpatterns: list[URLPattern] = [
    path("", views.desk_index, name="index"),
    path("<slug:code>/<str:month>/", views.desk_report, name="report"),
    path("<slug:code>/<str:month>/pdf", views.desk_download, {"kind": "pdf"}, name="pdf"),
    path("<slug:code>/<str:month>/xlsx", views.desk_download, {"kind": "xlsx"}, name="xlsx"),
    path("<slug:code>/<str:month>/commentary", views.desk_commentary, name="commentary"),
    path("<slug:code>/<str:month>/send", views.desk_send, name="send"),
]
