"""Portal pages of the channels app: the customer's e-mail choices."""

from django.urls import path

from erpcare.channels import views_portal

app_name = "portal_notifications"

urlpatterns = [
    path("", views_portal.preferences, name="preferences"),
]
