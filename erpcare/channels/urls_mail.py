"""Channel admin: mailboxes, incoming mail, customer mail domains, e-mail templates."""

from django.urls import URLPattern, URLResolver

app_name = "channels_mail"

urlpatterns: list[URLPattern | URLResolver] = []
