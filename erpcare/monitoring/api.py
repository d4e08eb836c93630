"""The alert endpoint monitoring systems post to; authenticated by the integration's secret."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema
from ninja import Status as HttpStatus

from erpcare.core.schemas import ERRORS
from erpcare.monitoring import ingest

router = Router(tags=["alerts"])


class AcceptedOut(Schema):
    accepted: bool
    payload: int


ALERTS_DESCRIPTION = f"""
A monitoring system (Prometheus Alertmanager, Grafana, Zabbix, a PagerDuty Events v2
sender, any JSON or CloudEvents source) posts its alerts here, one alert or a batch per
request, in its own format: `source` is the integration's kind (`alertmanager`, `grafana`,
`zabbix`, `pagerduty`, `generic`, `cloudevents`), `integration_key` the key shown on the
integration's page. No user sign-in; the request carries the integration's secret:

- bearer integrations: `Authorization: Bearer <secret>`;
- HMAC integrations: `{ingest.SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256(secret, raw body)>`.

The body (JSON, at most {ingest.MAX_BODY_BYTES:,} bytes) is stored as it arrived and
answered at once with 202 and the stored payload's id; the worker parses, deduplicates
and routes it afterwards, so a payload the source's parser cannot read shows up as a
failed payload on the integration's page (and can be replayed), not as an error here.
Identical re-sends (Alertmanager HA) are accepted and stored; they change nothing twice.

An unknown key, an inactive integration and a source that is not the integration's all
answer the same 404. A wrong or missing secret answers 401 and is noted on the
integration. Deactivation and secret rotation take effect within a few seconds.
"""


@router.post(
    "/{source}/{integration_key}",
    auth=None,
    response={202: AcceptedOut, **ERRORS},
    summary="Post alerts from a monitoring system",
    description=ALERTS_DESCRIPTION,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The source's own JSON payload (any JSON value).",
            "content": {"application/json": {"schema": {}}},
        }
    },
)
def post_alerts(request: HttpRequest, source: str, integration_key: str) -> HttpStatus[AcceptedOut]:
    # Refuse before reading a body that is too large (the project's middleware may allow
    # more than alerts do).
    try:
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        announced = 0
    if announced > ingest.MAX_BODY_BYTES:
        raise ingest.too_large()
    payload = ingest.receive(integration_key, source, request.body, request.headers)
    return HttpStatus(202, AcceptedOut(accepted=True, payload=payload.pk))
