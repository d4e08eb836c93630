"""Channel admin: mailboxes, incoming mail, customer mail domains, e-mail templates."""

from django.urls import URLPattern, URLResolver, path
from django.views.generic import RedirectView

from erpcare.channels import views_mail as views

app_name = "channels_mail"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", RedirectView.as_view(pattern_name="channels_mail:mailboxes"), name="index"),
    path("mailboxes/", views.mailboxes, name="mailboxes"),
    path("mailboxes/new/", views.mailbox_new, name="mailbox_new"),
    path("mailboxes/<int:mailbox_id>/", views.mailbox_edit, name="mailbox"),
    path("mailboxes/<int:mailbox_id>/test-imap", views.mailbox_test_imap, name="mailbox_test_imap"),
    path("mailboxes/<int:mailbox_id>/test-smtp", views.mailbox_test_smtp, name="mailbox_test_smtp"),
    path("mailboxes/<int:mailbox_id>/fetch", views.mailbox_fetch, name="mailbox_fetch"),
    path("mailboxes/<int:mailbox_id>/active", views.mailbox_set_active, name="mailbox_active"),
    path("messages/", views.inbound_messages, name="messages"),
    path("messages/<int:message_id>/", views.inbound_message, name="message"),
    path("messages/<int:message_id>/raw.eml", views.inbound_message_raw, name="message_raw"),
    path(
        "messages/<int:message_id>/reprocess",
        views.inbound_message_reprocess,
        name="message_reprocess",
    ),
    path(
        "messages/<int:message_id>/release", views.inbound_message_release, name="message_release"
    ),
    path("domains/", views.domains, name="domains"),
    path("domains/<int:domain_id>/remove", views.domain_remove, name="domain_remove"),
    path("templates/", views.templates, name="templates"),
    path("templates/<str:key>/<str:language>/", views.template_edit, name="template"),
    path("templates/<str:key>/<str:language>/reset", views.template_reset, name="template_reset"),
]
