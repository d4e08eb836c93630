from django.urls import path

from erpcare.channels import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("bell", views.bell, name="bell"),
    path("read", views.mark_read, name="mark_read"),
]
