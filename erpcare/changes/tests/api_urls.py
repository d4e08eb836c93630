"""A test URLconf serving the changes router at ``/api/v1/changes`` (the lead wires it into
``erpcare/api.py``), with the project API's authentication and error handlers."""

from __future__ import annotations

from django.urls import path
from ninja import NinjaAPI

from erpcare import api as project_api
from erpcare.changes.api import router
from erpcare.core.errors import ActionError

api = NinjaAPI(
    auth=[project_api.BearerTokenAuth(), project_api.ActiveSessionAuth()],
    urls_namespace="changes-test-api",
)
api.add_exception_handler(ActionError, project_api.action_error)  # type: ignore[arg-type]
api.add_exception_handler(
    project_api.NinjaValidationError,
    project_api.validation_error,  # type: ignore[arg-type]
)
api.add_exception_handler(
    project_api.AuthenticationError,
    project_api.authentication_error,  # type: ignore[arg-type]
)
api.add_router("/changes", router)

urlpatterns = [path("api/v1/", api.urls)]
