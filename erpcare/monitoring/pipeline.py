"""The alert pipeline: raw payloads in, deduplicated alerts and incidents out.

``process_pending`` claims stored payloads in id order and processes each claimed set in
ONE transaction (a crash rolls the claim back and the payloads are processed again):

1. exact re-sends (same integration and body within ``DUPLICATE_WINDOW``: Alertmanager HA
   pairs) are marked DUPLICATE and change nothing;
2. each body is parsed by its source plug-in; a ``PayloadError`` marks only that payload
   FAILED;
3. the open (and recently resolved) alerts of every identity involved are loaded in one
   query; repeats, acknowledgements and resolutions are applied in memory and written
   at the end (repeats with one UPDATE); new alerts are routed, checked against
   maintenance windows, correlated (each group's open incident looked up once per round,
   under a per-group lock, and opened only for new groups) and inserted together in one
   statement (when the partial unique index ``alert_one_open_per_identity`` refuses it
   because a concurrent worker inserted one of them, one by one, and the refused one
   counts as a repeat of the other worker's alert);
4. incidents hear about it once per round: one internal note per incident (alerts that
   only joined are noted at most once per ``JOIN_NOTE_INTERVAL``), a resolution when all
   its alerts resolved (``on_resolve == "resolve"``), a reopen when an alert fires again
   within the integration's flap window.

If a claimed set fails for an unexpected reason, its payloads are processed one by one,
so one bad payload is marked FAILED without holding back the others.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from erpcare.accounts.models import User
from erpcare.core import clock
from erpcare.core.errors import ActionError
from erpcare.monitoring import incidents
from erpcare.monitoring.correlation import Correlator, Group, lock_group
from erpcare.monitoring.maintenance import Windows, is_open
from erpcare.monitoring.models import (
    Alert,
    AlertPayload,
    AlertStatus,
    AlertTransition,
    Integration,
    MaintenanceWindow,
    PayloadState,
    ResolveAction,
    Severity,
)
from erpcare.monitoring.routing import Route, Router
from erpcare.monitoring.sources import ParsedAlert, PayloadError, source_for
from erpcare.tickets.models import OPEN_STATUSES, Comment, Status, Ticket

log = logging.getLogger(__name__)

DUPLICATE_WINDOW = timedelta(minutes=5)
JOIN_NOTE_INTERVAL = timedelta(minutes=1)
PAYLOADS_PER_TRANSACTION = 200
BULK_INSERT_SIZE = 1000
MAX_ROUNDS = 10_000
# Why an alert has no incident, kept in its annotations for the UI (values are codes).
REASON_KEY = "erpcare_reason"
NO_CUSTOMER = "no_customer"
INCIDENT_REFUSED = "incident_refused"


def process_pending(*, limit: int = 500) -> dict[str, int]:
    """Process up to ``limit`` stored payloads; returns counters (payloads, alerts, new,
    repeats, resolved, duplicates, failed, incidents, suppressed, …)."""
    stats: Counter[str] = Counter()
    left = max(0, limit)
    for _round in range(MAX_ROUNDS):
        if left <= 0:
            break
        size = min(left, PAYLOADS_PER_TRANSACTION)
        round_stats: Counter[str] = Counter()
        try:
            with transaction.atomic():
                payloads = _claim(size)
                if payloads:
                    _Round(payloads, round_stats).run()
            claimed = len(payloads)
            stats.update(round_stats)
        except Exception:
            log.exception("alert pipeline: a set of %d payloads failed; one by one now", size)
            claimed = _one_by_one(size, stats)
        left -= claimed
        if claimed < size:
            break
    return dict(stats)


def process_payload(payload_id: int) -> AlertPayload:
    """Process one payload now, whatever its state (replay). Returns it updated."""
    stats: Counter[str] = Counter()
    with transaction.atomic():
        found = _with_integrations(
            AlertPayload.objects.select_for_update(of=("self",)).filter(pk=payload_id)
        )
        if not found:
            raise AlertPayload.DoesNotExist(f"no alert payload {payload_id}")
        payload = found[0]
        _Round([payload], stats).run()
    payload.refresh_from_db()
    return payload


def _claim(size: int) -> list[AlertPayload]:
    """Lock the oldest unprocessed payloads for this transaction."""
    if connection.vendor == "postgresql":
        return _with_integrations(
            AlertPayload.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=PayloadState.RECEIVED)
            .order_by("id")[:size]
        )
    # SQLite: a conditional UPDATE first takes the database's write lock, so two workers
    # never read the same RECEIVED rows; the rollback of a failed round undoes it.
    table = connection.ops.quote_name(AlertPayload._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET state = %s WHERE id IN (SELECT id FROM {table} "  # noqa: S608
            f"WHERE state = %s ORDER BY id LIMIT %s) RETURNING id",
            [PayloadState.PROCESSING, PayloadState.RECEIVED, size],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return _with_integrations(AlertPayload.objects.filter(pk__in=ids).order_by("id"))


def _with_integrations(payloads: QuerySet[AlertPayload]) -> list[AlertPayload]:
    """The payloads, each pointing at ONE shared instance of its integration (with what
    routing reads), loaded in one query: no query per payload, no secret decrypted."""
    rows = list(payloads)
    integrations = (
        Integration.objects.select_related("organization", "erp_instance__organization", "team")
        .defer("secret")
        .in_bulk({p.integration_id for p in rows})
    )
    for payload in rows:
        payload.integration = integrations[payload.integration_id]
    return rows


def _one_by_one(size: int, stats: Counter[str]) -> int:
    claimed = 0
    for _i in range(size):
        with transaction.atomic():
            payloads = _claim(1)
            if not payloads:
                break
            claimed += 1
            payload = payloads[0]
            round_stats: Counter[str] = Counter()
            try:
                with transaction.atomic():
                    _Round([payload], round_stats).run()
                stats.update(round_stats)
            except Exception as error:
                log.exception("alert pipeline: payload %s failed", payload.pk)
                _fail(payload, _("Processing failed: %(error)s") % {"error": error})
                AlertPayload.objects.filter(pk=payload.pk).update(
                    state=payload.state, error=payload.error, processed_at=payload.processed_at
                )
                stats["failed"] += 1
    return claimed


def _fail(payload: AlertPayload, message: str) -> None:
    payload.state = PayloadState.FAILED
    payload.error = message[:2000]
    payload.processed_at = clock.now()


class _Round:
    """One claimed set of payloads, processed in the caller's transaction."""

    def __init__(self, payloads: list[AlertPayload], stats: Counter[str]) -> None:
        self.payloads = payloads
        self.stats = stats
        self.now = clock.now()
        self.router = Router()
        self._windows: Windows | None = None
        self._correlator: Correlator | None = None
        self._actor: User | None = None
        self.open: dict[tuple[int, str], Alert] = {}
        self.recently_resolved: dict[tuple[int, str], Alert] = {}
        # Existing alerts seen again (by id): written at the end with one statement.
        self.dirty: dict[int, Alert] = {}
        self.count_delta: Counter[int] = Counter()
        # Existing alerts whose status changed (resolved, acknowledged).
        self.changed: dict[int, Alert] = {}
        # Alerts first seen in this round, inserted together at the end.
        self.new_alerts: list[Alert] = []
        # Group key -> its open incident, looked up once per round under the group's lock.
        self.group_incidents: dict[str, int | None] = {}
        self.transitions: list[AlertTransition] = []
        self.notes: dict[int, list[str]] = defaultdict(list)
        # incident id -> the alerts that joined it in this round (see JOIN_NOTE_INTERVAL)
        self.joined: dict[int, list[Alert]] = defaultdict(list)
        self.resolved: dict[int, list[Alert]] = defaultdict(list)

    # Lazily built: a round of repeats needs no rules, windows or service account.
    @property
    def windows(self) -> Windows:
        if self._windows is None:
            self._windows = Windows(self.now)
        return self._windows

    @property
    def correlator(self) -> Correlator:
        if self._correlator is None:
            self._correlator = Correlator(self.now)
        return self._correlator

    @property
    def actor(self) -> User:
        if self._actor is None:
            self._actor = incidents.monitoring_actor()
        return self._actor

    # -- the round ------------------------------------------------------------------

    def run(self) -> None:
        self.stats["payloads"] += len(self.payloads)
        duplicates = self._duplicates()
        items: list[tuple[AlertPayload, ParsedAlert]] = []
        for payload in self.payloads:
            payload.attempts += 1
            if payload.pk in duplicates:
                payload.state = PayloadState.DUPLICATE
                payload.processed_at = self.now
                self.stats["duplicates"] += 1
                continue
            parsed = self._parse(payload)
            if parsed is None:
                continue
            payload.state = PayloadState.PROCESSED
            payload.processed_at = self.now
            payload.alerts_count = len(parsed)
            payload.error = ""
            items += [(payload, alert) for alert in parsed]
        self.stats["alerts"] += len(items)
        if items:
            self._load_alerts(items)
            for payload, parsed_alert in items:
                self._apply(payload, parsed_alert)
        self._flush()

    def _duplicates(self) -> set[int]:
        """Payloads whose exact body the same integration sent shortly before."""
        earliest = min(p.received_at for p in self.payloads) - DUPLICATE_WINDOW
        seen: dict[tuple[int, str], list[tuple[int, datetime]]] = defaultdict(list)
        rows = (
            AlertPayload.objects.filter(
                integration_id__in={p.integration_id for p in self.payloads},
                sha256__in={p.sha256 for p in self.payloads},
                received_at__gte=earliest,
                id__lt=max(p.pk for p in self.payloads),
            )
            .exclude(state=PayloadState.FAILED)
            .values_list("id", "integration_id", "sha256", "received_at")
        )
        for pk, integration_id, sha, received_at in rows:
            seen[(integration_id, sha)].append((pk, received_at))
        return {
            p.pk
            for p in self.payloads
            if any(
                pk < p.pk and p.received_at - DUPLICATE_WINDOW <= at <= p.received_at
                for pk, at in seen.get((p.integration_id, p.sha256), [])
            )
        }

    def _parse(self, payload: AlertPayload) -> list[ParsedAlert] | None:
        integration = payload.integration
        try:
            source = source_for(integration.source)
            return source.parse(payload.body.encode(), mapping=integration.field_mapping or {})
        except PayloadError as error:
            message = str(error)
        except Exception as error:  # a parser bug must not stop the round
            log.exception("alert source %s failed on payload %s", integration.source, payload.pk)
            message = _("The %(source)s parser failed: %(error)s") % {
                "source": integration.source,
                "error": error,
            }
        _fail(payload, message)
        Integration.objects.filter(pk=integration.pk).update(
            last_error=payload.error, last_error_at=self.now
        )
        self.stats["failed"] += 1
        return None

    def _load_alerts(self, items: list[tuple[AlertPayload, ParsedAlert]]) -> None:
        """Open alerts and those resolved within a flap window, in one query."""
        integrations = {p.integration_id: p.integration for p, _a in items}
        longest = max(i.flap_window_minutes for i in integrations.values())
        rows = Alert.objects.filter(
            integration_id__in=integrations,
            identity__in={_identity(a) for _p, a in items},
        ).filter(
            ~Q(status=AlertStatus.RESOLVED)
            | Q(resolved_at__gte=self.now - timedelta(minutes=longest))
        )
        for alert in rows.order_by("id"):
            alert.integration = integrations[alert.integration_id]
            key = (alert.integration_id, alert.identity)
            if alert.status == AlertStatus.RESOLVED:
                self.recently_resolved[key] = alert
            else:
                self.open[key] = alert

    # -- one alert ------------------------------------------------------------------

    def _apply(self, payload: AlertPayload, parsed: ParsedAlert) -> None:
        integration = payload.integration
        key = (integration.pk, _identity(parsed))
        alert = self.open.get(key)
        if alert is not None:
            self._update(alert, payload, parsed)
            return
        if parsed.status == AlertStatus.RESOLVED:
            self.stats["resolved_unknown"] += 1  # a resolution for an alert we never saw
            return
        old = self.recently_resolved.get(key)
        flap = timedelta(minutes=integration.flap_window_minutes)
        if old is not None and old.resolved_at is not None and self.now - old.resolved_at <= flap:
            self._reopen(old, payload, parsed)
            return
        self._create(payload, parsed)

    def _transition(self, alert: Alert, new: str, payload: AlertPayload, note: str = "") -> None:
        self.transitions.append(
            AlertTransition(
                alert=alert,
                at=self.now,
                old_status=alert.status,
                new_status=new,
                note=note[:200],
                payload=payload,
            )
        )
        alert.status = new

    def _touch(self, alert: Alert, payload: AlertPayload) -> None:
        alert.last_seen_at = self.now
        alert.last_payload_id = payload.pk
        if alert.pk is None:  # first seen in this round: inserted with its count
            alert.count += 1
            return
        self.count_delta[alert.pk] += 1
        self.dirty[alert.pk] = alert

    def _update(self, alert: Alert, payload: AlertPayload, parsed: ParsedAlert) -> None:
        self._touch(alert, payload)
        if parsed.status == AlertStatus.RESOLVED:
            self._transition(alert, AlertStatus.RESOLVED, payload)
            alert.resolved_at = self.now
            alert.ends_at = parsed.ends_at or self.now
            self._changed(alert)
            key = (alert.integration_id, alert.identity)
            self.open.pop(key, None)
            self.recently_resolved[key] = alert
            if alert.incident_id is not None:
                self.resolved[alert.incident_id].append(alert)
            self.stats["resolved"] += 1
        elif parsed.status == AlertStatus.ACKNOWLEDGED and alert.status == AlertStatus.FIRING:
            self._transition(alert, AlertStatus.ACKNOWLEDGED, payload)
            self._changed(alert)
            if alert.incident_id is not None:
                self.notes[alert.incident_id].append(
                    _("Acknowledged at the source: %(alert)s")
                    % {"alert": incidents.alert_line(alert)}
                )
            self.stats["acknowledged"] += 1
        else:
            self.stats["repeats"] += 1

    def _changed(self, alert: Alert) -> None:
        if alert.pk is not None:
            self.changed[alert.pk] = alert

    def _reopen(self, alert: Alert, payload: AlertPayload, parsed: ParsedAlert) -> None:
        """Firing again within the flap window: the same alert and incident come back."""
        key = (alert.integration_id, alert.identity)
        if alert.pk is None:
            # First seen, resolved and firing again within this round: still the one new
            # alert (its incident's resolution is not written: it fires).
            self._transition(alert, AlertStatus.FIRING, payload, note=_("Firing again (flapping)"))
            alert.reopen_count += 1
            alert.resolved_at = None
            alert.ends_at = None
            self._touch(alert, payload)
            self.recently_resolved.pop(key, None)
            self.open[key] = alert
            self.stats["reopened"] += 1
            return
        old_status = alert.status
        alert.status = AlertStatus.FIRING
        alert.reopen_count += 1
        alert.resolved_at = None
        alert.ends_at = None
        alert.last_seen_at = self.now
        alert.last_payload_id = payload.pk
        window = self.windows.find(alert.organization_id, alert.erp_instance_id)
        alert.suppressed_by = window
        try:
            with transaction.atomic():
                alert.save(
                    update_fields=[
                        "status",
                        "reopen_count",
                        "resolved_at",
                        "ends_at",
                        "last_seen_at",
                        "last_payload",
                        "suppressed_by",
                    ]
                )
        except IntegrityError:
            # Another worker opened this identity meanwhile: this firing is a repeat of it.
            alert.status = old_status
            current = Alert.objects.exclude(status=AlertStatus.RESOLVED).get(
                integration_id=alert.integration_id, identity=alert.identity
            )
            self.open[key] = current
            self._update(current, payload, parsed)
            return
        alert.status = old_status
        self._transition(alert, AlertStatus.FIRING, payload, note=_("Firing again (flapping)"))
        self.recently_resolved.pop(key, None)
        self.open[key] = alert
        self.count_delta[alert.pk] += 1
        self.dirty[alert.pk] = alert
        self.stats["reopened"] += 1
        if window is not None:
            self.stats["suppressed"] += 1
            return
        if alert.incident_id is not None:
            ticket = Ticket.objects.get(pk=alert.incident_id)
            if ticket.status == Status.RESOLVED:
                if incidents.reopen(self.actor, ticket, alert):
                    self.stats["incidents_reopened"] += 1
                    return
            elif ticket.status in OPEN_STATUSES:
                self.notes[ticket.pk].append(
                    _("Firing again: %(alert)s") % {"alert": incidents.alert_line(alert)}
                )
                return
        # No incident to come back to (closed, or never opened): treat it as a new group.
        if alert.organization_id is not None:
            self._attach(alert, _route_of(alert))

    def _create(self, payload: AlertPayload, parsed: ParsedAlert) -> None:
        integration = payload.integration
        route = self.router.route(integration, parsed, now=self.now)
        status = (
            AlertStatus.ACKNOWLEDGED
            if parsed.status == AlertStatus.ACKNOWLEDGED
            else AlertStatus.FIRING
        )
        alert = Alert(
            integration=integration,
            identity=_identity(parsed),
            status=status,
            severity=parsed.severity if parsed.severity in Severity.values else Severity.WARNING,
            name=(parsed.name or _identity(parsed))[:200],
            summary=parsed.summary[:500],
            description=parsed.description,
            labels=dict(parsed.labels),
            annotations=dict(parsed.annotations),
            source_url=parsed.source_url[:500],
            starts_at=parsed.starts_at or self.now,
            first_seen_at=self.now,
            last_seen_at=self.now,
            organization=route.organization,
            erp_instance=route.erp_instance,
            module=route.module[:20],
            priority=route.priority,
            team=route.team,
            last_payload=payload,
        )
        if route.organization is None:
            # Kept, visible, but no incident: nobody knows whose it is yet.
            alert.annotations[REASON_KEY] = NO_CUSTOMER
            self._stage(alert, payload)
            self.stats["unrouted"] += 1
            return
        alert.suppressed_by = self.windows.find(alert.organization_id, alert.erp_instance_id)
        if alert.suppressed_by is not None:
            alert.group_key = self.correlator.group_for(alert).key
            self._stage(alert, payload)
            self.stats["suppressed"] += 1
            return
        self._attach(alert, route, payload=payload)

    def _incident_of(self, group: Group) -> int | None:
        """The group's open incident; the first time a round asks, it takes the group's
        lock (held to the end of the transaction) so two workers never open two."""
        if group.incident_id is not None:
            return group.incident_id
        if group.key not in self.group_incidents:
            lock_group(group.key)
            self.group_incidents[group.key] = self.correlator.open_incident_of(group)
        return self.group_incidents[group.key]

    def _attach(self, alert: Alert, route: Route, *, payload: AlertPayload | None = None) -> None:
        """Join the alert's group incident or open one. A new alert (``payload`` given) is
        staged for the round's insert; an existing one is saved now."""
        group = self.correlator.group_for(alert)
        alert.group_key = group.key
        incident_id = self._incident_of(group)
        if incident_id is None:
            try:
                ticket = incidents.open_incident(self.actor, alert, route)
            except ActionError as error:
                alert.annotations[REASON_KEY] = f"{INCIDENT_REFUSED}: {error.message}"[:500]
                self.stats["incidents_refused"] += 1
                if payload is not None:
                    self._stage(alert, payload)
                else:
                    alert.save(update_fields=["group_key", "annotations"])
                return
            alert.incident_id = ticket.pk
            self.group_incidents[group.key] = ticket.pk
            self.stats["incidents"] += 1
        else:
            alert.incident_id = incident_id
            self.joined[incident_id].append(alert)
        if payload is not None:
            self._stage(alert, payload)
        else:
            alert.save(update_fields=["group_key", "incident"])
        self.correlator.remember(alert)

    def _stage(self, alert: Alert, payload: AlertPayload) -> None:
        """A new alert, inserted with the others at the end of the round (``_insert_new``);
        until then its repeats in this round are counted on it."""
        self.open[(alert.integration_id, alert.identity)] = alert
        self.new_alerts.append(alert)
        self.transitions.append(
            AlertTransition(
                alert=alert, at=self.now, old_status="", new_status=alert.status, payload=payload
            )
        )
        self.stats["new"] += 1

    def release(self, alert: Alert) -> None:
        """``alert``'s maintenance window has ended and it still fires (see
        ``release_ended_maintenance``)."""
        window = self.windows.find(alert.organization_id, alert.erp_instance_id)
        if window is not None:  # another window holds it back now
            if window.pk != alert.suppressed_by_id:
                alert.suppressed_by = window
                alert.save(update_fields=["suppressed_by"])
            return
        alert.suppressed_by = None
        alert.save(update_fields=["suppressed_by"])
        self.transitions.append(
            AlertTransition(
                alert=alert,
                at=self.now,
                old_status=alert.status,
                new_status=alert.status,
                note=_("Maintenance window ended; still firing")[:200],
            )
        )
        self.stats["released"] += 1
        if alert.organization_id is None:
            return
        if alert.incident_id is not None:
            ticket = Ticket.objects.get(pk=alert.incident_id)
            if ticket.status in OPEN_STATUSES:
                return
            if ticket.status == Status.RESOLVED:
                if incidents.reopen(self.actor, ticket, alert):
                    self.stats["incidents_reopened"] += 1
                return
        self._attach(alert, _route_of(alert))

    # -- writing it down --------------------------------------------------------------

    def _insert_new(self) -> None:
        """Insert the round's new alerts in one statement. If another worker inserted one
        of the same identities meanwhile (the partial unique index refuses the batch),
        insert them one by one and count each refused one as a repeat of the other's."""
        if not self.new_alerts:
            return
        try:
            with transaction.atomic():
                Alert.objects.bulk_create(self.new_alerts, batch_size=BULK_INSERT_SIZE)
            return
        except IntegrityError:
            log.info("alert pipeline: a concurrent worker inserted some of these alerts")
        for alert in self.new_alerts:
            alert.pk = None
            alert._state.adding = True
        lost: set[int] = set()
        for alert in self.new_alerts:
            try:
                with transaction.atomic():
                    alert.save(force_insert=True)
            except IntegrityError:
                existing = (
                    Alert.objects.exclude(status=AlertStatus.RESOLVED)
                    .filter(integration_id=alert.integration_id, identity=alert.identity)
                    .first()
                )
                if existing is None:
                    raise
                lost.add(id(alert))
                self._merge_into(existing, alert)
        if lost:
            self.new_alerts = [a for a in self.new_alerts if id(a) not in lost]
            self.transitions = [t for t in self.transitions if id(t.alert) not in lost]

    def _merge_into(self, existing: Alert, lost: Alert) -> None:
        """``lost`` was first seen here but another worker's copy won: its firings are
        repeats of ``existing`` (a resolution seen in this round stays with ``lost`` and is
        dropped; the source sends it again)."""
        existing.integration = lost.integration
        existing.last_seen_at = self.now
        existing.last_payload_id = lost.last_payload_id
        self.count_delta[existing.pk] += lost.count
        self.dirty[existing.pk] = existing
        self.open[(existing.integration_id, existing.identity)] = existing
        self.stats["new"] -= 1
        self.stats["repeats"] += lost.count

    def _write_repeats(self) -> None:
        """Counters, last-seen times and last payloads of the alerts seen again."""
        if not self.dirty:
            return
        rows = [(pk, self.count_delta[pk], a.last_payload_id) for pk, a in self.dirty.items()]
        if connection.vendor == "postgresql":
            # One statement for the whole round, however many alerts repeated.
            table = connection.ops.quote_name(Alert._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} AS a SET count = a.count + v.delta, "  # noqa: S608
                    "last_seen_at = %s, last_payload_id = v.payload "
                    "FROM unnest(%s::bigint[], %s::integer[], %s::bigint[]) "
                    "AS v(id, delta, payload) WHERE a.id = v.id",
                    [self.now, *map(list, zip(*rows, strict=True))],
                )
            return
        by_change: dict[tuple[int, int | None], list[int]] = defaultdict(list)
        for pk, delta, payload_id in rows:
            by_change[(delta, payload_id)].append(pk)
        for (delta, payload_id), ids in by_change.items():
            for start in range(0, len(ids), 500):
                Alert.objects.filter(pk__in=ids[start : start + 500]).update(
                    count=F("count") + delta, last_seen_at=self.now, last_payload_id=payload_id
                )

    def _write_payloads(self) -> None:
        """Each payload's outcome: one UPDATE per distinct outcome, usually one or two."""
        by_outcome: dict[tuple[str, str, int, datetime | None], list[int]] = defaultdict(list)
        for p in self.payloads:
            by_outcome[(p.state, p.error, p.alerts_count, p.processed_at)].append(p.pk)
        for (state, error, alerts_count, processed_at), ids in by_outcome.items():
            AlertPayload.objects.filter(pk__in=ids).update(
                state=state,
                error=error,
                alerts_count=alerts_count,
                processed_at=processed_at,
                attempts=F("attempts") + 1,
            )

    def _flush(self) -> None:
        self._insert_new()
        if self.changed:
            Alert.objects.bulk_update(
                list(self.changed.values()),
                ["status", "resolved_at", "ends_at"],
                batch_size=500,
            )
        self._write_repeats()
        if self.transitions:
            AlertTransition.objects.bulk_create(self.transitions, batch_size=BULK_INSERT_SIZE)
        self._follow_up_incidents()
        self._write_payloads()
        last = max(p.received_at for p in self.payloads)
        Integration.objects.filter(pk__in={p.integration_id for p in self.payloads}).filter(
            Q(last_received_at__isnull=True) | Q(last_received_at__lt=last)
        ).update(last_received_at=last)

    def _join_lines(self) -> dict[int, list[str]]:
        """The "Alert joined" lines of each incident that gets them in this round.

        An incident hears about joining alerts at most once per ``JOIN_NOTE_INTERVAL``
        (each note notifies its team: a storm must not become a note every second); the
        note then also counts the alerts that joined since the previous one without a
        line. The Alerts panel on the incident lists every one of them at once."""
        if not self.joined:
            return {}
        last_notes = dict(
            Comment.objects.filter(ticket_id__in=self.joined, author=self.actor, is_internal=True)
            .values("ticket_id")
            .annotate(last=Max("created_at"))
            .values_list("ticket_id", "last")
        )
        out: dict[int, list[str]] = {}
        for incident_id, joined in self.joined.items():
            alerts = [a for a in joined if a.pk is not None]  # not those merged away
            if not alerts:
                continue
            last = last_notes.get(incident_id)
            other_news = incident_id in self.notes or incident_id in self.resolved
            if last is not None and self.now - last < JOIN_NOTE_INTERVAL and not other_news:
                self.stats["join_notes_deferred"] += 1
                continue
            lines = [
                _("Alert joined: %(alert)s") % {"alert": incidents.alert_line(a)} for a in alerts
            ]
            if last is not None:
                earlier = (
                    Alert.objects.filter(incident_id=incident_id, first_seen_at__gt=last)
                    .exclude(pk__in=[a.pk for a in alerts if a.pk is not None])
                    .count()
                )
                if earlier:
                    lines.append(
                        ngettext(
                            "%(n)d more alert joined since the previous note.",
                            "%(n)d more alerts joined since the previous note.",
                            earlier,
                        )
                        % {"n": earlier}
                    )
            out[incident_id] = lines
        return out

    def _follow_up_incidents(self) -> None:
        join_lines = self._join_lines()
        ids = set(self.notes) | set(self.resolved) | set(join_lines)
        if not ids:
            return
        tickets = Ticket.objects.in_bulk(ids)
        still_firing = set(
            Alert.objects.filter(incident_id__in=self.resolved)
            .exclude(status=AlertStatus.RESOLVED)
            .values_list("incident_id", flat=True)
            .distinct()
        )
        for incident_id in sorted(ids):
            ticket = tickets.get(incident_id)
            if ticket is None:
                continue
            lines = [*join_lines.get(incident_id, []), *self.notes.get(incident_id, [])]
            resolved = self.resolved.get(incident_id, [])
            resolved_lines = [
                _("Resolved at the source: %(alert)s") % {"alert": incidents.alert_line(a)}
                for a in resolved
            ]
            resolve_mode = any(a.integration.on_resolve == ResolveAction.RESOLVE for a in resolved)
            if (
                resolved
                and incident_id not in still_firing
                and resolve_mode
                and incidents.resolve(self.actor, ticket, [*lines, *resolved_lines])
            ):
                self.correlator.forget_incident(incident_id)
                self.stats["incidents_resolved"] += 1
                continue
            incidents.annotate(self.actor, ticket, [*lines, *resolved_lines])


def release_ended_maintenance(*, limit: int = 500) -> dict[str, int]:
    """Alerts still firing when the maintenance window that held them back has ended get
    the incident they would have had: they join their group's open incident or open one,
    and a resolved incident of theirs is reopened — as silenced alerts notify when an
    Alertmanager silence expires. Each such alert gets a transition saying so and is no
    longer marked suppressed. The worker runs this every minute."""
    stats: Counter[str] = Counter()
    now = clock.now()
    held = Alert.objects.filter(suppressed_by__isnull=False).exclude(status=AlertStatus.RESOLVED)
    window_ids = set(held.values_list("suppressed_by_id", flat=True).distinct())
    if not window_ids:
        return {}
    ended = [
        w.pk for w in MaintenanceWindow.objects.filter(pk__in=window_ids) if not is_open(w, now)
    ]
    if not ended:
        return {}
    with transaction.atomic():
        found = (
            held.filter(suppressed_by_id__in=ended)
            .select_related("integration", "organization", "erp_instance", "team")
            .order_by("id")
        )
        if connection.vendor == "postgresql":
            found = found.select_for_update(skip_locked=True, of=("self",))
        round_ = _Round([], stats)
        for alert in found[:limit]:
            round_.release(alert)
        if round_.transitions:
            AlertTransition.objects.bulk_create(round_.transitions)
        round_._follow_up_incidents()
    return dict(stats)


def _identity(parsed: ParsedAlert) -> str:
    return parsed.identity[:255]


def _route_of(alert: Alert) -> Route:
    """The route an existing alert was given when it was first seen."""
    return Route(
        organization=alert.organization,
        erp_instance=alert.erp_instance,
        module=alert.module,
        priority=alert.priority if alert.priority is not None else 2,
        team=alert.team,
        tier=alert.team.tier if alert.team is not None else None,
    )


__all__ = ["process_payload", "process_pending"]
