"""Change pages, to be included at ``desk/changes/``: the list, the calendar, a change."""

from django.urls import URLPattern, URLResolver, path

from erpcare.changes import views

app_name = "changes"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.change_list, name="list"),
    path("calendar/", views.calendar_view, name="calendar"),
    path("<str:ref>/", views.change_detail, name="detail"),
]
