"""Prepare a benchmark database: migrate, bulk-seed N tickets, mint an API token.

Run by ``bench/run.py`` with the project's venv and the environment of the server it
will start (DATABASE_URL, ERPCARE_HOME, ...)::

    .venv/bin/python bench/seed.py prepare --tickets 100000 [--reseed]
    .venv/bin/python bench/seed.py token          # a fresh bearer token + id range

The last line printed is ``STATE {json}`` for the driver. Seeding is *not* the action
path: tickets and their initial "created" events are written with ``bulk_create`` in
batches of 5,000 (1,000 rows per statement), one transaction per batch, as the peer's
``benchseed`` does; the API's create then continues the number sequence.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [os.environ.get("BENCH_APP_ROOT", str(ROOT)), str(HERE)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erpcare.settings")

import corpus  # noqa: E402

ADMIN_EMAIL = "bench-admin@example.com"
BATCH = 5000


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- reset
def reset_database(url: str, force: bool) -> None:
    """Drop and recreate the bench database (before Django connects to it)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        raw = unquote(parts.path)
        path = Path(raw[1:]) if raw.startswith("//") else ROOT / raw.lstrip("/")
        for suffix in ("", "-wal", "-shm", "-journal"):
            p = Path(str(path) + suffix)
            if p.exists():
                p.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg

    name = unquote(parts.path.lstrip("/"))
    if "bench" not in name and not force:
        raise SystemExit(
            f"refusing to drop database {name!r}: its name does not contain 'bench' "
            "(use a dedicated database, or pass --force)"
        )
    conninfo = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**conninfo) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


# ---------------------------------------------------------------------------- seeding
def seed(tickets: int) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from erpcare.accounts.models import RoleCode, Team, TeamMembership, User
    from erpcare.accounts.services import create_user, role
    from erpcare.customers.models import CustomerTier, Organization
    from erpcare.tickets.models import (
        ResolutionCode,
        Status,
        Ticket,
        TicketEvent,
        TicketNumberSequence,
    )

    t0 = time.perf_counter()
    admin = User.objects.filter(email=ADMIN_EMAIL).first() or create_user(
        email=ADMIN_EMAIL, display_name="Bench admin", role_code=RoleCode.ADMIN
    )
    orgs = [
        Organization(
            code=f"C{n}",
            name=f"Customer {n} / 客户 {n}",
            tier=CustomerTier.VIP if n % 20 == 0 else CustomerTier.STANDARD,
        )
        for n in range(1, corpus.CUSTOMERS + 1)
    ]
    Organization.objects.bulk_create(orgs, batch_size=1000)
    org_id = dict(Organization.objects.values_list("code", "id"))
    l1 = role(RoleCode.L1_AGENT)
    teams, agents = [], []
    for title, slug in corpus.QUEUES:
        team = Team.objects.create(code=slug, name=title, tier=1, serves_all_customers=True)
        members = []
        for k in (1, 2):
            user = User(
                email=f"{slug}-agent{k}@example.com",
                display_name=f"{title.split(' /')[0]} agent {k}",
                role=l1,
            )
            user.set_unusable_password()
            members.append(user)
        User.objects.bulk_create(members)
        members = list(User.objects.filter(email__startswith=f"{slug}-agent").order_by("email"))
        TeamMembership.objects.bulk_create([TeamMembership(team=team, user=u) for u in members])
        teams.append(team)
        agents.append(members)

    now = timezone.now()
    year = timezone.localtime(now).year
    made = 0
    gen = corpus.rows(tickets)
    t_seed, cpu_seed = time.perf_counter(), time.process_time()
    while made < tickets:
        n = min(BATCH, tickets - made)
        objs = []
        for i in range(made, made + n):
            r = next(gen)
            created = now - timedelta(seconds=r.age_seconds)
            queue_slug = corpus.QUEUES[r.queue][1]
            category, module = corpus.QUEUE_MAP[queue_slug]
            priority = corpus.PRIORITY_MAP[r.priority]
            impact, urgency = corpus.IMPACT_URGENCY[priority]
            assignee = agents[r.queue][i % 2] if r.assigned else None
            done_at = min(now, created + timedelta(hours=1 + i % 72))
            fields = {
                "status": Status.OPEN if assignee else Status.NEW,
                "resolution_code": "",
                "resolution": "",
                "resolved_at": None,
                "closed_at": None,
                "reopen_count": 0,
            }
            if r.status == 2:  # reopened
                fields.update(status=Status.OPEN, reopen_count=1)
            elif r.status in (3, 4):
                fields.update(
                    status=Status.RESOLVED if r.status == 3 else Status.CLOSED,
                    resolution_code=ResolutionCode.FIXED,
                    resolution="已处理 / fixed",
                    resolved_at=done_at,
                    closed_at=done_at if r.status == 4 else None,
                )
            elif r.status == 5:  # duplicate
                fields.update(
                    status=Status.CLOSED,
                    resolution_code=ResolutionCode.DUPLICATE,
                    resolution="重复 / duplicate",
                    resolved_at=done_at,
                    closed_at=done_at,
                )
            objs.append(
                Ticket(
                    number=f"INC-{year}-{i + 1:06d}",
                    type="incident",
                    title=r.title,
                    description=r.body,
                    channel="portal",
                    impact=impact,
                    urgency=urgency,
                    priority=priority,
                    category=category,
                    module=module,
                    organization_id=org_id[f"C{r.customer}"],
                    team=teams[r.queue],
                    tier=1,
                    assignee=assignee,
                    created_at=created,
                    updated_at=done_at if fields["resolved_at"] else created,
                    first_response_at=done_at if (assignee or fields["resolved_at"]) else None,
                    **fields,
                )
            )
        with transaction.atomic():
            created_objs = Ticket.objects.bulk_create(objs, batch_size=1000)
            if created_objs[0].pk is None:  # a backend without RETURNING
                ids = list(Ticket.objects.order_by("-id").values_list("id", flat=True)[:n])[::-1]
                for o, pk in zip(created_objs, ids, strict=True):
                    o.pk = pk
            TicketEvent.objects.bulk_create(
                [
                    TicketEvent(
                        ticket_id=o.pk,
                        created_at=o.created_at,
                        actor=admin,
                        kind=TicketEvent.Kind.CREATED,
                        new_value=o.number,
                        note=o.channel,
                    )
                    for o in created_objs
                ],
                batch_size=1000,
            )
        made += n
        log(f"  {made}/{tickets} tickets ({time.perf_counter() - t_seed:.1f}s)")
    seed_s = time.perf_counter() - t_seed
    seed_cpu_s = time.process_time() - cpu_seed
    TicketNumberSequence.objects.update_or_create(
        prefix="INC", year=year, defaults={"last": tickets}
    )
    t_an = time.perf_counter()
    with connection.cursor() as c:
        # PostgreSQL: VACUUM too, so autovacuum does not start on the fresh tables (and
        # take CPU) during the first measurements; it also sets the visibility map.
        c.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    analyze_s = time.perf_counter() - t_an
    return {
        "tickets_seeded": tickets,
        "seed_seconds": round(seed_s, 2),
        "seed_rate": round(tickets / seed_s) if seed_s else None,
        "seed_cpu_seconds": round(seed_cpu_s, 2),  # of this (Python) process only
        "analyze_seconds": round(analyze_s, 2),
        "total_seconds": round(time.perf_counter() - t0, 2),
        "customers": corpus.CUSTOMERS,
        "teams": len(teams),
        # the seeded state, restored before every later run (restore())
        "max_ticket_id": Ticket.objects.order_by("-id").values_list("id", flat=True).first(),
        "max_audit_id": _max_id("audit_auditentry"),
        "number_year": year,
    }


def _max_id(table: str) -> int:
    from django.db import connection

    with connection.cursor() as c:
        c.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - a constant
        return int(c.fetchone()[0])


def restore(meta: dict) -> int:
    """Delete what earlier runs added (tickets created through the API, their events and
    audit entries) so that every run measures the same seeded data set."""
    from django.db import connection, transaction

    from erpcare.tickets.models import Ticket, TicketNumberSequence

    top = meta["max_ticket_id"]
    extra = Ticket.objects.filter(id__gt=top)
    n = extra.count()
    if n:
        with transaction.atomic():
            extra.delete()  # cascades to events, comments, links, tags, watchers
            with connection.cursor() as c:  # the audit trail is append-only for the app
                c.execute("DELETE FROM audit_auditentry WHERE id > %s", [meta["max_audit_id"]])
            TicketNumberSequence.objects.filter(prefix="INC", year=meta["number_year"]).update(
                last=meta["tickets_seeded"]
            )
        with connection.cursor() as c:
            c.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return n


def token_state() -> dict:
    from django.db import connection

    from erpcare.accounts.models import User
    from erpcare.accounts.services import create_api_token
    from erpcare.tickets.models import Ticket, TicketEvent

    admin = User.objects.get(email=ADMIN_EMAIL)
    _token, raw = create_api_token(user=admin, name="bench/run.py", days=2)
    ids = Ticket.objects.order_by("id").values_list("id", flat=True)
    return {
        "auth": f"Bearer {raw}",
        "min_ticket_id": ids.first(),
        "max_ticket_id": ids.last(),
        "tickets_total": Ticket.objects.count(),
        "events_total": TicketEvent.objects.count(),
        "vendor": connection.vendor,
        "db_version": _db_version(connection),
    }


def _db_version(connection) -> str:
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute("SHOW server_version")
        else:
            c.execute("SELECT sqlite_version()")
        return str(c.fetchone()[0])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["prepare", "token"])
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--reseed", action="store_true", help="drop the database and seed anew")
    ap.add_argument("--force", action="store_true", help="allow dropping a non-bench database")
    ap.add_argument("--meta", help="JSON file remembering what was seeded (under bench/.work)")
    a = ap.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit("DATABASE_URL must be set (bench/run.py sets it)")
    meta_path = Path(a.meta) if a.meta else None
    meta = json.loads(meta_path.read_text()) if meta_path and meta_path.exists() else {}
    state: dict = {}
    if a.cmd == "prepare":
        stale = meta.get("url") != url or meta.get("tickets_seeded") != a.tickets
        if a.reseed or stale:
            if stale and not a.reseed:
                log(f"no seed of {a.tickets} tickets recorded for this database: seeding anew")
            reset_database(url, a.force)
            meta = {}
        import django
        from django.core.management import call_command

        django.setup()
        t = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        migrate_s = round(time.perf_counter() - t, 2)
        if not meta:
            from erpcare.tickets.models import Ticket

            if Ticket.objects.exists():
                raise SystemExit("the database already holds tickets; use --reseed")
            log(f"seeding {a.tickets} tickets ...")
            meta = dict(url=url, migrate_seconds=migrate_s, **seed(a.tickets))
            meta["seeded_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
            if meta_path:
                meta_path.write_text(json.dumps(meta, indent=1))
            state["seeded_now"] = True
        else:
            state["seeded_now"] = False
            if "max_ticket_id" in meta:
                removed = restore(meta)
                if removed:
                    log(f"restored the seeded data set: removed {removed} tickets of earlier runs")
    else:
        import django

        django.setup()
    state.update({k: v for k, v in meta.items() if k != "url"})
    state.update(token_state())
    print("STATE " + json.dumps(state, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
