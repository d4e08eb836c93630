from django.urls import path

from erpcare.sla import views

app_name = "sla"

urlpatterns = [
    path("", views.settings_index, name="settings"),
    path("calendars/new/", views.calendar_new, name="calendar_new"),
    path("calendars/<int:calendar_id>/", views.calendar_edit, name="calendar"),
    path("calendars/<int:calendar_id>/days", views.calendar_day_set, name="calendar_day_set"),
    path(
        "calendars/<int:calendar_id>/days/<str:day>/remove",
        views.calendar_day_remove,
        name="calendar_day_remove",
    ),
    path("policies/new/", views.policy_new, name="policy_new"),
    path("policies/<int:policy_id>/", views.policy_edit, name="policy"),
    path("policies/<int:policy_id>/delete", views.policy_delete, name="policy_delete"),
    path("policies/<int:policy_id>/preview", views.policy_preview, name="policy_preview"),
]
