"""PagerDuty Events API v2-compatible events (what ``/v2/enqueue`` accepts).

One event object, or a JSON list of them (a batch). ``event_action`` is ``trigger``,
``acknowledge`` or ``resolve``; the identity is ``dedup_key``. ``routing_key`` is read by
nothing here: the integration is chosen by the URL and authenticated by its secret, so a
tool that insists on a routing key can send any value and it is never stored.

A trigger without ``dedup_key``: PagerDuty makes up a new key and returns it in its answer,
so each such trigger is a new alert. We answer before parsing, so instead the key is
derived from the event itself (``pd:`` + SHA-256 of the event without ``routing_key``):
every different trigger is still a new alert, and an identical re-send stays one alert.
Such an alert cannot be acknowledged or resolved by a later event — send a ``dedup_key``.

Severity: critical → critical, error → high, warning → warning, info → info (PagerDuty's
own four levels, in order).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from erpcare.monitoring.sources import ParsedAlert, PayloadError, register
from erpcare.monitoring.sources import common as c

_ACTIONS = {"trigger": "firing", "acknowledge": "acknowledged", "resolve": "resolved"}
_SEVERITIES = {"critical": "critical", "error": "high", "warning": "warning", "info": "info"}
MAX_DEDUP_KEY = 255


def derived_dedup_key(event: Mapping[str, Any]) -> str:
    rest = {key: value for key, value in event.items() if key != "routing_key"}
    canon = json.dumps(rest, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "pd:" + hashlib.sha256(canon.encode()).hexdigest()[:40]


def parse_event(raw: Any, where: str) -> ParsedAlert:
    """One event; ``where`` prefixes field names in errors (``[2].`` in a batch, else empty)."""
    event = c.require_object(raw, where.rstrip(".") or _("body"))
    action = c.get_str(event, "event_action", f"{where}event_action", required=True, strict=True)
    status = _ACTIONS.get(action)
    if status is None:
        raise PayloadError(
            _("“%(field)s” is “%(value)s”; expected trigger, acknowledge or resolve.")
            % {"field": f"{where}event_action", "value": action[:40]}
        )
    dedup_key = c.get_str(event, "dedup_key", f"{where}dedup_key", strict=True)
    if len(dedup_key) > MAX_DEDUP_KEY:
        raise PayloadError(
            _("“%(field)s” is longer than %(limit)d characters.")
            % {"field": f"{where}dedup_key", "limit": MAX_DEDUP_KEY}
        )
    if not dedup_key:
        if status != "firing":
            raise c.missing(f"{where}dedup_key")
        dedup_key = derived_dedup_key(event)

    payload_raw = event.get("payload")
    if payload_raw is None and status == "firing":
        raise c.missing(f"{where}payload")
    payload = c.require_object({} if payload_raw is None else payload_raw, f"{where}payload")
    firing = status == "firing"
    summary = c.get_str(payload, "summary", f"{where}payload.summary", required=firing)
    source = c.get_str(payload, "source", f"{where}payload.source", required=firing)
    severity_text = c.get_str(payload, "severity", f"{where}payload.severity", required=firing)
    severity = _SEVERITIES.get(severity_text, "warning")
    if severity_text and severity_text not in _SEVERITIES:
        raise PayloadError(
            _("“%(field)s” is “%(value)s”; expected critical, error, warning or info.")
            % {"field": f"{where}payload.severity", "value": severity_text[:40]}
        )

    labels = {"source": source} if source else {}
    for key in ("component", "group", "class"):
        value = c.get_str(payload, key, f"{where}payload.{key}")
        if value:
            labels[key] = c.clip(value, c.MAX_LABEL_VALUE)
    annotations = _details(payload.get("custom_details"), f"{where}payload.custom_details")
    client = c.get_str(event, "client", f"{where}client")
    if client:
        annotations["client"] = client
    links = _links(event.get("links"), f"{where}links")
    for number, href in enumerate(links, start=1):
        annotations[f"link_{number}"] = href
    source_url = c.get_str(event, "client_url", f"{where}client_url") or next(iter(links), "")
    return c.alert(
        identity_text=dedup_key,
        status=status,
        name=summary or dedup_key,
        severity_level=severity,
        summary=summary,
        labels=labels,
        annotations=annotations,
        starts_at=c.parse_time(payload.get("timestamp"), f"{where}payload.timestamp"),
        source_url=source_url,
    )


def _details(value: Any, field: str) -> dict[str, str]:
    # custom_details is free-form: an object becomes annotations, anything else one text.
    if value is None:
        return {}
    if isinstance(value, dict):
        return c.str_map(value, field)
    return {"details": c.clip(c.scalar_text(value), c.MAX_LABEL_VALUE)}


def _links(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    hrefs = []
    for index, item in enumerate(c.require_list(value, field)):
        link = c.require_object(item, f"{field}[{index}]")
        href = c.get_str(link, "href", f"{field}[{index}].href", required=True)
        hrefs.append(href)
    return hrefs


class PagerDutySource:
    kind = "pagerduty"

    def parse(self, body: bytes, *, mapping: Mapping[str, Any]) -> list[ParsedAlert]:
        data = c.load_json(body)
        if isinstance(data, list):
            return [parse_event(item, f"[{index}].") for index, item in enumerate(data)]
        return [parse_event(data, "")]


register(PagerDutySource())
