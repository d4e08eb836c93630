"""Any JSON sender, read through the integration's field mapping (``Integration.field_mapping``).

The mapping names, as dotted paths, where each field of an alert is::

    {
        "alerts": "data.items",          # optional: the list of alerts; else the body is one
        "identity": "id",                # required: what makes two events the same alert
        "status": "state",               # optional: absent means every event is firing
        "status_map": {"ok": "resolved", "alerting": "firing"},
        "name": "check.name",
        "severity": "level",
        "severity_map": {"p1": "critical"},
        "summary": "message",
        "description": "details",
        "labels": "tags",                # an object of labels
        "starts_at": "time",             # RFC 3339 text or Unix seconds
        "url": "link",
    }

A path's parts are object keys or list indexes (``items.0.name``); inside ``alerts`` it is
read from each alert, and ``$.`` reads from the whole body instead (``$.host``). The
``identity``, ``status`` and ``name`` paths must resolve in every alert (else the payload
is refused, naming the path); the others are empty when the sender leaves them out.
Status values are looked up in ``status_map`` first, then in common words (firing,
problem, alerting, triggered / ok, resolved, recovered / acknowledged, ack).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from erpcare.monitoring.sources import ParsedAlert, PayloadError, register
from erpcare.monitoring.sources import common as c

PATH_KEYS = (
    "alerts",
    "identity",
    "status",
    "name",
    "severity",
    "summary",
    "description",
    "labels",
    "starts_at",
    "url",
)
MAP_KEYS = ("status_map", "severity_map")
REQUIRED_KEYS = ("identity",)
STRICT_KEYS = ("identity", "status", "name")  # must resolve when mapped

STATUSES = ("firing", "acknowledged", "resolved")
SEVERITIES = ("critical", "high", "warning", "info")
_STATUS_WORDS = {
    "firing": "firing",
    "fire": "firing",
    "problem": "firing",
    "alerting": "firing",
    "alert": "firing",
    "triggered": "firing",
    "trigger": "firing",
    "open": "firing",
    "critical": "firing",
    "down": "firing",
    "ok": "resolved",
    "resolved": "resolved",
    "resolve": "resolved",
    "recovered": "resolved",
    "recovery": "resolved",
    "closed": "resolved",
    "normal": "resolved",
    "up": "resolved",
    "acknowledged": "acknowledged",
    "acknowledge": "acknowledged",
    "ack": "acknowledged",
}
_PATH = re.compile(r"^(\$\.)?[^.\s][^.]*(\.[^.]+)*$")

_MISSING = object()


def validate_mapping(mapping: Any) -> None:
    """Raise ``PayloadError`` naming the first problem of a field mapping (for the admin form)."""
    if not isinstance(mapping, Mapping) or not mapping:
        raise PayloadError(_("This integration has no field mapping; set at least “identity”."))
    for key in mapping:
        if key not in PATH_KEYS and key not in MAP_KEYS:
            raise PayloadError(
                _("Unknown key “%(key)s” in the field mapping (known: %(known)s).")
                % {"key": str(key)[:40], "known": ", ".join(PATH_KEYS + MAP_KEYS)}
            )
    for key in REQUIRED_KEYS:
        if not mapping.get(key):
            raise PayloadError(_("The field mapping needs a path for “%(key)s”.") % {"key": key})
    for key in PATH_KEYS:
        path = mapping.get(key)
        if path is None:
            continue
        if not isinstance(path, str) or not _PATH.match(path) or (key == "alerts" and "$" in path):
            raise PayloadError(
                _("The path for “%(key)s” must be dotted keys such as “alert.labels”.")
                % {"key": key}
            )
    for key, allowed in (("status_map", STATUSES), ("severity_map", SEVERITIES)):
        table = mapping.get(key)
        if table is None:
            continue
        if not isinstance(table, Mapping):
            raise PayloadError(_("“%(key)s” must be an object.") % {"key": key})
        for word, value in table.items():
            if value not in allowed:
                raise PayloadError(
                    _("“%(key)s” maps “%(word)s” to “%(value)s”; use one of %(allowed)s.")
                    % {
                        "key": key,
                        "word": str(word)[:40],
                        "value": str(value)[:40],
                        "allowed": ", ".join(allowed),
                    }
                )


def resolve(root: Any, item: Any, path: str) -> Any:
    """The value at a dotted path, or ``_MISSING``; ``$.`` starts from the root."""
    node = item
    if path.startswith("$."):
        node, path = root, path[2:]
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part, _MISSING)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


class _Reader:
    def __init__(self, mapping: Mapping[str, Any], root: Any, item: Any, where: str) -> None:
        self.mapping, self.root, self.item, self.where = mapping, root, item, where

    def raw(self, key: str) -> Any:
        path = self.mapping.get(key)
        if not path:
            return None
        value = resolve(self.root, self.item, path)
        if value is _MISSING or value is None:
            if key in STRICT_KEYS:
                raise PayloadError(
                    _("The path “%(path)s” (%(key)s) is not in %(where)s.")
                    % {"path": path, "key": key, "where": self.where}
                )
            return None
        return value

    def text(self, key: str) -> str:
        value = self.raw(key)
        if value is None:
            return ""
        if isinstance(value, dict | list):
            raise PayloadError(
                _("The path “%(path)s” (%(key)s) must lead to text, not %(type)s.")
                % {"path": self.mapping[key], "key": key, "type": c.json_type(value)}
            )
        return c.scalar_text(value).strip()


def _status(reader: _Reader, mapping: Mapping[str, Any]) -> str:
    if not mapping.get("status"):
        return "firing"
    word = reader.text("status")
    table = mapping.get("status_map") or {}
    status = table.get(word) or _STATUS_WORDS.get(word.lower())
    if status is None:
        raise PayloadError(
            _("The status “%(value)s” at “%(path)s” is not in the status map.")
            % {"value": word[:40], "path": mapping["status"]}
        )
    return str(status)


def _severity(reader: _Reader, mapping: Mapping[str, Any]) -> str:
    word = reader.text("severity")
    table = mapping.get("severity_map") or {}
    if word in table:
        return str(table[word])
    return c.severity(word)


def parse_item(mapping: Mapping[str, Any], root: Any, item: Any, where: str) -> ParsedAlert:
    reader = _Reader(mapping, root, item, where)
    labels_raw = reader.raw("labels")
    labels = {} if labels_raw is None else c.str_map(labels_raw, mapping["labels"])
    summary = reader.text("summary")
    return c.alert(
        identity_text=reader.text("identity") or _raise_empty(mapping, where),
        status=_status(reader, mapping),
        name=reader.text("name") or summary,
        severity_level=_severity(reader, mapping),
        summary=summary,
        description=reader.text("description"),
        labels=labels,
        starts_at=c.parse_time(reader.raw("starts_at"), mapping.get("starts_at", "")),
        source_url=reader.text("url"),
    )


def _raise_empty(mapping: Mapping[str, Any], where: str) -> str:
    raise PayloadError(
        _("The path “%(path)s” (%(key)s) is empty in %(where)s.")
        % {"path": mapping["identity"], "key": "identity", "where": where}
    )


class GenericSource:
    kind = "generic"

    def parse(self, body: bytes, *, mapping: Mapping[str, Any]) -> list[ParsedAlert]:
        validate_mapping(mapping)
        root = c.load_json(body)
        alerts_path = mapping.get("alerts")
        if not alerts_path:
            return [parse_item(mapping, root, root, _("the body"))]
        items = resolve(root, root, alerts_path)
        if items is _MISSING:
            raise PayloadError(
                _("The path “%(path)s” (%(key)s) is not in %(where)s.")
                % {"path": alerts_path, "key": "alerts", "where": _("the body")}
            )
        return [
            parse_item(mapping, root, item, f"{alerts_path}[{index}]")
            for index, item in enumerate(c.require_list(items, alerts_path))
        ]


register(GenericSource())
