"""Grafana-managed alerting's webhook contact point (payload ``version: "1"``).

Alertmanager's shape plus, per alert, ``values`` (the query results by ref ID),
``valueString``, ``dashboardURL``, ``panelURL``, ``silenceURL`` and ``imageURL``: they are
kept as annotations (``value_A``, ``value_string``, ``dashboard_url``, …) so the incident
shows them; the identity is Grafana's ``fingerprint``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from erpcare.monitoring.sources import ParsedAlert, register
from erpcare.monitoring.sources import common as c
from erpcare.monitoring.sources.alertmanager import parse_webhook

_LINKS = {
    "dashboardURL": "dashboard_url",
    "panelURL": "panel_url",
    "silenceURL": "silence_url",
    "imageURL": "image_url",
}


def _extras(entry: Mapping[str, Any], where: str) -> dict[str, str]:
    extra: dict[str, str] = {}
    values = entry.get("values")
    if values is not None:
        for ref, value in c.str_map(values, f"{where}.values").items():
            extra[f"value_{ref}"] = value
    value_string = c.get_str(entry, "valueString", f"{where}.valueString")
    if value_string:
        extra["value_string"] = c.clip(value_string, c.MAX_LABEL_VALUE)
    for key, name in _LINKS.items():
        link = c.get_str(entry, key, f"{where}.{key}")
        if link:
            extra[name] = link
    return extra


class GrafanaSource:
    kind = "grafana"

    def parse(self, body: bytes, *, mapping: Mapping[str, Any]) -> list[ParsedAlert]:
        return parse_webhook(body, version="1", extras=_extras)


register(GrafanaSource())
