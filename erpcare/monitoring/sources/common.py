"""What every source parser needs: reading JSON strictly, typed field access whose errors
name the field, timestamps, severities, and clipping to what the ``Alert`` columns hold.

Every failure is a ``PayloadError`` with a translated reason: the endpoint answers it as a
400 and the stored payload keeps it, so the sender's operator can fix the template.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext as _

from erpcare.monitoring.sources import ParsedAlert, PayloadError

# Column sizes of monitoring.Alert: a longer value is clipped here, not refused, since the
# full text stays in the raw payload.
MAX_IDENTITY = 255
MAX_NAME = 200
MAX_SUMMARY = 500
MAX_URL = 500
MAX_LABEL_VALUE = 1000

_SEVERITIES = {
    "critical": "critical",
    "crit": "critical",
    "error": "critical",
    "err": "critical",
    "fatal": "critical",
    "emergency": "critical",
    "disaster": "critical",
    "page": "critical",
    "high": "high",
    "major": "high",
    "warning": "warning",
    "warn": "warning",
    "minor": "warning",
    "average": "warning",
    "medium": "warning",
    "info": "info",
    "information": "info",
    "informational": "info",
    "none": "info",
    "low": "info",
    "ok": "info",
    "not classified": "info",
    "debug": "info",
}


def load_json(body: bytes) -> Any:
    """The body as JSON, or a ``PayloadError`` saying why it is not."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PayloadError(_("The body is not UTF-8 text.")) from None
    if not text.strip():
        raise PayloadError(_("The body is empty."))
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(
            _("The body is not valid JSON (line %(line)d, column %(column)d: %(error)s).")
            % {"line": exc.lineno, "column": exc.colno, "error": exc.msg}
        ) from None
    except RecursionError:
        raise PayloadError(_("The body is nested too deeply to be read.")) from None


def require_object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(
            _("“%(field)s” must be a JSON object, not %(type)s.")
            % {"field": field, "type": json_type(value)}
        )
    return value


def require_list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadError(
            _("“%(field)s” must be a JSON list, not %(type)s.")
            % {"field": field, "type": json_type(value)}
        )
    return value


def missing(field: str) -> PayloadError:
    return PayloadError(_("The required field “%(field)s” is missing.") % {"field": field})


def get_str(
    obj: Mapping[str, Any],
    key: str,
    field: str,
    *,
    required: bool = False,
    default: str = "",
    strict: bool = False,
) -> str:
    """``obj[key]`` as text. Numbers are accepted (senders template them either way) unless
    ``strict``: fields a specification defines as strings (versions, statuses, ids)."""
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise missing(field)
        return default
    allowed = str if strict else str | int | float
    if isinstance(value, bool) or not isinstance(value, allowed):
        raise PayloadError(
            _("“%(field)s” must be text, not %(type)s.")
            % {"field": field, "type": json_type(value)}
        )
    return str(value)


def get_str_map(obj: Mapping[str, Any], key: str, field: str) -> dict[str, str]:
    """An object of text values (labels, annotations); absent or null is empty."""
    value = obj.get(key)
    if value is None:
        return {}
    return str_map(value, field)


def str_map(value: Any, field: str) -> dict[str, str]:
    """An object flattened to text values: nested values become compact JSON."""
    result: dict[str, str] = {}
    for name, item in require_object(value, field).items():
        result[str(name)] = clip(scalar_text(item), MAX_LABEL_VALUE)
    return result


def scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return _("a boolean")
    if isinstance(value, int | float):
        return _("a number")
    if isinstance(value, str):
        return _("text")
    if isinstance(value, list):
        return _("a list")
    return _("an object")


def parse_time(value: Any, field: str) -> datetime | None:
    """An RFC 3339 / ISO 8601 time (or Unix seconds) in UTC; empty and Go's zero time are None.

    A time without an offset is taken as UTC, which is what every source here sends.
    """
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise bad_time(field, str(value)) from None
    if not isinstance(value, str):
        raise bad_time(field, scalar_text(value)[:60])
    if value.startswith("0001-01-01"):  # Go's zero time.Time: "not set"
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise bad_time(field, value[:60]) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def bad_time(field: str, value: str) -> PayloadError:
    return PayloadError(
        _("“%(field)s” is not a valid time: “%(value)s” (expected e.g. 2026-11-22T01:43:17Z).")
        % {"field": field, "value": value}
    )


def severity(value: str, *, default: str = "warning") -> str:
    """A sender's severity word in our four levels; unknown words keep the default."""
    return _SEVERITIES.get(value.strip().lower(), default) if value else default


def labels_hash(labels: Mapping[str, str]) -> str:
    """A stable identity from a label set, as Alertmanager's fingerprint is (sorted pairs)."""
    canon = json.dumps(sorted(labels.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:32]


def identity(text: str) -> str:
    """An identity that fits the column: a longer one is replaced by a hash of itself."""
    if len(text) <= MAX_IDENTITY:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def alert(
    *,
    identity_text: str,
    status: str,
    name: str,
    severity_level: str,
    summary: str = "",
    description: str = "",
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    source_url: str = "",
) -> ParsedAlert:
    """A ``ParsedAlert`` clipped to the columns it will be stored in."""
    if not identity_text:
        raise PayloadError(_("The alert has no identity."))
    return ParsedAlert(
        identity=identity(identity_text),
        status=status,
        name=clip(name or summary or identity_text, MAX_NAME),
        severity=severity_level,
        summary=clip(summary, MAX_SUMMARY),
        description=description,
        labels=dict(labels or {}),
        annotations=dict(annotations or {}),
        starts_at=starts_at,
        ends_at=ends_at,
        # A link longer than the column would be broken if clipped: drop it instead.
        source_url=source_url if len(source_url) <= MAX_URL else "",
    )
