from django.urls import URLPattern

app_name = "kb_portal"
urlpatterns: list[URLPattern] = []
