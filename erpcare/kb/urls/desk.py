from django.urls import path

from erpcare.kb.views import desk, panel

app_name = "kb_desk"

urlpatterns = [
    path("", desk.article_list, name="list"),
    path("search", desk.search, name="search"),
    path("new/", desk.article_new, name="new"),
    path("articles/<str:number>/", desk.article_detail, name="article"),
    path("articles/<str:number>/edit", desk.article_edit, name="edit"),
    path("articles/<str:number>/versions", desk.history, name="history"),
    path("articles/<str:number>/files", desk.attach, name="attach"),
    path("articles/<str:number>/files/<int:attachment_id>", desk.file, name="file"),
    path(
        "articles/<str:number>/files/<int:attachment_id>/remove",
        desk.remove_file,
        name="remove_file",
    ),
    path(
        "articles/<str:number>/<slug:action>",
        desk.workflow,
        name="workflow",
    ),
    path("tickets/<str:number>/panel", panel.ticket_panel, name="ticket_panel"),
    path("tickets/<str:number>/link", panel.link, name="ticket_link"),
    path("tickets/<str:number>/unlink", panel.unlink, name="ticket_unlink"),
    path("tickets/<str:number>/article", desk.from_ticket, name="from_ticket"),
]
