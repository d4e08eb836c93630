"""REST API v1: one NinjaAPI assembled from each app's router."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from erpcare.accounts.services import user_for_token
from erpcare.core.errors import ActionError


class BearerTokenAuth(HttpBearer):
    openapi_description = "An API token created on the profile page: `Authorization: Bearer erc_…`"

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class ActiveSessionAuth(SessionAuth):
    """The browser's session (CSRF-checked), so the UI's own scripts can call the API."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


api = NinjaAPI(
    title="ERPCare API",
    version="1.0.0",
    description='Tickets, customers and ERP instances. Errors are JSON `{"detail": …}`.',
    auth=[BearerTokenAuth(), ActiveSessionAuth()],
    urls_namespace="api-1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(ActionError)
def action_error(request: HttpRequest, exc: ActionError) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message}, status=exc.status_code)


@api.exception_handler(NinjaValidationError)
def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    problems = []
    for error in exc.errors:
        # Body errors come as ("body", <parameter>, field, ...); only the field path
        # matters to the client (and a field may itself be called "body").
        loc = [str(part) for part in error.get("loc", [])]
        if loc[:1] == ["body"]:
            loc = loc[2:]
        location = ".".join(loc)
        problems.append({"field": location, "message": error.get("msg", "")})
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems) or _("Invalid input.")
    return api.create_response(
        request,
        {"detail": _("Invalid input: %(problems)s") % {"problems": summary}, "errors": problems},
        status=422,
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": _("Authentication required: send a valid API token.")}, status=401
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


def _register_routers() -> None:
    from erpcare.accounts.api import router as accounts_router
    from erpcare.backups.api import router as backups_router
    from erpcare.changes.api import router as changes_router
    from erpcare.channels.api import router as channels_router
    from erpcare.customers.api import router as customers_router
    from erpcare.inspections.api import router as inspections_router
    from erpcare.kb.api import router as kb_router
    from erpcare.monitoring.api import router as monitoring_router
    from erpcare.problems.api import router as problems_router
    from erpcare.search.api import router as search_router
    from erpcare.sla.api import router as sla_router
    from erpcare.surveys.api import router as surveys_router
    from erpcare.tickets.api import router as tickets_router

    api.add_router("/", accounts_router)
    api.add_router("/", customers_router)
    api.add_router("/tickets", tickets_router)
    api.add_router("/sla", sla_router)
    api.add_router("/kb", kb_router)
    api.add_router("/search", search_router)
    api.add_router("/intake", channels_router)
    api.add_router("/alerts", monitoring_router)
    api.add_router("/inspections", inspections_router)
    api.add_router("/backups", backups_router)
    api.add_router("/surveys", surveys_router)
    api.add_router("/changes", changes_router)
    api.add_router("/problems", problems_router)


_register_routers()
