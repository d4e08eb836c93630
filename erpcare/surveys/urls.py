"""Public survey links (no sign-in): answer and the reopen offer."""

from django.urls import URLPattern, URLResolver, path

from erpcare.surveys import views

app_name = "surveys"

urlpatterns: list[URLPattern | URLResolver] = [
    path("s/<str:token>", views.answer_view, name="answer"),
    path("s/<str:token>/reopen", views.reopen_view, name="reopen"),
]
