"""Change pages, to be included at ``desk/changes/``: the list, a new change, the calendar,
freeze periods, standard change templates, a change with its workflow buttons, risk
questionnaire, edit and reschedule forms."""

from django.urls import URLPattern, URLResolver, path

from erpcare.changes import views

app_name = "changes"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.change_list, name="list"),
    path("new", views.change_new, name="new"),
    path("calendar/", views.calendar_view, name="calendar"),
    path("freezes/", views.freeze_list, name="freezes"),
    path("freezes/<int:pk>/end", views.freeze_end, name="freeze_end"),
    path("templates/", views.template_list, name="templates"),
    path("<str:ref>/", views.change_detail, name="detail"),
    path("<str:ref>/act", views.change_action, name="act"),
    path("<str:ref>/assess", views.change_assess, name="assess"),
    path("<str:ref>/edit", views.change_edit, name="edit"),
    path("<str:ref>/reschedule", views.change_reschedule, name="reschedule"),
]
