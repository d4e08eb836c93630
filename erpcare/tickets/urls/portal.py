from django.urls import path

from erpcare.tickets.views import portal

app_name = "portal"

urlpatterns = [
    path("", portal.ticket_list, name="tickets"),
    path("export", portal.export, name="export"),
    path("tickets/new/", portal.new_ticket, name="new"),
    path("tickets/<str:number>/", portal.ticket_detail, name="ticket"),
    path("tickets/<str:number>/comment", portal.comment, name="comment"),
    path("tickets/<str:number>/attach", portal.attach, name="attach"),
    path("tickets/<str:number>/confirm", portal.confirm, name="confirm"),
    path("tickets/<str:number>/reopen", portal.reopen, name="reopen"),
    path(
        "tickets/<str:number>/files/<int:attachment_id>",
        portal.attachment,
        name="attachment",
    ),
]
