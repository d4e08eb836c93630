"""JSON errors for every /api/ path, including the ones the API router never sees."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

_MESSAGES = {
    404: lambda: _("Not found."),
    405: lambda: _("This method is not allowed here."),
}


class ApiJsonErrorsMiddleware:
    """Turn Django's HTML/plain 404 and 405 answers under /api/ into ``{"detail": …}``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code in _MESSAGES
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            replacement = JsonResponse(
                {"detail": _MESSAGES[response.status_code]()}, status=response.status_code
            )
            if response.has_header("Allow"):
                replacement["Allow"] = response["Allow"]
            return replacement
        return response
