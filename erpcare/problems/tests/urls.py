"""A test urlconf: the project's URLs plus the problems API at /api/v1/problems and the
problem pages at /desk/problems/, until the lead mounts ``erpcare.problems.api.router`` in
``erpcare/api.py`` and ``erpcare.problems.urls`` in ``erpcare/urls.py``."""

from __future__ import annotations

from django.urls import include, path
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from erpcare import api as project_api
from erpcare.core.errors import ActionError
from erpcare.problems.api import router
from erpcare.urls import urlpatterns as project_urlpatterns

test_api = NinjaAPI(
    title="ERPCare problems API (tests)",
    auth=[project_api.BearerTokenAuth(), project_api.ActiveSessionAuth()],
    urls_namespace="problems-api-test",
    docs_url=None,
    openapi_url=None,
)
test_api.add_exception_handler(ActionError, project_api.action_error)
test_api.add_exception_handler(NinjaValidationError, project_api.validation_error)
test_api.add_exception_handler(AuthenticationError, project_api.authentication_error)
test_api.add_exception_handler(HttpError, project_api.http_error)
test_api.add_router("/problems", router)

urlpatterns = [
    path("api/v1/", test_api.urls),
    path("desk/problems/", include("erpcare.problems.urls")),
]
urlpatterns += project_urlpatterns
