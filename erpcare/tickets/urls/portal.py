from django.urls import path

from erpcare.tickets.views import portal

app_name = "portal"

urlpatterns = [
    path("", portal.ticket_list, name="tickets"),
]
