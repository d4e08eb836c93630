"""Alert intake: authenticate a request by its integration's secret and store the body raw.

``POST /api/v1/alerts/<source>/<key>`` must answer fast, so Alertmanager never times out
and retries: the request is checked (integration, size, secret, "is it JSON at all") and
stored as one ``AlertPayload(state=received)`` row — nothing is parsed, routed or
enqueued here. The worker's poller (``monitoring.worker``) picks the rows up.

The integration is looked up by key once per ``ERPCARE_ALERT_KEY_CACHE_SECONDS``
(default 5) per process: deactivating an integration or rotating its secret takes effect
at once in the process that saved it and within that time in every other web process.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext as _

from erpcare.core import clock
from erpcare.core.errors import ActionError
from erpcare.monitoring.models import AlertPayload, AuthMode, Integration, PayloadState
from erpcare.monitoring.sources import PayloadError, source_for

# 1 MB, as the issue says; explicit so that raising ERPCARE_MAX_REQUEST_BYTES for other
# endpoints does not raise it for alerts.
MAX_BODY_BYTES = 1_000_000
SIGNATURE_HEADER = "X-ERPCare-Signature"
DEFAULT_CACHE_SECONDS = 5.0
# Bounds the per-process cache: keys are only cached once found, but a deployment with
# very many integrations must not grow it without end.
CACHE_MAX_ENTRIES = 10_000
LAST_RECEIVED_EVERY_SECONDS = 1.0
LAST_ERROR_EVERY_SECONDS = 1.0
WAITING = (PayloadState.RECEIVED, PayloadState.PROCESSING)


class Refused(ActionError):
    """The request is refused with this HTTP status; nothing was stored."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status


@dataclass(frozen=True)
class _Entry:
    """What a request needs from its integration, decrypted once per cache period."""

    id: int
    source: str
    auth_mode: str
    secret: str
    is_active: bool
    mapping: Mapping[str, Any]  # the generic source's field mapping
    expires_at: float  # time.monotonic()


_lock = threading.Lock()
_by_key: dict[str, _Entry] = {}
_last_received_write: dict[int, float] = {}
_last_error_write: dict[int, float] = {}


def clear_cache() -> None:
    """Forget every cached integration (and the write throttles); tests call this."""
    with _lock:
        _by_key.clear()
        _last_received_write.clear()
        _last_error_write.clear()


@receiver(post_save, sender=Integration, dispatch_uid="monitoring.ingest.saved")
@receiver(post_delete, sender=Integration, dispatch_uid="monitoring.ingest.deleted")
def _integration_changed(sender: Any, **kwargs: Any) -> None:
    # A saved integration may have a new secret, state or key: this process sees it now.
    clear_cache()


def _cache_seconds() -> float:
    return float(getattr(settings, "ERPCARE_ALERT_KEY_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))


def _lookup(key: str) -> _Entry | None:
    now = time.monotonic()
    entry = _by_key.get(key)
    if entry is not None and entry.expires_at > now:
        return entry
    # Unknown keys are not cached: a prober would fill the cache, and a new integration
    # must work at once.
    row = (
        Integration.objects.filter(key=key)
        .only("id", "source", "auth_mode", "secret", "is_active", "field_mapping")
        .first()
    )
    if row is None:
        with _lock:
            _by_key.pop(key, None)
        return None
    entry = _Entry(
        id=row.pk,
        source=row.source,
        auth_mode=row.auth_mode,
        secret=row.secret,
        is_active=row.is_active,
        mapping=dict(row.field_mapping or {}),
        expires_at=now + _cache_seconds(),
    )
    with _lock:
        if len(_by_key) >= CACHE_MAX_ENTRIES:
            _by_key.clear()
        _by_key[key] = entry
    return entry


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), "")
    return str(value).strip()


def signature(secret: str, body: bytes) -> str:
    """The ``X-ERPCare-Signature`` value a sender computes for HMAC integrations."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _authenticated(entry: _Entry, body: bytes, headers: Mapping[str, str]) -> str:
    """An empty string when the request carries the secret, else why not."""
    if entry.auth_mode == AuthMode.HMAC:
        given = _header(headers, SIGNATURE_HEADER)
        if not given:
            return _("The %(header)s header is missing.") % {"header": SIGNATURE_HEADER}
        expected = signature(entry.secret, body)
        if not hmac.compare_digest(given.lower().encode("utf-8"), expected.encode("utf-8")):
            return _("The signature does not match the integration's secret.")
        return ""
    given = _header(headers, "Authorization")
    scheme, _sep, token = given.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _("Send the integration's secret as Authorization: Bearer <secret>.")
    if not hmac.compare_digest(token.strip().encode("utf-8"), entry.secret.encode("utf-8")):
        return _("The bearer token does not match the integration's secret.")
    return ""


def _throttled(marks: dict[int, float], integration_id: int, every: float) -> bool:
    """True when this process wrote for the integration less than ``every`` seconds ago."""
    now = time.monotonic()
    last = marks.get(integration_id)
    if last is not None and now - last < every:
        return True
    marks[integration_id] = now
    return False


def _note_refusal(entry: _Entry, reason: str) -> None:
    # Counted on the integration so its page shows senders with a wrong secret; at most
    # once a second per process, so a flood of bad requests is not a flood of UPDATEs.
    if _throttled(_last_error_write, entry.id, LAST_ERROR_EVERY_SECONDS):
        return
    Integration.objects.filter(pk=entry.id).update(
        last_error=reason[:1000], last_error_at=clock.now()
    )


def too_large() -> Refused:
    return Refused(
        413,
        _("The alert payload is larger than %(limit)d bytes; send smaller batches.")
        % {"limit": MAX_BODY_BYTES},
    )


def not_found() -> Refused:
    # One answer for unknown keys, inactive integrations and a wrong source, so keys
    # cannot be probed.
    return Refused(404, _("There is no active alert integration at this address."))


def _check_json(body: bytes) -> str:
    """The body as text, or Refused(400) when it is empty or not JSON."""
    if not body.strip():
        raise Refused(400, _("The body is empty; send the alert as JSON."))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(
            400, _("The body is not UTF-8 text: %(error)s") % {"error": exc.reason}
        ) from None
    try:
        json.loads(text)
    except ValueError as exc:
        raise Refused(400, _("The body is not valid JSON: %(error)s") % {"error": exc}) from None
    return text


def _check_readable(entry: _Entry, body: bytes) -> None:
    """Refused(400) with the parser's reason when the source cannot read the body.

    The parser is pure and fast (no database), so a malformed payload is refused while
    the sender is still listening, instead of failing later in the worker unseen. The
    worker parses again; a body that passes here can still fail there only if the
    integration's mapping changed in between (then it is kept as failed, for replay).
    """
    try:
        source_for(entry.source).parse(body, mapping=entry.mapping)
    except PayloadError as exc:
        raise Refused(400, str(exc)) from None


_STORED = ("integration", "received_at", "body", "content_type", "sha256", "state")
_DEFAULTED = ("error", "attempts", "alerts_count")


def _insert(payload: AlertPayload) -> None:
    """INSERT one new payload and set its id: the statement ``objects.create`` would
    send, without its per-call SQL compilation — half the CPU of storing a post."""
    meta = AlertPayload._meta
    wanted = (*_STORED, *_DEFAULTED)
    fields = sorted(
        (f for f in meta.concrete_fields if f.name in wanted), key=lambda f: wanted.index(f.name)
    )
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    values = [f.get_db_prep_save(f.pre_save(payload, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}) "  # noqa: S608 - names from the model
            f"RETURNING {quote(str(meta.pk.column))}",
            values,
        )
        payload.pk = cursor.fetchone()[0]
    payload._state.adding = False
    payload._state.db = connection.alias


def receive(
    integration_key: str, source: str, body: bytes, headers: Mapping[str, str]
) -> AlertPayload:
    """Authenticate and store one request body; raise ``Refused`` when it must be refused.

    404: unknown key, inactive integration or another source; 413: over 1 MB; 401: wrong
    or missing secret; 400: empty, not JSON, or not readable as this source's payload
    (the parser's reason). Two identical bodies (Alertmanager HA) are
    both stored; the pipeline dedupes them.
    """
    entry = _lookup(integration_key)
    if entry is None or not entry.is_active or entry.source != source:
        raise not_found()
    if len(body) > MAX_BODY_BYTES:
        raise too_large()
    reason = _authenticated(entry, body, headers)
    if reason:
        _note_refusal(entry, reason)
        raise Refused(401, reason)
    text = _check_json(body)
    _check_readable(entry, body)
    now = clock.now()
    payload = AlertPayload(
        integration_id=entry.id,
        received_at=now,
        body=text,
        content_type=_header(headers, "Content-Type")[:100],
        sha256=hashlib.sha256(body).hexdigest(),
        state=PayloadState.RECEIVED,
    )
    _insert(payload)
    if not _throttled(_last_received_write, entry.id, LAST_RECEIVED_EVERY_SECONDS):
        Integration.objects.filter(pk=entry.id).update(last_received_at=now)
    return payload


def pipeline_lag_seconds() -> float:
    """Age of the oldest payload not processed yet (received or being processed); 0 when
    the queue is empty."""
    # The queue index holds only unprocessed rows and ids grow with time: the first is
    # the oldest.
    oldest = (
        AlertPayload.objects.filter(state__in=WAITING)
        .order_by("id")
        .values_list("received_at", flat=True)
        .first()
    )
    if oldest is None:
        return 0.0
    return max(0.0, (clock.now() - oldest).total_seconds())


def select_for_replay(
    *, ids: Iterable[int] = (), failed: bool = False, since: datetime | None = None
) -> QuerySet[AlertPayload]:
    """The payloads an operator chose: by id, every failed one, or every one since a time."""
    payloads = AlertPayload.objects.all()
    chosen = list(ids)
    if chosen:
        payloads = payloads.filter(pk__in=chosen)
    if failed:
        payloads = payloads.filter(state=PayloadState.FAILED)
    if since is not None:
        payloads = payloads.filter(received_at__gte=since)
    return payloads.order_by("id")


def reset_for_replay(payload_ids: Iterable[int]) -> int:
    """Put payloads back in the queue as if just received; attempts are kept, so the
    history of tries stays visible."""
    ids = list(payload_ids)
    updated = 0
    for start in range(0, len(ids), 500):
        updated += AlertPayload.objects.filter(pk__in=ids[start : start + 500]).update(
            state=PayloadState.RECEIVED, error="", processed_at=None
        )
    return updated
