"""The short way through Django for alerts that are accepted.

Monitoring systems post many small requests (one alert each, Alertmanager HA pairs post
every alert twice); each one costs ERPCare the whole middleware stack, URL resolution
and the API framework before ``ingest.receive`` stores its body. This middleware sits
first in ``MIDDLEWARE`` and stores a well-formed, authenticated post itself, answering
202 with the same JSON as the API operation (``monitoring.api.post_alerts``) — about a
third of the CPU per request.

Anything else goes the long way, unchanged: other paths and methods, bodies over the
limit, and every refusal (404, 401, 400, 413): ``ingest.receive`` stores nothing when
it refuses, so the API operation runs it again and answers with its documented,
translated error. The API operation stays the documented endpoint (OpenAPI) and the
behaviour's reference; the tests hold both ways to the same answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

from erpcare.monitoring import ingest

# The path the API router serves (erpcare.api: /api/v1/ + /alerts/{source}/{integration_key}).
ALERTS_PATH = re.compile(r"^/api/v1/alerts/(?P<source>[^/]+)/(?P<key>[^/]+)$")


class AlertIntakeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return self.get_response(request)
        match = ALERTS_PATH.match(request.path_info)
        if match is None:
            return self.get_response(request)
        try:
            announced = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return self.get_response(request)
        if announced <= 0 or announced > ingest.MAX_BODY_BYTES:
            return self.get_response(request)
        try:
            request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks it
        except DisallowedHost:
            return self.get_response(request)
        try:
            payload = ingest.receive(match["key"], match["source"], request.body, request.headers)
        except ingest.Refused:
            # The long way answers it (and reads the cached body again).
            return self.get_response(request)
        return accepted_response(payload.pk)


def accepted_response(payload_id: int) -> HttpResponse:
    """The API operation's 202, with the headers the security middleware would add."""
    response = HttpResponse(
        json.dumps({"accepted": True, "payload": payload_id}),
        status=202,
        content_type="application/json; charset=utf-8",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Frame-Options"] = getattr(settings, "X_FRAME_OPTIONS", "DENY")
    referrer_policy = getattr(settings, "SECURE_REFERRER_POLICY", None)
    if referrer_policy:
        response["Referrer-Policy"] = referrer_policy
    opener_policy = getattr(settings, "SECURE_CROSS_ORIGIN_OPENER_POLICY", None)
    if opener_policy:
        response["Cross-Origin-Opener-Policy"] = opener_policy
    response["Content-Length"] = str(len(response.content))
    return response
