"""Inspections pages under /desk/inspections/: the overview, an ERP instance's checks,
data sources, runs and report, the packs, the report mail subscriptions, and the
diagnosis panel of a desk ticket."""

from django.urls import URLPattern, URLResolver, path

from erpcare.inspections import views

app_name = "inspections"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.overview, name="overview"),
    path("instances/<int:instance_id>/", views.instance_checks, name="instance"),
    path(
        "instances/<int:instance_id>/checks/<int:assignment_id>/",
        views.assignment_edit,
        name="assignment",
    ),
    path("instances/<int:instance_id>/sources/", views.sources, name="sources"),
    path("instances/<int:instance_id>/sources/new", views.source_new, name="source_new"),
    path(
        "instances/<int:instance_id>/sources/<int:source_id>/",
        views.source_edit,
        name="source",
    ),
    path(
        "instances/<int:instance_id>/sources/<int:source_id>/test",
        views.source_test,
        name="source_test",
    ),
    path(
        "instances/<int:instance_id>/sources/<int:source_id>/active",
        views.source_active,
        name="source_active",
    ),
    path("instances/<int:instance_id>/runs/", views.runs, name="runs"),
    path("instances/<int:instance_id>/run", views.run_now, name="run_now"),
    path("instances/<int:instance_id>/report", views.report, name="report"),
    path("instances/<int:instance_id>/report.pdf", views.report_pdf, name="report_pdf"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("packs/", views.packs, name="packs"),
    path("packs/import", views.pack_import, name="pack_import"),
    path("packs/<slug:code>/", views.pack_detail, name="pack"),
    path("packs/<slug:code>/apply", views.pack_apply, name="pack_apply"),
    path("packs/<slug:code>/export", views.pack_export, name="pack_export"),
    path("mail/", views.mail, name="mail"),
    path("mail/new", views.subscription_new, name="subscription_new"),
    path("mail/<int:subscription_id>/edit", views.subscription_edit, name="subscription"),
    path(
        "mail/<int:subscription_id>/delete",
        views.subscription_delete,
        name="subscription_delete",
    ),
    path("mail/<int:subscription_id>/send", views.subscription_send, name="subscription_send"),
    path(
        "mail/mailings/<int:mailing_id>/files/<int:index>",
        views.mailing_file,
        name="mailing_file",
    ),
    path("tickets/<str:number>/diagnosis", views.ticket_diagnosis, name="ticket_diagnosis"),
    path("tickets/<str:number>/diagnose", views.ticket_diagnose, name="ticket_diagnose"),
]
