#!/usr/bin/env python3
"""SLA engine benchmark: business-time arithmetic and the periodic evaluation pass.

    .venv/bin/python bench/sla.py                          # both databases, 100,000 tickets
    .venv/bin/python bench/sla.py --db sqlite --tickets 20000 --reps-due 3
    .venv/bin/python bench/sla.py --db pg --profile        # + cProfile of one 1 %-due pass

Everything is measured in this one run and printed (the report also goes to
bench/.work/sla-report.md, raw figures to bench/.work/sla-results.json):

1. **Due-time arithmetic** (no database): ``WorkingTime.add(start, target)`` of the four
   default calendars (migration sla/0002) for 15 min, 4 working hours and "5 working
   days" (5 × 450 min, as the default policies count them), from random instants over
   2025–2026. *cold* = a fresh ``build_working_time`` plus its first ``add`` with the
   holiday sources' caches cleared (a new worker); *rebuilt* = the same with the holiday
   library cache warm (after a calendar edit); *warm* = the cached object of a running
   worker. Also the whole schedule of a P0 ticket (7 thresholds: 2 warnings, 2 breaches,
   3 escalation steps) by ``pending_thresholds``.
2. **One evaluation pass** ``evaluate_due(now)`` over N open tickets with SLA clocks of
   mixed calendars, service levels and priorities, on SQLite and PostgreSQL: (a) no row
   due (target < 50 ms), (b) 1 % of the tickets due (target < 1 s), re-armed between
   repetitions (clock, ticket rows restored; events, notifications, ticket events and
   audit entries of the pass deleted). Plus the number of SQL statements of a pass,
   their kinds, and the plan of the due-row query (EXPLAIN ANALYZE on PostgreSQL).
3. **Peer**: django-helpdesk 2.6.1's ``escalate_tickets`` over its seeded 100,000 tickets,
   when its set-up from /work/shared/peers (helpdesk/setup.sh) is present; otherwise the
   report says exactly what is missing.

Seeding (each run, fresh database): a few organizations, teams and users; N tickets and
their ``TicketSla`` rows written with ``bulk_create`` (5,000 per transaction). Each clock
is brought to the state the evaluator would have left it in at T0 (every threshold up to
T0 recorded, ``next_check_at`` the next one), using the engine's own functions, so all
due rows are real threshold crossings. Scenario (a) evaluates at T0; (b) at the instant
when the 1 % of rows with the earliest ``next_check_at`` have become due.

PostgreSQL: a private cluster of this benchmark (scripts/pg.sh, data in
bench/.work/pg-sla, port --pg-port, default 54335), stopped at the end if this run
started it; or --pg-url. The machine speed is calibrated as bench/run.py does
(``calibrate()``: a fixed pure-Python loop, lower is faster) before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
PEERS_DIR = Path(os.environ.get("ERPCARE_PEERS_DIR", "/work/shared/peers"))
PG_DBNAME = "erpcare_sla_bench"

T0 = datetime(2026, 3, 11, 8, 30, tzinfo=UTC)  # Wed 16:30 in Shanghai, 09:30 in Berlin
CAL_LABELS = ["24×7", "CN working hours", "CN extended hours", "DE working hours"]
CAL_WEIGHTS = [25, 40, 20, 15]  # share of tickets per calendar in the evaluation data
# wall-clock hours per working hour of each calendar (168 h / weekly working hours)
CAL_STRETCH = [1.0, 168 / 37.5, 168 / 98, 168 / 40]
PRIORITY_WEIGHTS = [5, 20, 45, 30]  # P0..P3
LEVELS = [("vip", 10), ("standard", 50), ("basic", 30), ("", 10)]
BATCH = 5000
TARGETS = {"idle_ms": 50.0, "due_ms": 1000.0}

sys.path.insert(0, str(HERE))
import run as bench_run  # noqa: E402  (calibrate(), children() — stdlib only)
from common import django_setup, fmt, pct, port_free, say  # noqa: E402


@contextlib.contextmanager
def gc_off():
    """Collect, then keep the cyclic garbage collector off while timing (as timeit does):
    the arithmetic allocates little, and a collection of the benchmark's own objects
    landing in one sample would be noise, not the engine."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# ============================================================================ child side
def default_calendars_in_memory():
    """The four default calendars of migration sla/0002, as unsaved model objects."""
    from erpcare.sla.models import BusinessCalendar, WorkingPeriod

    mig = importlib.import_module("erpcare.sla.migrations.0002_default_policies")
    result = []
    for pk, (name, kind, zone, country, hours) in enumerate(mig.CALENDARS, start=1):
        cal = BusinessCalendar(pk=pk, name=name, kind=kind, time_zone=zone, holiday_country=country)
        periods = [
            WorkingPeriod(calendar_id=pk, weekday=day, starts=a, ends=b)
            for day, ranges in hours.items()
            for a, b in ranges
        ]
        result.append((cal, periods))
    return mig, result


def child_micro(a: argparse.Namespace) -> dict:
    from erpcare.sla import holiday_sources
    from erpcare.sla.models import EscalationStep, Metric, TicketSla
    from erpcare.sla.services.calendars import build_working_time
    from erpcare.sla.services.clocks import pending_thresholds

    mig, calendars = default_calendars_in_memory()
    targets = {"15 min": 15, "4 working h": 4 * mig.H, "5 working days": 5 * mig.D}
    rnd = random.Random(20250101)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    span = (datetime(2027, 1, 1, tzinfo=UTC) - base).total_seconds()
    starts = [base + timedelta(seconds=rnd.uniform(0, span)) for _ in range(a.micro_n)]
    cold_starts = starts[: a.micro_cold]
    ns = time.perf_counter_ns

    def clear_sources() -> None:
        holiday_sources.special_days.cache_clear()
        holiday_sources._china_years.cache_clear()

    rows = []
    for label, (cal, periods) in zip(CAL_LABELS, calendars, strict=True):
        for tlabel, minutes in targets.items():
            d = timedelta(minutes=minutes)
            cold, rebuilt = [], []
            for s in cold_starts:
                clear_sources()
                t = ns()
                build_working_time(cal, periods, {}).add(s, d)
                cold.append((ns() - t) / 1000)
            for s in cold_starts:
                t = ns()
                build_working_time(cal, periods, {}).add(s, d)
                rebuilt.append((ns() - t) / 1000)
            wt = build_working_time(cal, periods, {})
            for s in starts:  # warm-up: every day of the range cached
                wt.add(s, d)
            warm = []
            with gc_off():
                for s in starts:
                    t = ns()
                    wt.add(s, d)
                    warm.append((ns() - t) / 1000)
                add = wt.add
                t = time.perf_counter()
                for s in starts:
                    add(s, d)
                rate = len(starts) / (time.perf_counter() - t)
            rows.append(
                {
                    "calendar": label,
                    "target": tlabel,
                    "cold_med": statistics.median(cold),
                    "cold_p99": pct(cold, 99),
                    "rebuilt_med": statistics.median(rebuilt),
                    "rebuilt_p99": pct(rebuilt, 99),
                    "warm_med": statistics.median(warm),
                    "warm_p99": pct(warm, 99),
                    "warm_rate": rate,
                }
            )
            say(
                f"[micro] {label:18s} {tlabel:15s} cold {fmt(rows[-1]['cold_med'])}/"
                f"{fmt(rows[-1]['cold_p99'])} µs  rebuilt {fmt(rows[-1]['rebuilt_med'])}/"
                f"{fmt(rows[-1]['rebuilt_p99'])} µs  warm {fmt(rows[-1]['warm_med'])}/"
                f"{fmt(rows[-1]['warm_p99'])} µs  {rate:,.0f} calls/s"
            )
    # a P0 ticket's whole schedule: what reschedule() computes for one clock pair
    steps: dict[str, list[EscalationStep]] = {Metric.RESPONSE: [], Metric.RESOLUTION: []}
    for metric, percent, flags in mig.STEPS[0]:
        steps[metric].append(EscalationStep(metric=metric, percent=percent, **flags))
    schedule = []
    for label, (cal, periods) in zip(CAL_LABELS, calendars, strict=True):
        wt = build_working_time(cal, periods, {})
        clocks = [
            TicketSla(
                started_at=s,
                priority=0,
                response_minutes=15,
                resolution_minutes=4 * mig.H,
                warning_percent=75,
            )
            for s in starts
        ]
        for ts in clocks:
            pending_thresholds(wt, ts, steps, [])
        times = []
        with gc_off():
            for ts in clocks:
                t = ns()
                n = len(pending_thresholds(wt, ts, steps, []))
                times.append((ns() - t) / 1000)
        schedule.append(
            {
                "calendar": label,
                "thresholds": n,
                "med": statistics.median(times),
                "p99": pct(times, 99),
                "rate": 1e6 / statistics.mean(times),
            }
        )
        say(f"[micro] {label:18s} P0 schedule ({n} thresholds) {fmt(schedule[-1]['med'])} µs")
    return {"add": rows, "schedule": schedule, "n": a.micro_n, "n_cold": a.micro_cold}


# ---------------------------------------------------------------------------- seeding
def seed(tickets: int, due_n: int) -> dict:
    from django.db import connection, transaction

    from erpcare.accounts.models import RoleCode, Team, TeamMembership, User
    from erpcare.accounts.services import role
    from erpcare.customers.models import CustomerTier, Organization
    from erpcare.sla.models import BusinessCalendar, SlaPause, SlaPolicy, TicketSla
    from erpcare.sla.services.calendars import working_time
    from erpcare.sla.services.clocks import pending_thresholds, reschedule, steps_of, ticket_mirror
    from erpcare.sla.services.evaluator import _apply
    from erpcare.tickets.models import Status, Ticket

    t0 = time.perf_counter()
    rnd = random.Random(42)
    managers = []
    for k in (1, 2):
        u = User(email=f"sla-manager{k}@example.com", display_name=f"Manager {k}")
        u.role, u.language = role(RoleCode.MANAGER), "zh-hans" if k == 1 else "en"
        u.set_unusable_password()
        managers.append(u)
    User.objects.bulk_create(managers)
    managers = list(User.objects.filter(email__startswith="sla-manager").order_by("email"))
    orgs = [
        Organization(
            code=f"S{n}",
            name=f"SLA customer {n} / 客户 {n}",
            tier=CustomerTier.VIP if n % 5 == 0 else CustomerTier.STANDARD,
            account_manager=managers[n % 2] if n % 2 else None,
        )
        for n in range(1, 21)
    ]
    Organization.objects.bulk_create(orgs)
    org_ids = list(Organization.objects.order_by("id").values_list("id", flat=True))
    teams: dict[int, list[tuple[Team, list[User]]]] = {1: [], 2: [], 3: []}
    roles = {1: RoleCode.L1_AGENT, 2: RoleCode.L2_ENGINEER, 3: RoleCode.L3_EXPERT}
    for tier, codes in ((1, ["fin", "mfg", "infra"]), (2, ["l2"]), (3, ["l3"])):
        for code in codes:
            team = Team.objects.create(code=f"sla-{code}", name=f"SLA {code}", tier=tier)
            members = []
            for k in (1, 2, 3):
                u = User(email=f"sla-{code}-{k}@example.com", display_name=f"{code} {k}")
                u.role, u.language = role(roles[tier]), ("zh-hans", "en", "")[k - 1]
                u.set_unusable_password()
                members.append(u)
            User.objects.bulk_create(members)
            members = list(User.objects.filter(email__startswith=f"sla-{code}-").order_by("email"))
            TeamMembership.objects.bulk_create(
                [TeamMembership(team=team, user=u, is_lead=(k == 0)) for k, u in enumerate(members)]
            )
            teams[tier].append((team, members))
    mig = importlib.import_module("erpcare.sla.migrations.0002_default_policies")
    by_name = {c.name: c for c in BusinessCalendar.objects.all()}
    calendars = [by_name[c[0]] for c in mig.CALENDARS]
    policies = {
        (p.service_level, p.priority): p
        for p in SlaPolicy.objects.filter(contract__isnull=True).select_related("calendar")
    }
    level_pool = [lv for lv, w in LEVELS for _ in range(w)]
    setup_s = time.perf_counter() - t0

    t_seed = time.perf_counter()
    compute_s = 0.0
    made, pause_rows, next_checks = 0, 0, []
    mix: dict[str, int] = {}
    while made < tickets:
        n = min(BATCH, tickets - made)
        tc = time.perf_counter()
        objs, clocks, pauses_of = [], [], []
        for i in range(made, made + n):
            prio = rnd.choices(range(4), PRIORITY_WEIGHTS)[0]
            policy = policies[(rnd.choice(level_pool), prio)]
            ci = rnd.choices(range(4), CAL_WEIGHTS)[0]
            calendar = calendars[ci]
            wt = working_time(calendar)
            span = policy.resolution_minutes * 60 * CAL_STRETCH[ci] * 1.3
            started = T0 - timedelta(seconds=rnd.uniform(0, span))
            age = T0 - started
            r = rnd.random()
            status = (
                Status.WAITING_CUSTOMER
                if r < 0.06
                else Status.NEW
                if r < 0.26
                else Status.OPEN
                if r < 0.56
                else Status.IN_PROGRESS
            )
            team, members = rnd.choice(teams[1])
            assignee = None if status == Status.NEW else members[1 + i % 2]
            ts = TicketSla(
                policy=policy,
                calendar=calendar,
                started_at=started,
                priority=prio,
                response_minutes=policy.response_minutes,
                resolution_minutes=policy.resolution_minutes,
                warning_percent=policy.warning_percent,
            )
            first_response = None
            if status != Status.NEW and rnd.random() < 0.7:
                first_response = started + age * rnd.uniform(0.05, 0.9)
                ts.response_stopped_at = first_response
            closed = []
            if rnd.random() < 0.05:  # one closed pause (waiting for the customer)
                a_, b_ = started + age * 0.2, started + age * rnd.uniform(0.3, 0.6)
                closed = [(a_, b_, wt.between(a_, b_))]
                ts.paused_time = closed[0][2]
            open_pause = None
            if status == Status.WAITING_CUSTOMER:
                open_pause = started + age * rnd.uniform(0.6, 0.95)
                ts.paused_since = open_pause
            steps = steps_of(policy)
            for threshold in pending_thresholds(wt, ts, steps, closed):
                if threshold.at <= T0:  # what the evaluator recorded up to T0
                    _apply(ts, threshold, T0)
            reschedule(ts, wt, closed)
            if ts.next_check_at is not None:
                next_checks.append(ts.next_check_at)
            key = f"{CAL_LABELS[ci]} P{prio}"
            mix[key] = mix.get(key, 0) + 1
            objs.append(
                Ticket(
                    number=f"SLA-{i + 1:07d}",
                    title=f"SLA bench ticket {i + 1} / 测试工单",
                    priority=prio,
                    organization_id=org_ids[i % len(org_ids)],
                    status=status,
                    tier=1,
                    team=team,
                    assignee=assignee,
                    created_at=started,
                    updated_at=started,
                    first_response_at=first_response,
                    **ticket_mirror(ts),
                )
            )
            clocks.append(ts)
            pauses_of.append((closed, open_pause))
        compute_s += time.perf_counter() - tc
        with transaction.atomic():
            created = Ticket.objects.bulk_create(objs, batch_size=1000)
            if created[0].pk is None:  # a backend without RETURNING
                ids = list(Ticket.objects.order_by("-id").values_list("id", flat=True)[:n])[::-1]
                for o, pk in zip(created, ids, strict=True):
                    o.pk = pk
            rows = []
            for ticket, ts, (closed, open_pause) in zip(created, clocks, pauses_of, strict=True):
                ts.ticket_id = ticket.pk
                for a_, b_, w in closed:
                    rows.append(
                        SlaPause(
                            ticket_sla_id=ticket.pk,
                            reason=SlaPause.Reason.WAITING_CUSTOMER,
                            started_at=a_,
                            ended_at=b_,
                            working_time=w,
                        )
                    )
                if open_pause is not None:
                    rows.append(
                        SlaPause(
                            ticket_sla_id=ticket.pk,
                            reason=SlaPause.Reason.WAITING_CUSTOMER,
                            started_at=open_pause,
                        )
                    )
            TicketSla.objects.bulk_create(clocks, batch_size=1000)
            SlaPause.objects.bulk_create(rows, batch_size=1000)
            pause_rows += len(rows)
        made += n
        say(f"[seed]   {made}/{tickets} tickets ({time.perf_counter() - t_seed:.1f} s)")
    seed_s = time.perf_counter() - t_seed
    t = time.perf_counter()
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    analyze_s = time.perf_counter() - t
    next_checks.sort()
    return {
        "tickets": tickets,
        "armed_clocks": len(next_checks),
        "pause_rows": pause_rows,
        "setup_s": round(setup_s, 2),
        "seed_s": round(seed_s, 2),
        "compute_s": round(compute_s, 2),
        "rate": round(tickets / seed_s),
        "analyze_s": round(analyze_s, 2),
        "t1": next_checks[min(due_n, len(next_checks)) - 1].isoformat(),
        "mix": mix,
    }


# ---------------------------------------------------------------------------- re-arming
class Rearm:
    """Snapshot of the rows a pass at ``now`` changes, and putting them back."""

    TICKET_FIELDS = [
        "priority", "tier", "team_id", "assignee_id", "status", "updated_at",
        "response_due_at", "resolution_due_at", "sla_due_at", "sla_state",
    ]  # fmt: skip

    def __init__(self, now: datetime) -> None:
        from erpcare.channels.models import Notification
        from erpcare.sla.models import SlaEvent, TicketSla
        from erpcare.tickets.models import Ticket, TicketEvent

        self.now = now
        self.clocks = list(TicketSla.objects.filter(next_check_at__lte=now))
        self.ids = [ts.ticket_id for ts in self.clocks]
        self.tickets = list(Ticket.objects.filter(pk__in=self.ids).only(*self.TICKET_FIELDS))
        self.max_ids = {
            m._meta.db_table: m.objects.order_by("-id").values_list("id", flat=True).first() or 0
            for m in (Notification, SlaEvent, TicketEvent)
        }
        self.max_ids["audit_auditentry"] = self._max("audit_auditentry")
        self.clock_fields = [
            f.name
            for f in TicketSla._meta.concrete_fields
            if not f.primary_key and f.name != "ticket"
        ]

    @staticmethod
    def _max(table: str) -> int:
        from django.db import connection

        with connection.cursor() as c:
            c.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - a constant
            return int(c.fetchone()[0])

    def restore(self) -> None:
        from django.db import connection, transaction

        from erpcare.sla.models import TicketSla
        from erpcare.tickets.models import Ticket

        with transaction.atomic():
            with connection.cursor() as c:
                for table, top in self.max_ids.items():
                    c.execute(f"DELETE FROM {table} WHERE id > %s", [top])  # noqa: S608
            update_rows(TicketSla, self.clock_fields, self.clocks)
            update_rows(Ticket, self.TICKET_FIELDS, self.tickets)
        due = TicketSla.objects.filter(next_check_at__lte=self.now).count()
        if due != len(self.clocks):
            raise SystemExit(f"re-arming failed: {due} rows due, expected {len(self.clocks)}")
        if connection.vendor == "postgresql":
            with connection.cursor() as c:
                c.execute("VACUUM (ANALYZE) sla_ticketsla, tickets_ticket")


def update_rows(model, fields: list[str], rows: list) -> None:
    """UPDATE … WHERE pk = %s for each row, one executemany (``bulk_update`` would take
    seconds for 1,000 rows: see docs/BENCHMARKS.md, "SLA engine")."""
    from django.db import connection

    qn = connection.ops.quote_name
    cols = [model._meta.get_field(name) for name in fields]
    sets = ", ".join(f"{qn(f.column)} = %s" for f in cols)
    pk = qn(model._meta.pk.column)
    sql = f"UPDATE {qn(model._meta.db_table)} SET {sets} WHERE {pk} = %s"  # noqa: S608
    params = [
        [f.get_db_prep_save(getattr(r, f.attname), connection) for f in cols] + [r.pk] for r in rows
    ]
    with connection.cursor() as c:
        c.executemany(sql, params)


def state_digest(ids: list[int]) -> str:
    """A fingerprint of everything a pass wrote (to check that two versions of the
    engine leave the same rows): the due clocks, their tickets, events, notifications,
    ticket events."""
    import hashlib

    from erpcare.channels.models import Notification
    from erpcare.sla.models import SlaEvent, TicketSla
    from erpcare.tickets.models import Ticket, TicketEvent

    skip = {"id", "created_at", "recorded_at"}
    parts = [
        list(TicketSla.objects.filter(pk__in=ids).order_by("pk").values_list()),
        list(
            Ticket.objects.filter(pk__in=ids)
            .order_by("pk")
            .values_list(*(f for f in Rearm.TICKET_FIELDS if f != "updated_at"))
        ),
    ]
    for model in (SlaEvent, Notification, TicketEvent):
        names = [f.attname for f in model._meta.concrete_fields if f.attname not in skip]
        parts.append(sorted(map(repr, model.objects.values_list(*names))))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def clear_engine_caches() -> None:
    from erpcare.sla import holiday_sources
    from erpcare.sla.services import calendars, clocks

    calendars._cache.clear()
    clocks._steps_cache.clear()
    holiday_sources.special_days.cache_clear()
    holiday_sources._china_years.cache_clear()


def query_breakdown(queries: list[dict]) -> list[dict]:
    groups: dict[str, list[float]] = {}
    for q in queries:
        sql = q["sql"]
        many = re.match(r"(\d+|\?) times: (.*)", sql, re.S)  # an executemany
        if many:
            sql = many.group(2)
        m = re.match(r'\s*(\w+)(?:.*?\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?)?', sql, re.S | re.I)
        verb = m.group(1).upper() if m else "?"
        table = ""
        if verb in ("SELECT", "DELETE"):
            t = re.search(r'\bFROM\s+"?(\w+)"?', sql, re.I)
            table = t.group(1) if t else ""
        elif verb == "INSERT":
            t = re.search(r'\bINTO\s+"?(\w+)"?', sql, re.I)
            table = t.group(1) if t else ""
        elif verb == "UPDATE":
            t = re.match(r'\s*UPDATE\s+"?(\w+)"?', sql, re.I)
            table = t.group(1) if t else ""
        if verb == "SELECT" and "FOR UPDATE" in sql.upper():
            verb = "SELECT … FOR UPDATE"
        if many:
            table += f" (executemany, {many.group(1)} rows)"
        groups.setdefault(f"{verb} {table}".strip(), []).append(float(q.get("time") or 0) * 1000)
    out = [{"what": k, "n": len(v), "ms": round(sum(v), 1)} for k, v in groups.items()]
    return sorted(out, key=lambda r: -r["ms"])


def child_pass(a: argparse.Namespace) -> dict:
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from erpcare.sla.models import BusinessCalendar, SlaEvent, TicketSla
    from erpcare.sla.services.evaluator import evaluate_due

    t = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrate_s = time.perf_counter() - t
    due_n = max(1, round(a.tickets * a.due_share))
    say(f"[{a.label}] seeding {a.tickets} tickets with SLA clocks ...")
    info = seed(a.tickets, due_n)
    info["migrate_s"] = round(migrate_s, 2)
    t1 = datetime.fromisoformat(info["t1"])
    say(
        f"[{a.label}] seeded in {info['seed_s']} s ({info['rate']} tickets/s, of which "
        f"{info['compute_s']} s computing clocks); {info['armed_clocks']} clocks armed; "
        f"T0 {T0:%Y-%m-%d %H:%M} UTC, T1 = T0 + {(t1 - T0).total_seconds() / 60:.1f} min"
    )
    with connection.cursor() as c:
        c.execute(
            "SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version"
        )
        db_version = str(c.fetchone()[0])
    out: dict = {"db": a.label, "vendor": connection.vendor, "db_version": db_version, **info}

    # the due-row query's plan (the evaluator's first query of a pass)
    def due_query(now: datetime):
        return (
            TicketSla.objects.filter(next_check_at__lte=now)
            .order_by("next_check_at")
            .values_list("ticket_id", flat=True)[:500]
        )

    if connection.vendor == "postgresql":
        out["explain_t0"] = due_query(T0).explain(analyze=True, buffers=True)
        out["explain_t1"] = due_query(t1).explain(analyze=True, buffers=True)
    else:
        out["explain_t0"] = due_query(T0).explain()
        out["explain_t1"] = due_query(t1).explain()
    out["uses_partial_index"] = "sla_next_check" in out["explain_t1"]

    # (a) nothing due
    evaluate_due(T0)
    idle = []
    for _ in range(a.reps_idle):
        t = time.perf_counter()
        r = evaluate_due(T0)
        idle.append((time.perf_counter() - t) * 1000)
        assert r.checked == 0, r
    with CaptureQueriesContext(connection) as cq:
        evaluate_due(T0)
    out["idle"] = {
        "median_ms": statistics.median(idle),
        "min_ms": min(idle),
        "max_ms": max(idle),
        "reps": len(idle),
        "queries": len(cq),
    }
    say(
        f"[{a.label}] (a) none due: median {fmt(out['idle']['median_ms'], 2)} ms, min "
        f"{fmt(out['idle']['min_ms'], 2)} ms ({a.reps_idle} passes, {len(cq)} query)"
    )

    # (b) 1 % due
    rearm = Rearm(t1)
    cal_names = dict(BusinessCalendar.objects.values_list("pk", "name"))
    mig = importlib.import_module("erpcare.sla.migrations.0002_default_policies")
    label_of = {c[0]: label for c, label in zip(mig.CALENDARS, CAL_LABELS, strict=True)}
    due_mix: dict[str, int] = {}
    for ts in rearm.clocks:
        key = f"{label_of[cal_names[ts.calendar_id]]} P{ts.priority}"
        due_mix[key] = due_mix.get(key, 0) + 1
    out["due_rows"] = len(rearm.clocks)
    out["due_mix"] = due_mix
    runs = []
    for rep in range(a.reps_due + 1):
        cold = rep == 0
        if cold:
            clear_engine_caches()  # a fresh worker: calendars, steps, holidays rebuilt
        t = time.perf_counter()
        r = evaluate_due(t1)
        ms = (time.perf_counter() - t) * 1000
        events = SlaEvent.objects.count()
        runs.append({"ms": ms, "cold": cold, **r.as_dict(), "events": events})
        if rep == 1:
            out["digest"] = state_digest(rearm.ids)
            say(f"[{a.label}] (b) state after the pass: digest {out['digest']}")
        say(
            f"[{a.label}] (b) {len(rearm.clocks)} due, pass {rep}"
            f"{' (cold caches)' if cold else ''}: {ms:,.0f} ms  {r.as_dict()}"
        )
        if r.checked != len(rearm.clocks):
            say(f"[{a.label}]   !! checked {r.checked} of {len(rearm.clocks)} due rows")
        rearm.restore()
    warm = [x["ms"] for x in runs if not x["cold"]]
    with CaptureQueriesContext(connection) as cq:
        t = time.perf_counter()
        evaluate_due(t1)
        captured_ms = (time.perf_counter() - t) * 1000
    rearm.restore()
    queries = list(cq.captured_queries)
    out["due"] = {
        "median_ms": statistics.median(warm),
        "min_ms": min(warm),
        "max_ms": max(warm),
        "cold_ms": runs[0]["ms"],
        "reps": len(warm),
        "result": {k: v for k, v in runs[-1].items() if k not in ("ms", "cold")},
        "queries": len(queries),
        "captured_pass_ms": captured_ms,
        "query_ms": round(sum(float(q["time"]) for q in queries) * 1000, 1),
        "breakdown": query_breakdown(queries),
    }
    say(
        f"[{a.label}] (b) median {fmt(out['due']['median_ms'])} ms, min "
        f"{fmt(out['due']['min_ms'])} ms, cold {fmt(out['due']['cold_ms'])} ms; "
        f"{len(queries)} queries ({out['due']['query_ms']} ms in the database driver)"
    )
    if a.profile:
        import io

        # bench/profile.py (the load profiler) would shadow the standard library's
        # profile module that cProfile imports: look it up without bench/ on the path.
        saved = sys.path[:]
        sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
        sys.modules.pop("profile", None)
        import cProfile
        import pstats

        sys.path[:] = saved

        prof = cProfile.Profile()
        prof.enable()
        evaluate_due(t1)
        prof.disable()
        rearm.restore()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(30)
        out["profile"] = buf.getvalue()
        say(out["profile"])
    return out


def child_main(a: argparse.Namespace) -> None:
    django_setup(a.app_root)
    res = child_micro(a) if a.child == "micro" else child_pass(a)
    print("RESULT " + json.dumps(res, ensure_ascii=False, default=str), flush=True)


# ============================================================================ driver side
def pg_env(a: argparse.Namespace) -> dict:
    return dict(
        os.environ,
        PGPORT=str(a.pg_port),
        PGDATA_DIR=str(WORK / "pg-sla"),
        PGDATABASE_NAME=PG_DBNAME,
    )


def pg_start(a: argparse.Namespace) -> tuple[str, bool]:
    """(DATABASE_URL, whether this run started the server)."""
    if a.pg_url:
        return a.pg_url, False
    pg = ROOT / "scripts" / "pg.sh"
    env = pg_env(a)
    running = subprocess.run([str(pg), "status"], env=env, capture_output=True).returncode == 0
    if not running and not port_free(a.pg_port):
        raise SystemExit(f"port {a.pg_port} is taken by another server: pass --pg-port")
    conf = WORK / "pg-sla" / "postgresql.conf"
    if conf.exists() and f"port = {a.pg_port}" not in conf.read_text():
        raise SystemExit(f"{conf.parent} was made for another port: remove it or pass that port")
    say(f"[pg] {'using' if running else 'starting'} the SLA bench's PostgreSQL on {a.pg_port}")
    p = subprocess.run(
        ["setsid", str(pg), "start"], env=env, capture_output=True, text=True, check=True
    )
    return p.stdout.strip().splitlines()[-1], not running


def pg_stop(a: argparse.Namespace) -> None:
    subprocess.run([str(ROOT / "scripts" / "pg.sh"), "stop"], env=pg_env(a), check=False)
    say("[pg] stopped the SLA bench's PostgreSQL")


def child_env(url: str, a: argparse.Namespace) -> dict:
    home = WORK / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ERPCARE_", "DJANGO_"))}
    env.update(
        DATABASE_URL=url,
        ERPCARE_HOME=str(home),
        ERPCARE_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="erpcare.settings",
        PYTHONPATH=a.app_root,
        PYTHONUNBUFFERED="1",
    )
    return env


def run_child(kind: str, label: str, url: str, a: argparse.Namespace) -> dict:
    import seed as bench_seed  # reset_database(): drops and recreates the bench database

    if kind == "pass":
        bench_seed.reset_database(url, force=False)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--label", label]
    cmd += ["--tickets", str(a.tickets), "--due-share", str(a.due_share)]
    cmd += ["--reps-idle", str(a.reps_idle), "--reps-due", str(a.reps_due)]
    cmd += ["--micro-n", str(a.micro_n), "--micro-cold", str(a.micro_cold)]
    cmd += ["--app-root", a.app_root] + (["--profile"] if a.profile else [])
    p = subprocess.Popen(cmd, env=child_env(url, a), cwd=ROOT, stdout=subprocess.PIPE, text=True)
    result = None
    assert p.stdout is not None
    for line in p.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[7:])
        else:
            print(line, end="", flush=True)
    if p.wait() or result is None:
        raise SystemExit(f"{kind} ({label}) failed with exit code {p.returncode}")
    return result


# ---------------------------------------------------------------------------- the peer
PEER_CODE = r"""
import json, time
from django.core.management import call_command
from django.db import transaction
from helpdesk.models import Queue, Ticket

class Undo(Exception):
    pass

out = {"open": Ticket.objects.filter(status__in=[1, 2]).count(),
       "total": Ticket.objects.count()}
for label, days in (("none_due", 400), ("some_due", 362)):
    runs = []
    for _ in range(REPS):
        try:
            with transaction.atomic():  # rolled back: the peer's data stay as seeded
                Queue.objects.update(escalate_days=days)
                t = time.perf_counter()
                call_command("escalate_tickets")
                runs.append((time.perf_counter() - t) * 1000)
                escalated = Ticket.objects.filter(last_escalation__isnull=False).count()
                raise Undo
        except Undo:
            pass
    out[label] = {"ms": runs, "escalated": escalated, "escalate_days": days}
print("PEER " + json.dumps(out))
"""


def peer_helpdesk(db: str, reps: int) -> dict:
    work = PEERS_DIR / ".work"
    py = work / "venv-helpdesk" / "bin" / "python"
    site = PEERS_DIR / "helpdesk" / "site"
    creds = work / f"creds-{db}.json"
    missing = [str(p) for p in (py, creds, site / "manage.py") if not p.exists()]
    if missing:
        return {
            "status": "not run",
            "why": f"not set up on this machine: {', '.join(missing)} missing "
            f"({PEERS_DIR}/helpdesk/setup.sh has not been run here; it needs apt-get "
            "(postgresql, wrk), a virtualenv with django-helpdesk 2.6.1 from PyPI and a "
            "100,000-ticket seed of both databases)",
        }
    if db == "pg" and port_free(54329):
        return {
            "status": "not run",
            "why": "the peer's PostgreSQL (helpdesk/pg.sh, 127.0.0.1:54329) is not running",
        }
    env = dict(os.environ, HD_DB=db, HD_WORK=str(work))
    env.pop("DJANGO_SETTINGS_MODULE", None)  # ours, set above; the peer has its own
    code = PEER_CODE.replace("REPS", str(reps))
    p = subprocess.run(
        [str(py), "manage.py", "shell", "-c", code],
        cwd=site, env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    m = re.search(r"^PEER (\{.*\})$", p.stdout, re.M)
    if p.returncode or not m:
        return {"status": "failed", "why": (p.stdout + p.stderr)[-1500:]}
    return {"status": "ok", **json.loads(m.group(1))}


# ---------------------------------------------------------------------------- report
def report(res: dict, a: argparse.Namespace) -> str:
    L: list[str] = []
    calib = res["calibration_ms"]
    L.append(
        f"Run {res['started']}, {res['machine']}; Python {platform.python_version()}; "
        f"machine speed (`calibrate()`, lower is faster) {calib[0]} ms before, {calib[1]} ms "
        "after."
    )
    micro = res.get("micro")
    if micro:
        L += [
            "",
            f"**Due-time arithmetic** (`WorkingTime.add`, {micro['n']} random starts over "
            f"2025–2026 for warm, {micro['n_cold']} for cold; µs per call, median / p99):",
            "",
            "| calendar | target | cold (new worker) | rebuilt (calendar edited) | warm | "
            "warm calls/s |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for r in micro["add"]:
            L.append(
                f"| {r['calendar']} | {r['target']} | {fmt(r['cold_med'])} / "
                f"{fmt(r['cold_p99'])} | {fmt(r['rebuilt_med'])} / {fmt(r['rebuilt_p99'])} | "
                f"{fmt(r['warm_med'])} / {fmt(r['warm_p99'])} | {r['warm_rate']:,.0f} |"
            )
        L += [
            "",
            "A P0 ticket's whole schedule (`pending_thresholds`: 2 warnings, 2 breaches, "
            "3 escalation steps; 15 min / 4 h targets), warm:",
            "",
            "| calendar | µs median / p99 | tickets/s |",
            "|---|---:|---:|",
        ]
        for r in micro["schedule"]:
            L.append(f"| {r['calendar']} | {fmt(r['med'])} / {fmt(r['p99'])} | {r['rate']:,.0f} |")
    passes = res.get("passes", {})
    if passes:
        L += [
            "",
            f"**Evaluation pass** (`evaluate_due(now)`, {a.tickets:,} open tickets with clocks):",
            "",
            "| | " + " | ".join(passes) + " |",
            "|---|" + "---:|" * len(passes),
        ]

        def row(label: str, fn) -> None:
            L.append(f"| {label} | " + " | ".join(fn(p) for p in passes.values()) + " |")

        row("database", lambda p: f"{p['vendor']} {p['db_version']}")
        row("seeding (tickets/s; clocks computed by the engine)", lambda p: f"{p['rate']:,}")
        row("clocks armed (`next_check_at` set)", lambda p: f"{p['armed_clocks']:,}")
        row(
            "(a) none due: median / min ms",
            lambda p: f"{fmt(p['idle']['median_ms'], 2)} / {fmt(p['idle']['min_ms'], 2)}",
        )
        row("(a) SQL statements", lambda p: str(p["idle"]["queries"]))
        row(
            f"(a) target < {TARGETS['idle_ms']:.0f} ms",
            lambda p: "met" if p["idle"]["median_ms"] < TARGETS["idle_ms"] else "**missed**",
        )
        row("(b) due rows", lambda p: f"{p['due_rows']:,}")
        row(
            "(b) warnings / breaches / escalation steps / notifications",
            lambda p: "{warnings} / {breaches} / {escalations} / {notifications}".format(
                **p["due"]["result"]
            ),
        )
        row(
            "(b) median / min ms (warm worker)",
            lambda p: f"{fmt(p['due']['median_ms'])} / {fmt(p['due']['min_ms'])}",
        )
        row("(b) first pass, caches cold ms", lambda p: fmt(p["due"]["cold_ms"]))
        row(
            "(b) µs per due ticket (median)",
            lambda p: fmt(p["due"]["median_ms"] * 1000 / p["due_rows"]),
        )
        row("(b) SQL statements", lambda p: f"{p['due']['queries']:,}")
        row(
            f"(b) target < {TARGETS['due_ms']:.0f} ms",
            lambda p: "met" if p["due"]["median_ms"] < TARGETS["due_ms"] else "**missed**",
        )
        row(
            "due-row query uses `sla_next_check`",
            lambda p: "yes" if p["uses_partial_index"] else "**no**",
        )
        if "sqlite" in passes and "pg" in passes:
            s, g = passes["sqlite"], passes["pg"]
            L += [
                "",
                "Ratios PostgreSQL / SQLite: "
                f"(a) {g['idle']['median_ms'] / s['idle']['median_ms']:.2f}×, "
                f"(b) {g['due']['median_ms'] / s['due']['median_ms']:.2f}×.",
            ]
        for name, p in passes.items():
            L += [
                "",
                f"Statements of one 1 %-due pass on {name} (count; ms as Django's debug cursor "
                "timed them, 1 ms resolution):",
                "",
            ]
            L += ["| statement | n | ms |", "|---|---:|---:|"]
            for b in p["due"]["breakdown"][:12]:
                L.append(f"| `{b['what']}` | {b['n']} | {b['ms']} |")
            L += ["", f"Due-row query plan on {name} (at T1, {p['due_rows']} rows due):", "", "```"]
            L += [p["explain_t1"].rstrip(), "```"]
    peers = res.get("peer", {})
    if peers:
        L += ["", "**Peer: django-helpdesk 2.6.1 `escalate_tickets`**", ""]
        for db, p in peers.items():
            if p["status"] != "ok":
                L.append(f"- {db}: {p['status']} — {p['why']}")
                continue
            ours = passes.get(db)
            for label, ours_key in (("none_due", "idle"), ("some_due", "due")):
                theirs = statistics.median(p[label]["ms"])
                ratio = f"; ours/theirs {ours[ours_key]['median_ms'] / theirs:.3f}" if ours else ""
                L.append(
                    f"- {db} {label} (escalate_days={p[label]['escalate_days']}, "
                    f"{p[label]['escalated']} escalated, {p['open']:,} open of "
                    f"{p['total']:,}): {fmt(theirs)} ms{ratio}"
                )
    return "\n".join(L) + "\n"


def driver(a: argparse.Namespace) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    res: dict = {
        "started": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} vCPU, {platform.machine()}, {platform.platform()}",
        "args": vars(a),
    }
    calib = [bench_run.calibrate()]
    say(f"[calibrate] {calib[0]} ms (a fixed Python loop; lower is faster)")
    sqlite_url = f"sqlite:///{WORK / 'sla-bench.sqlite3'}"
    if not a.skip_micro:
        res["micro"] = run_child("micro", "micro", sqlite_url, a)
    dbs = ["sqlite", "pg"] if a.db == "both" else [a.db]
    res["passes"], res["peer"] = {}, {}
    started_pg = False
    try:
        for db in dbs:
            if db == "pg":
                url, started_pg = pg_start(a)
            else:
                url = sqlite_url
            res["passes"][db] = run_child("pass", db, url, a)
    finally:
        if started_pg:
            pg_stop(a)
    if not a.skip_peer:
        for db in dbs:
            res["peer"][db] = p = peer_helpdesk(db, a.reps_peer)
            say(f"[peer {db}] {p['status']}: {p.get('why', '')}".rstrip(": "))
    calib.append(bench_run.calibrate())
    res["calibration_ms"] = calib
    text = report(res, a)
    (WORK / "sla-report.md").write_text(text)
    (WORK / "sla-results.json").write_text(json.dumps(res, indent=1, default=str))
    say("\n" + text)
    say(f"(report: {WORK / 'sla-report.md'}, raw: {WORK / 'sla-results.json'})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--due-share", type=float, default=0.01, help="share due in scenario (b)")
    ap.add_argument("--reps-idle", type=int, default=30)
    ap.add_argument("--reps-due", type=int, default=5)
    ap.add_argument("--reps-peer", type=int, default=3)
    ap.add_argument("--micro-n", type=int, default=5000, help="random starts (warm)")
    ap.add_argument("--micro-cold", type=int, default=300, help="random starts (cold)")
    ap.add_argument("--skip-micro", action="store_true")
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--profile", action="store_true", help="cProfile one 1 %%-due pass")
    ap.add_argument("--pg-port", type=int, default=54335)
    ap.add_argument("--pg-url", default="", help="an existing PostgreSQL database to use")
    ap.add_argument("--app-root", default=str(ROOT), help="checkout whose erpcare is measured")
    ap.add_argument("--child", choices=["micro", "pass"], help=argparse.SUPPRESS)
    ap.add_argument("--label", default="", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child_main(a)
    else:
        driver(a)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
