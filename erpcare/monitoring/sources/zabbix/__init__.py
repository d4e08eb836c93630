"""Zabbix, through the webhook media type we publish (``media_type.yaml`` beside this file).

The media type's script posts one JSON object per Zabbix notification (see
``docs/integrations/alerts.md``). Choices:

- **Identity** is ``zabbix:<trigger id>:<host>`` (``{HOST.HOST}``, else ``{HOST.NAME}``), not
  the problem's event id: a trigger that fires again gets a new event id, and keying on the
  trigger lets a quick re-fire reopen the same alert within the flap window instead of
  opening a new incident. The event ids are kept as annotations.
- **Status**: ``{EVENT.VALUE}`` 1 is firing, 0 resolved; a firing problem whose
  ``{EVENT.ACK.STATUS}`` is ``Yes`` is acknowledged.
- **Severity** comes from ``{EVENT.NSEVERITY}`` (0–5) when sent, since severity *names* can
  be renamed or translated in Zabbix; else from the English name.
- **Times**: ``{EVENT.DATE}`` ``{EVENT.TIME}`` are the Zabbix server's local time; the script
  sends that server's UTC offset in minutes (``event_tz_offset``), UTC when absent.
- A macro Zabbix could not expand arrives as itself (``{EVENT.RECOVERY.DATE}``) or as
  ``*UNKNOWN*``; both count as empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from django.utils.translation import gettext as _

from erpcare.monitoring.sources import ParsedAlert, PayloadError, register
from erpcare.monitoring.sources import common as c

# {EVENT.NSEVERITY}: 0 Not classified, 1 Information, 2 Warning, 3 Average, 4 High, 5 Disaster.
_BY_NUMBER = {0: "info", 1: "info", 2: "warning", 3: "warning", 4: "high", 5: "critical"}
_BY_NAME = {
    "not classified": "info",
    "information": "info",
    "warning": "warning",
    "average": "warning",
    "high": "high",
    "disaster": "critical",
}
_UNEXPANDED = re.compile(r"^\{[A-Z0-9_.#$:]+\}$|^\*UNKNOWN\*$")


def _text(event: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    value = c.get_str(event, key, key).strip()
    if _UNEXPANDED.match(value):
        value = ""
    if required and not value:
        raise c.missing(key)
    return value


def _time(event: Mapping[str, Any], date_key: str, time_key: str, offset: int) -> datetime | None:
    date_text, time_text = _text(event, date_key), _text(event, time_key)
    if not date_text:
        return None
    try:
        local = datetime.strptime(f"{date_text} {time_text or '00:00:00'}", "%Y.%m.%d %H:%M:%S")
    except ValueError:
        raise c.bad_time(date_key, f"{date_text} {time_text}"[:60]) from None
    return local.replace(tzinfo=timezone(timedelta(minutes=offset))).astimezone(UTC)


def _offset(event: Mapping[str, Any]) -> int:
    value = event.get("event_tz_offset", 0)
    if value in (None, ""):
        return 0
    try:
        minutes = int(str(value))
    except ValueError:
        minutes = 10**6
    if not -24 * 60 < minutes < 24 * 60:
        raise PayloadError(
            _("“%(field)s” must be a UTC offset in minutes.") % {"field": "event_tz_offset"}
        )
    return minutes


def _severity(event: Mapping[str, Any]) -> str:
    number = _text(event, "event_nseverity")
    if number.isdigit() and int(number) in _BY_NUMBER:
        return _BY_NUMBER[int(number)]
    return _BY_NAME.get(_text(event, "event_severity").lower(), "warning")


def _tags(event: Mapping[str, Any]) -> dict[str, str]:
    """``{EVENT.TAGSJSON}``: ``[{"tag": "service", "value": "mysql"}, …]`` → labels."""
    raw = event.get("event_tags")
    if raw in (None, "") or (isinstance(raw, str) and _UNEXPANDED.match(raw)):
        return {}
    if isinstance(raw, str):
        try:
            raw = c.load_json(raw.encode())
        except PayloadError:
            raise PayloadError(
                _("“%(field)s” is not valid JSON ({EVENT.TAGSJSON} expected).")
                % {"field": "event_tags"}
            ) from None
    labels: dict[str, str] = {}
    for index, item in enumerate(c.require_list(raw, "event_tags")):
        tag = c.require_object(item, f"event_tags[{index}]")
        name = c.get_str(tag, "tag", f"event_tags[{index}].tag", required=True)
        labels[name] = c.clip(c.get_str(tag, "value", f"event_tags[{index}].value"), 1000)
    return labels


def parse_event(raw: Any) -> ParsedAlert:
    event = c.require_object(raw, _("body"))
    value = _text(event, "event_value", required=True)
    if value not in ("0", "1"):
        raise PayloadError(
            _("“%(field)s” is “%(value)s”; expected 1 (problem) or 0 (recovery).")
            % {"field": "event_value", "value": value[:40]}
        )
    trigger_id = _text(event, "trigger_id", required=True)
    host_name = _text(event, "host_name")
    host = _text(event, "host_host") or host_name
    if not host:
        raise c.missing("host_name")
    trigger_name = _text(event, "trigger_name", required=True)
    acknowledged = _text(event, "event_ack_status").lower() in ("yes", "true", "1")
    status = "resolved" if value == "0" else ("acknowledged" if acknowledged else "firing")

    labels = _tags(event)
    labels["host"] = host
    if host_name:
        labels.setdefault("host_name", host_name)
    annotations = {
        key: _text(event, key)
        for key in (
            "event_id",
            "event_recovery_id",
            "event_severity",
            "event_opdata",
            "event_update_action",
            "trigger_id",
        )
        if _text(event, key)
    }
    offset = _offset(event)
    return c.alert(
        identity_text=f"zabbix:{trigger_id}:{host}",
        status=status,
        name=trigger_name,
        severity_level=_severity(event),
        summary=_text(event, "event_name") or trigger_name,
        description=_text(event, "trigger_description"),
        labels=labels,
        annotations=annotations,
        starts_at=_time(event, "event_date", "event_time", offset),
        ends_at=(
            _time(event, "event_recovery_date", "event_recovery_time", offset)
            if status == "resolved"
            else None
        ),
        source_url=_text(event, "event_url"),
    )


class ZabbixSource:
    kind = "zabbix"

    def parse(self, body: bytes, *, mapping: Mapping[str, Any]) -> list[ParsedAlert]:
        data = c.load_json(body)
        # The media type sends one object; a list is accepted for replaying several at once.
        if isinstance(data, list):
            return [parse_event(item) for item in data]
        return [parse_event(data)]


register(ZabbixSource())
