"""Problem pages, to be included at ``desk/problems/`` with the namespace ``problems``."""

from django.urls import URLPattern, URLResolver, path

from erpcare.problems import views

app_name = "problems"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.problem_list, name="list"),
    path("new", views.problem_new, name="new"),
    path("recurring", views.candidates, name="candidates"),
    path("reviews/<str:number>", views.review, name="review"),
    path("<str:ref>/", views.problem_detail, name="detail"),
    path("<str:ref>/act", views.problem_act, name="act"),
]
