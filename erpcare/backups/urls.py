"""Backups pages under /desk/backups/: the overview, a plan (form, delete, back up now,
retention), a point (test restore now, restore for real)."""

from django.urls import URLPattern, URLResolver, path

from erpcare.backups import views

app_name = "backups"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.overview, name="overview"),
    path("plans/new", views.plan_new, name="plan_new"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan"),
    path("plans/<int:plan_id>/edit", views.plan_edit, name="plan_edit"),
    path("plans/<int:plan_id>/delete", views.plan_delete, name="plan_delete"),
    path("plans/<int:plan_id>/backup", views.backup_now, name="backup_now"),
    path("plans/<int:plan_id>/prune", views.prune, name="prune"),
    path("points/<int:point_id>/", views.point_detail, name="point"),
    path("points/<int:point_id>/test", views.restore_test_now, name="restore_test_now"),
    path("points/<int:point_id>/restore", views.restore_for_real, name="restore_for_real"),
]
