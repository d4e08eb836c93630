from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from erpcare.core.models import worker_status


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_customer:  # type: ignore[union-attr]
        return redirect("portal:tickets")
    return redirect("desk:queue")


def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the database answers, and how fresh the worker is."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database_ok = True
    except Exception:
        database_ok = False
    worker = worker_status()
    body = {"database": "ok" if database_ok else "error", "worker": worker}
    return JsonResponse(body, status=200 if database_ok else 503)
