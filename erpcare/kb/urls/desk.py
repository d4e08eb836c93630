from django.urls import URLPattern

app_name = "kb_desk"
urlpatterns: list[URLPattern] = []
