"""The project's URLs plus the change pages at ``desk/changes/`` (the lead includes them in
``erpcare/urls.py``)."""

from django.urls import include, path

from erpcare.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("desk/changes/", include("erpcare.changes.urls")),
    *project_urlpatterns,
]
