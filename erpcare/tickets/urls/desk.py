from django.urls import path

from erpcare.sla import views as sla_views
from erpcare.tickets.views import desk

app_name = "desk"

urlpatterns = [
    path("", desk.queue, name="queue"),
    path("export", desk.export, name="export"),
    path("tickets/new/", desk.new_ticket, name="new"),
    path("tickets/<str:number>/", desk.ticket_detail, name="ticket"),
    path("tickets/<str:number>/sla", sla_views.ticket_explain, name="ticket_sla"),
    path("tickets/<str:number>/comment", desk.comment, name="comment"),
    path("tickets/<str:number>/attach", desk.attach, name="attach"),
    path("tickets/<str:number>/assign", desk.assign, name="assign"),
    path("tickets/<str:number>/escalate", desk.escalate, name="escalate"),
    path("tickets/<str:number>/transition", desk.transition, name="transition"),
    path("tickets/<str:number>/link", desk.link, name="link"),
    path("tickets/<str:number>/merge", desk.merge, name="merge"),
    path(
        "tickets/<str:number>/files/<int:attachment_id>",
        desk.attachment,
        name="attachment",
    ),
]
