"""CloudEvents 1.0 in structured mode (``application/cloudevents+json``), or a JSON list of
events (``application/cloudevents-batch+json``).

``specversion`` must be ``1.0``; ``id``, ``source`` and ``type`` are required. The alert is
read from ``data`` (an object):

- identity: ``data.dedup_key``, else ``subject``, else ``source`` + ``type`` without a
  status suffix (so ``….firing`` and ``….resolved`` are the same alert);
- status: ``data.status`` (firing / acknowledged / resolved, or ok / problem / ack …), else
  the type's suffix ``.firing`` / ``.acknowledged`` / ``.resolved``, else firing;
- name: ``data.name`` / ``data.alertname`` / ``data.title``, else the type;
- ``data.severity``, ``data.summary`` (or ``data.message``), ``data.description``,
  ``data.labels`` (an object), ``data.starts_at`` (else ``time``), ``data.url``.

The CloudEvents attributes are labels too: ``ce_source``, ``ce_type``, ``ce_subject``.
Binary mode (attributes in ``ce-*`` headers) and ``data_base64`` are not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from erpcare.monitoring.sources import ParsedAlert, PayloadError, register
from erpcare.monitoring.sources import common as c

SPEC_VERSION = "1.0"
_SUFFIXES = {
    ".firing": "firing",
    ".triggered": "firing",
    ".acknowledged": "acknowledged",
    ".resolved": "resolved",
}
_STATUS_WORDS = {
    "firing": "firing",
    "problem": "firing",
    "alerting": "firing",
    "triggered": "firing",
    "acknowledged": "acknowledged",
    "ack": "acknowledged",
    "resolved": "resolved",
    "ok": "resolved",
    "recovered": "resolved",
}


def parse_event(raw: Any, where: str) -> ParsedAlert:
    """One event; ``where`` prefixes field names in errors (``[2].`` in a batch, else empty)."""
    event = c.require_object(raw, where.rstrip(".") or _("body"))
    version = c.get_str(event, "specversion", f"{where}specversion", required=True, strict=True)
    if version != SPEC_VERSION:
        raise PayloadError(
            _("Unknown payload version “%(sent)s” (this source reads version “%(expected)s”).")
            % {"sent": version[:20], "expected": SPEC_VERSION}
        )
    c.get_str(event, "id", f"{where}id", required=True, strict=True)
    source = c.get_str(event, "source", f"{where}source", required=True, strict=True)
    event_type = c.get_str(event, "type", f"{where}type", required=True, strict=True)
    subject = c.get_str(event, "subject", f"{where}subject")
    data_raw = event.get("data")
    if isinstance(data_raw, str):
        data: dict[str, Any] = {"summary": data_raw}
    else:
        data = c.require_object({} if data_raw is None else data_raw, f"{where}data")

    base_type, type_status = event_type, None
    for suffix, status_word in _SUFFIXES.items():
        if event_type.endswith(suffix):
            base_type, type_status = event_type[: -len(suffix)], status_word
            break
    status_text = c.get_str(data, "status", f"{where}data.status")
    if status_text:
        status = _STATUS_WORDS.get(status_text.lower())
        if status is None:
            raise PayloadError(
                _("“%(field)s” is “%(value)s”; expected firing, acknowledged or resolved.")
                % {"field": f"{where}data.status", "value": status_text[:40]}
            )
    else:
        status = type_status or "firing"

    labels = c.get_str_map(data, "labels", f"{where}data.labels")
    labels["ce_source"] = c.clip(source, c.MAX_LABEL_VALUE)
    labels["ce_type"] = c.clip(base_type, c.MAX_LABEL_VALUE)
    if subject:
        labels["ce_subject"] = c.clip(subject, c.MAX_LABEL_VALUE)
    name = ""
    for key in ("name", "alertname", "title"):
        name = c.get_str(data, key, f"{where}data.{key}")
        if name:
            break
    summary = c.get_str(data, "summary", f"{where}data.summary") or c.get_str(
        data, "message", f"{where}data.message"
    )
    starts_raw = data.get("starts_at")
    starts_field = f"{where}data.starts_at"
    if starts_raw in (None, ""):
        starts_raw, starts_field = event.get("time"), f"{where}time"
    return c.alert(
        identity_text=(
            c.get_str(data, "dedup_key", f"{where}data.dedup_key")
            or subject
            or f"{source} {base_type}"
        ),
        status=status,
        name=name or base_type,
        severity_level=c.severity(c.get_str(data, "severity", f"{where}data.severity")),
        summary=summary,
        description=c.get_str(data, "description", f"{where}data.description"),
        labels=labels,
        starts_at=c.parse_time(starts_raw, starts_field),
        source_url=c.get_str(data, "url", f"{where}data.url"),
    )


class CloudEventsSource:
    kind = "cloudevents"

    def parse(self, body: bytes, *, mapping: Mapping[str, Any]) -> list[ParsedAlert]:
        data = c.load_json(body)
        if isinstance(data, list):
            return [parse_event(item, f"[{index}].") for index, item in enumerate(data)]
        return [parse_event(data, "")]


register(CloudEventsSource())
