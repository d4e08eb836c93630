from django.urls import path

from erpcare.reports import views_dashboards as views

app_name = "portal_dashboard"

urlpatterns = [
    path("", views.customer, name="customer"),
]
