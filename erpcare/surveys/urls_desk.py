"""Desk pages of the surveys: the responses list."""

from django.urls import URLPattern, URLResolver, path

from erpcare.surveys import views

app_name = "surveys_desk"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.responses, name="responses"),
]
