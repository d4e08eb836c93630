"""Prometheus Alertmanager's webhook (``webhook_configs``, payload ``version: "4"``).

One ``ParsedAlert`` per ``alerts[]`` entry. The identity is Alertmanager's ``fingerprint``
(a hash of the label set), or the same kind of hash computed here when a sender leaves it
out. ``truncatedAlerts`` (alerts Alertmanager dropped because of ``max_alerts``) is kept
visible as the label ``erpcare_truncated_alerts`` on every alert of that payload, and the
``groupKey`` as the annotation ``erpcare_group_key``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from erpcare.monitoring.sources import ParsedAlert, PayloadError, register
from erpcare.monitoring.sources import common as c

TRUNCATED_LABEL = "erpcare_truncated_alerts"
GROUP_KEY_ANNOTATION = "erpcare_group_key"

_STATUSES = {"firing": "firing", "resolved": "resolved"}

# Extra annotations a dialect takes from each alert object (Grafana's values, links).
Extras = Callable[[Mapping[str, Any], str], dict[str, str]]


def parse_webhook(body: bytes, *, version: str, extras: Extras | None = None) -> list[ParsedAlert]:
    """Parse Alertmanager's webhook shape, which Grafana's webhook also follows."""
    data = c.require_object(c.load_json(body), _("body"))
    sent = c.get_str(data, "version", "version", required=True, strict=True)
    if sent != version:
        raise PayloadError(
            _("Unknown payload version “%(sent)s” (this source reads version “%(expected)s”).")
            % {"sent": sent[:20], "expected": version}
        )
    if "alerts" not in data:
        raise c.missing("alerts")
    entries = c.require_list(data["alerts"], "alerts")
    truncated = data.get("truncatedAlerts") or 0
    if isinstance(truncated, bool) or not isinstance(truncated, int) or truncated < 0:
        raise PayloadError(_("“%(field)s” must be a whole number.") % {"field": "truncatedAlerts"})
    group_key = c.get_str(data, "groupKey", "groupKey")
    return [
        _one(entry, f"alerts[{index}]", truncated=truncated, group_key=group_key, extras=extras)
        for index, entry in enumerate(entries)
    ]


def _one(
    raw: Any, where: str, *, truncated: int, group_key: str, extras: Extras | None
) -> ParsedAlert:
    entry = c.require_object(raw, where)
    status_text = c.get_str(entry, "status", f"{where}.status", required=True, strict=True)
    status = _STATUSES.get(status_text)
    if status is None:
        raise PayloadError(
            _("“%(field)s” is “%(value)s”; expected firing or resolved.")
            % {"field": f"{where}.status", "value": status_text[:40]}
        )
    labels = c.get_str_map(entry, "labels", f"{where}.labels")
    annotations = c.get_str_map(entry, "annotations", f"{where}.annotations")
    if extras is not None:
        annotations.update(extras(entry, where))
    if truncated:
        labels[TRUNCATED_LABEL] = str(truncated)
    if group_key:
        annotations[GROUP_KEY_ANNOTATION] = c.clip(group_key, c.MAX_LABEL_VALUE)
    fingerprint = c.get_str(entry, "fingerprint", f"{where}.fingerprint")
    summary = annotations.get("summary") or annotations.get("message", "")
    description = annotations.get("description") or (
        annotations.get("message", "") if summary != annotations.get("message") else ""
    )
    return c.alert(
        identity_text=fingerprint or c.labels_hash(labels),
        status=status,
        name=labels.get("alertname", "") or _("Unnamed alert"),
        severity_level=c.severity(labels.get("severity", "")),
        summary=summary,
        description=description,
        labels=labels,
        annotations=annotations,
        starts_at=c.parse_time(entry.get("startsAt"), f"{where}.startsAt"),
        ends_at=c.parse_time(entry.get("endsAt"), f"{where}.endsAt"),
        source_url=c.get_str(entry, "generatorURL", f"{where}.generatorURL"),
    )


class AlertmanagerSource:
    kind = "alertmanager"

    def parse(self, body: bytes, *, mapping: Mapping[str, Any]) -> list[ParsedAlert]:
        return parse_webhook(body, version="4")


register(AlertmanagerSource())
