#!/usr/bin/env python3
"""Search benchmark: relevance on public data, latency at scale, on SQLite and PostgreSQL.

    .venv/bin/python bench/search.py                     # both databases, 1,000,000 tickets
    .venv/bin/python bench/search.py --tickets 50000 --articles 5000 --db sqlite   # a quick look
    .venv/bin/python bench/search.py --skip-relevance    # latency only (reuses loaded data)

Everything below is measured in one run and printed; the report also goes to
bench/.work/search-report.md, raw figures to bench/.work/search-results.json.

1. **Relevance** on public data sets (``--datasets``, default /work/shared/datasets, read in
   place, never copied): ``baoxianzhidao-zh`` (every reply an article body; query = the
   question title; relevant = its ``is_best=1`` replies) and ``banking77-en`` (train
   questions as article titles; query = each *test* question; relevant = a train question
   of the same intent). recall@1, recall@5 and MRR (over the 20 hits of a page) per
   backend, and queries/s. Documents go through the real service: a bench ``Provider``
   registered for the run holds them in memory, ``services.reindex`` analyses and writes
   the entries and refreshes the vocabulary, ``services.search`` answers (as an
   administrator; every document is visible).
2. **Latency at scale**: N tickets and M articles of generated zh/en ERP text
   (``bench/search_corpus.py``) with their index entries, on both databases. Analysis (the
   expensive part) runs once in ``--jobs`` processes and is cached under
   bench/.work/search-cache/ (keyed by the analysis code and the generator), then the rows
   are written in bulk into each database (COPY on PostgreSQL, ``executemany`` on SQLite;
   FTS5 triggers and the generated tsvector column and GIN index do their usual work).
   The bulk path is checked against the service: ``services.index`` re-indexes a sample of
   tickets and articles on the loaded index and must write identical entries (also the
   product path's docs/s at full size). Then ``search()`` for a fixed mix of ≥ 200
   queries as a staff user (administrator), a scoped agent and a customer user,
   ``suggest()`` for as-you-type prefixes of article titles, ``similar_articles()`` for
   ticket texts: p50/p95/p99 per query kind, SQL statements and database time per call,
   index size on disk, a profile of the slowest query kind and the plan of its slowest
   statement. The loaded databases are reused by later runs of the same size
   (``--reseed`` to rebuild).

PostgreSQL: a private cluster of this benchmark (scripts/pg.sh, data in
bench/.work/pg-search, port --pg-port 54336), stopped at the end if this run started it;
or --pg-url. The measured code is a snapshot of the committed HEAD
(bench/.work/app-<sha>, as bench/run.py --snapshot) unless --app-root says otherwise.
Machine speed is calibrated before and after (``calibrate()`` of bench/run.py).

``--child index-seeded`` is what bench/run.py calls after seeding its tickets in bulk:
it fills the search index for them with the real ``reindex`` and times it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import pickle
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
CACHE = WORK / "search-cache"
DATASETS = Path("/work/shared/datasets")
PG_SCALE_DB = "erpcare_search_bench"
PG_REL_DB = "erpcare_search_rel_bench"
TICKET_SHARD = 50_000
ARTICLE_SHARD = 25_000
TARGETS = {"search_p95_ms": 50.0, "suggest_p95_ms": 30.0}  # PostgreSQL, the bars
PAGE = 20  # hits per search, as the API's first page
CUSTOMER_ORG = 7  # the measured customer user's organization (0-based index)
AGENT_ORGS = 20  # the scoped agent's team serves the first 20 organizations

sys.path.insert(0, str(HERE))
import run as bench_run  # noqa: E402  (calibrate(), snapshot_head(): stdlib only)
from common import django_setup, pct, port_free, say  # noqa: E402


def summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p95": pct(values, 95),
        "p99": pct(values, 99),
        "mean": statistics.mean(values),
        "max": max(values),
    }


def fmt(v: float | None, nd: int = 1) -> str:
    if v is None:
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{nd}f}"


# ============================================================================ child side
def ticket_number(ticket_id: int, ticket_type: str) -> str:
    """INC-2024-000001 …: 400,000 per year from 2024, the prefix by type."""
    prefix = {"incident": "INC", "request": "REQ", "question": "QST"}[ticket_type]
    year, seq = divmod(ticket_id - 1, 400_000)
    return f"{prefix}-{2024 + year}-{seq + 1:06d}"


# ---------------------------------------------------------------------------- analysis
def child_analyse(a: argparse.Namespace) -> dict:
    """Generate and analyse the shards named in ``--shards`` (t:start:count,a:start:count)
    into cache files: the documents' text and the entries ``entry_for`` makes of them."""
    import search_corpus as sc

    from erpcare.kb.models import Article
    from erpcare.kb.search import document_for
    from erpcare.search.documents import Audience, Document
    from erpcare.search.services.indexing import entry_for

    bank = sc.load_bank(Path(a.sources))
    out_dir = Path(a.cache_dir)
    docs = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for spec in a.shards.split(","):
        kind, start, count = spec.split(":")
        start, count = int(start), int(count)
        rows: list[tuple] = []
        if kind == "t":
            for k, t in enumerate(
                sc.tickets(bank, start, count, a.organizations, seed=1_000_003 + start)
            ):
                tid = start + k + 1
                number = ticket_number(tid, t.type)
                updated = t.created_at
                if t.status in ("resolved", "closed"):
                    updated = t.created_at + timedelta(hours=1 + tid % 240)
                entry = entry_for(
                    Document(  # what TicketProvider.documents makes of this ticket
                        kind="ticket",
                        object_id=tid,
                        title=f"{number} {t.title}",
                        body="\n\n".join(p for p in (t.description, t.resolution) if p),
                        audience=Audience.CUSTOMER,
                        organization_id=None,
                        updated_at=updated,
                        module=t.module,
                        doc_type=t.type,
                    )
                )
                rows.append(
                    (tid, number, t.title, t.description, t.resolution, t.module, t.type,
                     t.status, t.organization, t.created_at, updated, entry.title,
                     entry.title_terms, entry.body_terms)
                )  # fmt: skip
        else:
            for k, art in enumerate(sc.articles(bank, count, a.organizations, seed=7 + start)):
                aid = start + k + 1
                article = Article(
                    pk=aid,
                    number=f"KB-{aid:07d}",
                    title=art.title,
                    summary=art.summary,
                    body=art.body,
                    symptom=art.symptom,
                    cause=art.cause,
                    resolution=art.resolution,
                    language=art.language,
                    type=art.type,
                    module=art.module,
                    product=art.product,
                    keywords=art.keywords,
                    visibility=art.visibility,
                    organization_id=None,
                    helpful_count=art.helpful,
                    not_helpful_count=art.not_helpful,
                    updated_at=art.updated_at,
                )
                entry = entry_for(document_for(article))
                rows.append(
                    (aid, article.number, art.title, art.summary, art.body, art.symptom,
                     art.cause, art.resolution, art.language, art.type, art.module,
                     art.product, art.keywords, art.visibility, art.organization, art.helpful,
                     art.not_helpful, art.updated_at, entry.audience, entry.title,
                     entry.title_terms, entry.body_terms, entry.helpfulness)
                )  # fmt: skip
        docs += len(rows)
        path = out_dir / f"{kind}-{start:08d}-{count}.pkl"
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(rows, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        say(f"[analyse] {path.name}: {len(rows)} documents ({time.perf_counter() - t0:.0f} s)")
    return {"docs": docs, "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}


def shard_specs(tickets: int, articles: int) -> list[str]:
    specs = [f"t:{s}:{min(TICKET_SHARD, tickets - s)}" for s in range(0, tickets, TICKET_SHARD)]
    specs += [
        f"a:{s}:{min(ARTICLE_SHARD, articles - s)}" for s in range(0, articles, ARTICLE_SHARD)
    ]
    return specs


def shard_path(cache_dir: Path, spec: str) -> Path:
    kind, start, count = spec.split(":")
    return cache_dir / f"{kind}-{int(start):08d}-{count}.pkl"


# ---------------------------------------------------------------------------- bulk writing
class BulkWriter:
    """Rows of a model's table in column order: COPY on PostgreSQL, executemany on SQLite.
    Columns not given take the field's default (as ``Model()`` would)."""

    def __init__(self, model: Any, given: list[str]) -> None:
        from django.db import connection

        self.connection = connection
        fields = list(model._meta.concrete_fields)
        self.columns = [f.column for f in fields]
        self.table = model._meta.db_table
        self.positions = [self.columns.index(model._meta.get_field(n).column) for n in given]
        self.template: list[Any] = []
        for f in fields:
            default = None if f.primary_key else f.get_default()
            self.template.append(
                f.get_db_prep_save(default, connection) if default is not None else None
            )
        self.datetime_positions = {
            i
            for i, f in enumerate(fields)
            if f.get_internal_type() == "DateTimeField" and connection.vendor == "sqlite"
        }

    def write(self, rows: list[tuple]) -> None:
        adapt = self.connection.ops.adapt_datetimefield_value
        out = []
        for values in rows:
            row = list(self.template)
            for pos, value in zip(self.positions, values, strict=True):
                row[pos] = adapt(value) if pos in self.datetime_positions else value
            out.append(row)
        qn = self.connection.ops.quote_name
        names = ", ".join(qn(c) for c in self.columns)
        with self.connection.cursor() as c:
            if self.connection.vendor == "postgresql":
                with c.cursor.copy(f"COPY {qn(self.table)} ({names}) FROM STDIN") as copy:
                    for row in out:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(self.columns))
                c.cursor.executemany(
                    f"INSERT INTO {qn(self.table)} ({names}) VALUES ({marks})",  # noqa: S608
                    out,
                )


def db_version() -> str:
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            "SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version"
        )
        return str(c.fetchone()[0])


def sqlite_file() -> Path | None:
    from django.db import connection

    if connection.vendor != "sqlite":
        return None
    return Path(connection.settings_dict["NAME"])


def index_size() -> dict:
    """Bytes on disk of the search index (entries, full-text structures, indexes)."""
    from django.db import connection

    out: dict[str, Any] = {}
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            for label, expr in (
                ("entry_table_total", "pg_total_relation_size('search_searchentry')"),
                ("entry_heap", "pg_relation_size('search_searchentry')"),
                ("entry_toast", "pg_total_relation_size('search_searchentry') - "
                 "pg_relation_size('search_searchentry') - pg_indexes_size('search_searchentry')"),
                ("gin_index", "pg_relation_size('search_entry_vector')"),
                ("all_indexes", "pg_indexes_size('search_searchentry')"),
                ("tickets_table_total", "pg_total_relation_size('tickets_ticket')"),
                ("articles_table_total", "pg_total_relation_size('kb_article')"),
                ("database", "pg_database_size(current_database())"),
            ):  # fmt: skip
                c.execute(f"SELECT {expr}")
                out[label] = int(c.fetchone()[0])
        else:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            try:
                c.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
                sizes = {str(n): int(s) for n, s in c.fetchall()}
            except Exception as e:
                out["dbstat"] = f"unavailable: {e}"
                sizes = {}
            if sizes:
                fts = {n: s for n, s in sizes.items() if n.startswith("search_fts")}
                entry = {
                    n: s
                    for n, s in sizes.items()
                    if n == "search_searchentry"
                    or n.startswith(("search_entry_", "sqlite_autoindex_search_searchentry"))
                }
                out["fts_tables"] = sum(fts.values())
                out["fts_detail"] = fts
                out["entry_table_and_indexes"] = sum(entry.values())
                out["entry_detail"] = entry
                out["tickets_table_total"] = sum(
                    s for n, s in sizes.items() if n == "tickets_ticket" or n.startswith("ticket_")
                )
            path = sqlite_file()
            out["database"] = path.stat().st_size if path else 0
    return out


def child_load(a: argparse.Namespace) -> dict:
    """Migrate, then write organizations, users, tickets, articles and their index
    entries from the cache; check the bulk path against ``services.index``."""
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from erpcare.accounts.models import RoleCode, Team, TeamMembership
    from erpcare.accounts.services import create_user
    from erpcare.customers.models import Organization
    from erpcare.kb.models import Article
    from erpcare.search.documents import Audience
    from erpcare.search.models import SearchEntry
    from erpcare.search.services import index, vocabulary
    from erpcare.tickets.models import Ticket

    out: dict[str, Any] = {"db": a.label, "vendor": connection.vendor}
    t = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    out["migrate_s"] = round(time.perf_counter() - t, 2)
    out["db_version"] = db_version()
    Organization.objects.bulk_create(
        [
            Organization(code=f"S{n}", name=f"Search customer {n} / 客户 {n}")
            for n in range(a.organizations)
        ]
    )
    org_ids = [
        dict(Organization.objects.values_list("code", "id"))[f"S{n}"]
        for n in range(a.organizations)
    ]
    create_user(email="search-admin@example.com", display_name="Admin", role_code=RoleCode.ADMIN)
    create_user(
        email="search-customer@example.com",
        display_name="Customer",
        role_code=RoleCode.CUSTOMER,
        organization=Organization.objects.get(pk=org_ids[CUSTOMER_ORG]),
    )
    agent = create_user(
        email="search-agent@example.com", display_name="Agent", role_code=RoleCode.L1_AGENT
    )
    team = Team.objects.create(code="search-l1", name="L1 (20 customers)", tier=1,
                               serves_all_customers=False)  # fmt: skip
    team.customers.set(org_ids[:AGENT_ORGS])
    TeamMembership.objects.create(team=team, user=agent)
    cache_dir = Path(a.cache_dir)
    specs = shard_specs(a.tickets, a.articles)
    size_before = index_size()

    ticket_w = BulkWriter(Ticket, ["id", "number", "title", "description", "resolution", "module",
                                   "type", "status", "organization_id", "created_at",
                                   "updated_at"])  # fmt: skip
    article_w = BulkWriter(Article, [
        "id", "number", "title", "summary", "body", "symptom", "cause", "resolution",
        "language", "type", "module", "product", "keywords", "visibility", "organization_id",
        "helpful_count", "not_helpful_count", "updated_at", "created_at", "published_at",
        "status",
    ])  # fmt: skip
    entry_fields = [
        "id", "kind", "object_id", "audience", "organization_id", "module", "doc_type",
        "product", "title", "title_terms", "body_terms", "updated_at", "helpfulness",
    ]  # fmt: skip
    try:  # since bc01157: kind, audience and customer as tokens of the full-text index
        from erpcare.search.backends.base import scope_terms
    except ImportError:
        scope_terms = None
    if scope_terms is not None:
        entry_fields.append("scope_terms")
    entry_w = BulkWriter(SearchEntry, entry_fields)

    def scoped(row: tuple) -> tuple:
        return row if scope_terms is None else (*row, scope_terms(row[1], row[3], row[4]))

    # Entry ids in time order as a desk would have them: the articles spread evenly among
    # the tickets (the backends keep the newest matches when a word is very common).
    total = a.tickets + a.articles
    article_slots = (
        {(j * total) // a.articles + 1 for j in range(a.articles)} if a.articles else set()
    )
    ticket_slots = iter(i for i in range(1, total + 1) if i not in article_slots)
    article_slot_iter = iter(sorted(article_slots))
    times = {"tickets_s": 0.0, "articles_s": 0.0, "ticket_entries_s": 0.0,
             "article_entries_s": 0.0, "read_cache_s": 0.0}  # fmt: skip
    n_tickets = n_articles = 0
    for spec in specs:
        t = time.perf_counter()
        with shard_path(cache_dir, spec).open("rb") as fh:
            rows = pickle.load(fh)  # noqa: S301 - our own cache under bench/.work
        times["read_cache_s"] += time.perf_counter() - t
        if spec.startswith("t:"):
            trows = [(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], org_ids[r[8]], r[9], r[10])
                     for r in rows]  # fmt: skip
            erows = []
            for r in rows:
                org = org_ids[r[8]]
                entry = (next(ticket_slots), "ticket", r[0], Audience.CUSTOMER, org, r[5][:16],
                         r[6][:24], "", r[11], r[12], r[13], r[10], 0.5)  # fmt: skip
                erows.append(scoped(entry))
            t = time.perf_counter()
            with transaction.atomic():
                ticket_w.write(trows)
            times["tickets_s"] += time.perf_counter() - t
            t = time.perf_counter()
            with transaction.atomic():
                entry_w.write(erows)
            times["ticket_entries_s"] += time.perf_counter() - t
            n_tickets += len(rows)
        else:
            arows, erows = [], []
            for r in rows:
                org = org_ids[r[14]] if r[14] is not None else None
                arows.append((*r[:14], org, r[15], r[16], r[17], r[17], r[17], "published"))
                erows.append(scoped((next(article_slot_iter), "article", r[0], r[18], org,
                                     r[10][:16], r[9][:24], r[11][:80], r[19], r[20], r[21],
                                     r[17], r[22])))  # fmt: skip
            t = time.perf_counter()
            with transaction.atomic():
                article_w.write(arows)
            times["articles_s"] += time.perf_counter() - t
            t = time.perf_counter()
            with transaction.atomic():
                entry_w.write(erows)
            times["article_entries_s"] += time.perf_counter() - t
            n_articles += len(rows)
        say(
            f"[{a.label}] loaded {spec}: tickets {n_tickets:,}, articles {n_articles:,} "
            f"(entries so far {times['ticket_entries_s'] + times['article_entries_s']:.0f} s)"
        )
    with connection.cursor() as c:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Ticket, Article, SearchEntry]):
            c.execute(sql)
    t = time.perf_counter()
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    times["analyze_s"] = time.perf_counter() - t
    t = time.perf_counter()
    terms = vocabulary.refresh()
    times["vocabulary_s"] = time.perf_counter() - t
    out.update({k: round(v, 2) for k, v in times.items()})
    out.update(tickets=n_tickets, articles=n_articles, vocabulary_terms=terms)
    entries_s = times["ticket_entries_s"] + times["article_entries_s"]
    out["entries_rate"] = round((n_tickets + n_articles) / entries_s) if entries_s else None
    say(
        f"[{a.label}] rows written: tickets {times['tickets_s']:.0f} s, articles "
        f"{times['articles_s']:.0f} s, index entries {entries_s:.0f} s "
        f"({out['entries_rate']} entries/s), (VACUUM) ANALYZE {times['analyze_s']:.0f} s, "
        f"vocabulary {times['vocabulary_s']:.0f} s ({terms} terms)"
    )
    out["size_before"] = size_before
    out["size"] = index_size()

    # The service path on the full-size index, and the check that bulk == service.
    rnd = random.Random(5)
    fields = ["audience", "organization_id", "module", "doc_type", "product", "title",
              "title_terms", "body_terms", "helpfulness"]  # fmt: skip
    if scope_terms is not None:
        fields.append("scope_terms")
    for kind, total, n in (("ticket", n_tickets, 2000), ("article", n_articles, 500)):
        if not total:
            continue
        ids = sorted(rnd.sample(range(1, total + 1), min(n, total)))
        before = {
            r[0]: r[1:]
            for r in SearchEntry.objects.filter(kind=kind, object_id__in=ids).values_list(
                "object_id", *fields
            )
        }
        t = time.perf_counter()
        with transaction.atomic():
            index(kind, ids)
        secs = time.perf_counter() - t
        after = {
            r[0]: r[1:]
            for r in SearchEntry.objects.filter(kind=kind, object_id__in=ids).values_list(
                "object_id", *fields
            )
        }
        same = sum(1 for i in ids if before.get(i) == after.get(i))
        out[f"service_index_{kind}"] = {
            "docs": len(ids), "seconds": round(secs, 2), "rate": round(len(ids) / secs),
            "identical": same,
        }  # fmt: skip
        say(
            f"[{a.label}] services.index('{kind}', {len(ids)} ids) on the loaded index: "
            f"{secs:.1f} s ({len(ids) / secs:.0f} docs/s); entries identical to the bulk "
            f"path: {same}/{len(ids)}"
        )
        if same != len(ids):
            bad = next(i for i in ids if before.get(i) != after.get(i))
            say(f"[{a.label}]   first difference, {kind} {bad}:")
            say(f"  bulk:    {before.get(bad)}\n  service: {after.get(bad)}")
    return out


# ---------------------------------------------------------------------------- measuring
class DbTimer:
    """Counts statements and the time spent in the database driver (execute wrapper, and
    the backend's own ``fetch`` where it bypasses Django's cursor: see ``watch_fetch``)."""

    def __init__(self) -> None:
        self.n, self.s = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.s += time.perf_counter() - t
            self.n += 1


TIMERS: list[DbTimer] = []  # the timer of the call being timed
CAPTURED: list[list[dict]] = []  # statements of the call being captured


def watch_fetch() -> None:
    """Since bc01157 the PostgreSQL backend runs its candidate query on the psycopg cursor
    itself (unprepared), past Django's execute wrappers and debug cursor: time and
    capture it here too."""
    from erpcare.search.backends import get_backend
    from erpcare.search.backends.base import Backend

    cls = type(get_backend())
    own = cls.__dict__.get("fetch")
    if own is None or getattr(Backend, "fetch", None) is None:
        return

    def fetch(self: Any, sql: str, params: list[Any]) -> Any:
        t = time.perf_counter()
        try:
            return own(self, sql, params)
        finally:
            secs = time.perf_counter() - t
            if TIMERS:
                TIMERS[-1].s += secs
                TIMERS[-1].n += 1
            if CAPTURED:
                CAPTURED[-1].append({"ms": secs * 1000, "sql": sql, "params": list(params)})

    cls.fetch = fetch


def capture(fn: Any, *args: Any, **kw: Any) -> list[dict]:
    """The statements of one call, with their time (ms) and parameters."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    CAPTURED.append([])
    try:
        with CaptureQueriesContext(connection) as cq:
            t0 = time.perf_counter()
            fn(*args, **kw)
            total = (time.perf_counter() - t0) * 1000
    finally:
        direct = CAPTURED.pop()
    found = [
        {"ms": float(x.get("time") or 0) * 1000, "sql": x["sql"], "params": None}
        for x in cq.captured_queries
    ]
    return [{"total_ms": total}, *found, *direct]


def no_bench_profile_module():
    """bench/profile.py (the load profiler) would shadow the standard library's profile
    module that cProfile imports: import cProfile without bench/ on the path."""
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    sys.modules.pop("profile", None)
    import cProfile
    import pstats

    sys.path[:] = saved
    return cProfile, pstats


PROFILE_FUNCS = [
    ("searching.py", "search", "search() total"),
    ("scope", "scope", "scope (pre-filter)"),
    ("synonyms.py", "expand", "synonym expansion (incl. version check)"),
    ("analysis.py", "parse_query", "query analysis (jieba, stemming)"),
    ("base.py", "candidates", "backend candidates (full-text SQL)"),
    ("searching.py", "_correct_typos", "typo correction (vocabulary)"),
    ("searching.py", "_visible", "provider visible_ids (final authorisation)"),
    ("ranking.py", "first_pass", "ranking, first pass"),
    ("ranking.py", "second_pass", "ranking, second pass (BM25 in Python)"),
    ("searching.py", "_idf", "idf look-up (vocabulary)"),
    ("searching.py", "_hits", "hits: documents, highlights"),
    ("analysis.py", "highlight", "highlighting"),
    ("searching.py", "_corrected_query", "corrected-query check"),
    ("query.py", "__iter__", "ORM query iteration (incl. the SQL it runs)"),
    ("searching.py", "suggest", "suggest() total"),
    ("searching.py", "similar_articles", "similar_articles() total"),
    ("base.py", "present_terms", "  of which: live-index check of words (present_terms)"),
    ("sqlite.py", "present_terms", "  of which: live-index check of words (present_terms)"),
    ("postgres.py", "present_terms", "  of which: live-index check of words (present_terms)"),
    ("vocabulary.py", "correction", "  of which: correction candidates (vocabulary)"),
]


def profile_summary(stats: Any, total: float) -> list[dict]:
    rows = []
    for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
        for suffix, name, label in PROFILE_FUNCS:
            if func == name and filename.endswith(suffix):
                rows.append({"what": label, "s": ct})
    merged: dict[str, float] = defaultdict(float)
    for r in rows:
        merged[r["what"]] = max(merged[r["what"]], r["s"])
    return [
        {"what": k, "ms": round(v * 1000, 1), "share": round(v / total, 3) if total else None}
        for k, v in sorted(merged.items(), key=lambda kv: -kv[1])
    ]


def explain(sql: str, params: list[Any] | None = None) -> str:
    from django.db import connection

    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        else:
            c.execute("EXPLAIN QUERY PLAN " + sql, params)
        rows = c.fetchall()
    return "\n".join(" | ".join(str(x) for x in r) if len(r) > 1 else str(r[0]) for r in rows)


def child_measure(a: argparse.Namespace) -> dict:
    import search_corpus as sc
    from django.db import connection, reset_queries

    from erpcare.accounts.models import User
    from erpcare.kb.models import Article
    from erpcare.search import services
    from erpcare.tickets.models import Ticket

    out: dict[str, Any] = {"db": a.label, "vendor": connection.vendor, "db_version": db_version()}
    users = {
        "staff": User.objects.get(email="search-admin@example.com"),
        "agent": User.objects.get(email="search-agent@example.com"),
        "customer": User.objects.get(email="search-customer@example.com"),
    }
    bank = sc.load_bank(Path(a.sources))
    rnd = random.Random(3)
    n_tickets = Ticket.objects.count()
    n_articles = Article.objects.count()
    sample_ids = sorted(rnd.sample(range(1, n_tickets + 1), min(400, n_tickets)))
    numbers = list(Ticket.objects.filter(pk__in=sample_ids[:40]).values_list("number", flat=True))
    queries = sc.query_mix(bank, Path(a.sources), numbers)
    title_ids = sorted(rnd.sample(range(1, n_articles + 1), min(3000, n_articles)))
    titles = list(Article.objects.filter(pk__in=title_ids).values_list("title", flat=True))
    prefixes = sc.suggest_prefixes(titles, 200)
    texts = [
        f"{t}\n{d}"
        for t, d in Ticket.objects.filter(pk__in=sample_ids[-100:]).values_list(
            "title", "description"
        )
    ]
    out.update(tickets=n_tickets, articles=n_articles, queries=len(queries),
               query_kinds=dict(Counter(q.kind for q in queries)))  # fmt: skip
    for u in users.values():  # role and team look-ups cached on the objects, as in a request
        u.role  # noqa: B018

    watch_fetch()

    def timed(fn, *args: Any, **kw: Any) -> tuple[float, float, int, Any]:
        timer = DbTimer()
        TIMERS.append(timer)
        try:
            with connection.execute_wrapper(timer):
                t = time.perf_counter()
                result = fn(*args, **kw)
                ms = (time.perf_counter() - t) * 1000
        finally:
            TIMERS.pop()
        return ms, timer.s * 1000, timer.n, result

    def run_search(user: Any, q: Any) -> dict:
        ms, db_ms, n, res = timed(services.search, user, q.text, limit=PAGE)
        return {"kind": q.kind, "text": q.text, "ms": ms, "db_ms": db_ms, "statements": n,
                "hits": res.total, "corrected": bool(res.corrected_query)}  # fmt: skip

    # how many entries each query's words match (all of them; synonyms included): the
    # work a backend does to rank them all before it keeps the best 200
    from erpcare.search.analysis import parse_query
    from erpcare.search.backends import get_backend
    from erpcare.search.services import synonyms

    backend = get_backend()
    count_sql = (
        "SELECT count(*) FROM search_searchentry WHERE search_vector @@ CAST(%s AS tsquery)"
        if connection.vendor == "postgresql"
        else "SELECT count(*) FROM search_fts WHERE search_fts MATCH %s"
    )
    matches: dict[str, int] = {}
    for q in queries:
        expression = backend.compile(
            synonyms.expand(parse_query(q.text)), match_all=True, title_only=False
        )
        with connection.cursor() as c:
            c.execute(count_sql, [expression])
            matches[q.text] = int(c.fetchone()[0]) if expression else 0
    out["matches"] = {
        kind: {
            "median": statistics.median(matches[q.text] for q in queries if q.kind == kind),
            "max": max(matches[q.text] for q in queries if q.kind == kind),
        }
        for kind in sc.KINDS
    }

    # warm-up: the first pass of a fresh process (caches, jieba, PostgreSQL buffers)
    t = time.perf_counter()
    first = [run_search(users["staff"], q) for q in queries]
    out["first_pass"] = {
        "seconds": round(time.perf_counter() - t, 1),
        **{k: round(v, 1) for k, v in summary([r["ms"] for r in first]).items() if k != "n"},
    }
    say(
        f"[{a.label}] first pass (cold process), staff: p50 {fmt(out['first_pass']['p50'])} ms,"
        f" p95 {fmt(out['first_pass']['p95'])} ms"
    )
    for p in prefixes[:50]:
        services.suggest(users["customer"], p)
    for text in texts[:10]:
        services.similar_articles(users["staff"], text)

    samples: dict[str, list[dict]] = {}
    out["passes"] = {}
    for role, user in users.items():
        rows = []
        spent: Counter[str] = Counter()  # seconds per kind, for --kind-budget
        passes: Counter[str] = Counter()
        for rep in range(a.reps):
            order = list(queries)
            random.Random(100 + rep).shuffle(order)
            # every kind gets one full pass; further passes while within its budget
            over = {k for k, v in spent.items() if v > a.kind_budget}
            for q in order:
                if q.kind in over:
                    continue
                r = run_search(user, q)
                spent[q.kind] += r["ms"] / 1000
                rows.append(r)
            for k in sc.KINDS:
                passes[k] += k not in over
            reset_queries()
        samples[role] = rows
        out["passes"][role] = dict(passes)
        allms = [r["ms"] for r in rows]
        say(
            f"[{a.label}] search as {role}: p50 {fmt(statistics.median(allms))} ms, p95 "
            f"{fmt(pct(allms, 95))} ms, p99 {fmt(pct(allms, 99))} ms ({len(rows)} searches)"
        )
    search_out: dict[str, Any] = {}
    for role, rows in samples.items():
        per_kind = {}
        for kind in [*sc.KINDS, "all"]:
            sel = [r for r in rows if kind == "all" or r["kind"] == kind]
            s = summary([r["ms"] for r in sel])
            s["db_share"] = sum(r["db_ms"] for r in sel) / max(1e-9, sum(r["ms"] for r in sel))
            s["statements"] = statistics.median(r["statements"] for r in sel)
            s["hits"] = statistics.median(r["hits"] for r in sel)
            s["zero"] = sum(1 for r in sel if not r["hits"]) / len(sel)
            per_kind[kind] = s
        search_out[role] = per_kind
    out["search"] = search_out

    sug: dict[str, Any] = {}
    for role in ("customer", "staff"):
        ms_list, db_list, hits = [], [], []
        for _rep in range(a.reps):
            for p in prefixes:
                ms, db_ms, _n, res = timed(services.suggest, users[role], p)
                ms_list.append(ms)
                db_list.append(db_ms)
                hits.append(len(res))
        s = summary(ms_list)
        s["db_share"] = sum(db_list) / max(1e-9, sum(ms_list))
        s["with_hits"] = sum(1 for h in hits if h) / len(hits)
        sug[role] = s
        say(f"[{a.label}] suggest as {role}: p50 {fmt(s['p50'])} ms, p95 {fmt(s['p95'])} ms")
    out["suggest"] = sug

    sim_ms, sim_db = [], []
    for _rep in range(a.reps):
        for text in texts:
            ms, db_ms, _n, _res = timed(services.similar_articles, users["staff"], text)
            sim_ms.append(ms)
            sim_db.append(db_ms)
    out["similar"] = summary(sim_ms) | {"db_share": sum(sim_db) / max(1e-9, sum(sim_ms))}
    say(
        f"[{a.label}] similar_articles: p50 {fmt(out['similar']['p50'])} ms, p95 "
        f"{fmt(out['similar']['p95'])} ms"
    )

    # Where the time goes: the slowest kind of each user (p95), and suggest()
    out["profiles"] = []
    for role in ("staff", "agent"):
        slow_kind = max(sc.KINDS, key=lambda k: search_out[role][k]["p95"])
        slow = [q.text for q in queries if q.kind == slow_kind]
        times = defaultdict(list)
        for r in samples[role]:
            if r["kind"] == slow_kind:
                times[r["text"]].append(r["ms"])
        out["profiles"].append(
            where_time_goes(
                f"search() as {role}, kind {slow_kind}",
                services.search,
                users[role],
                slow,
                times,
                limit=PAGE,
            )
        )
    sug_times = defaultdict(list)
    for p in prefixes[:100]:
        sug_times[p].append(timed(services.suggest, users["customer"], p)[0])
    out["profiles"].append(
        where_time_goes(
            "suggest() as customer", services.suggest, users["customer"], prefixes[:100], sug_times
        )
    )
    return out


def where_time_goes(label: str, fn: Any, user: Any, texts: list[str], times: dict,
                    **kw: Any) -> dict:  # fmt: skip
    """cProfile over ``texts`` once, then the statements of the slowest one (by the
    median of ``times``) and the plan of its slowest statement."""
    cProfile, pstats = no_bench_profile_module()
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    for text in texts:
        fn(user, text, **kw)
    prof.disable()
    total = time.perf_counter() - t
    stats = pstats.Stats(prof)
    import io

    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
    out: dict[str, Any] = {
        "label": label, "calls": len(texts), "seconds": round(total, 3),
        "breakdown": profile_summary(stats, stats.total_tt), "top_tottime": buf.getvalue()[-6000:],
    }  # fmt: skip
    worst = max(times, key=lambda k: statistics.median(times[k]), default=None)
    if worst is not None:
        head, *statements = capture(fn, user, worst, **kw)
        top = max(statements, key=lambda x: x["ms"], default=None)
        out["slowest"] = {
            "text": worst,
            "ms": round(statistics.median(times[worst]), 1),
            "captured_ms": round(head["total_ms"], 1),
            "statements": [{"ms": round(x["ms"], 1), "sql": x["sql"][:300]} for x in statements],
        }
        if top is not None:
            out["slowest"]["plan_sql"] = top["sql"][:3000]
            try:
                out["slowest"]["plan"] = explain(top["sql"], top["params"])
            except Exception as e:
                out["slowest"]["plan"] = f"EXPLAIN failed: {e}"
    return out


# ---------------------------------------------------------------------------- relevance
class BenchProvider:
    """Documents held in memory for the run: the search service sees an ordinary
    provider (every document public, every document visible)."""

    kind = "bench"

    def __init__(self, docs: list[tuple[str, str]]) -> None:
        self.docs = docs
        self.stamp = datetime(2026, 1, 1, tzinfo=UTC)

    def documents(self, ids):
        from erpcare.search.documents import Audience, Document

        for i in ids:
            if 0 < i <= len(self.docs):
                title, body = self.docs[i - 1]
                yield Document(
                    kind=self.kind, object_id=i, title=title, body=body,
                    audience=Audience.PUBLIC, organization_id=None, updated_at=self.stamp,
                )  # fmt: skip

    def all_ids(self):
        return iter(range(1, len(self.docs) + 1))

    def visible_ids(self, user, ids):
        return {i for i in ids if 0 < i <= len(self.docs)}


def child_relevance(a: argparse.Namespace) -> dict:
    import search_corpus as sc
    from django.core.management import call_command
    from django.db import connection

    from erpcare.accounts.models import RoleCode
    from erpcare.accounts.services import create_user
    from erpcare.search import registry, services
    from erpcare.search.models import SearchEntry

    call_command("migrate", interactive=False, verbosity=0)
    admin = create_user(
        email="rel-admin@example.com", display_name="Admin", role_code=RoleCode.ADMIN
    )
    out: dict[str, Any] = {"db": a.label, "vendor": connection.vendor, "db_version": db_version()}
    root = Path(a.datasets)
    for name, reader in (("baoxianzhidao-zh", sc.baoxianzhidao), ("banking77-en", sc.banking77)):
        path = root / name
        if not path.is_dir():
            out[name] = {"status": "not run", "why": f"{path} not found"}
            continue
        ds = reader(path)
        # Documents get their ids in a random order, not the file's (banking77's train file
        # is sorted by intent): the backends keep the newest matches of a common word.
        order = list(range(len(ds.docs)))
        random.Random(2).shuffle(order)
        new_id = {old: new for new, old in enumerate(order)}
        ds.docs = [ds.docs[old] for old in order]
        ds.queries = [(text, {new_id[i] for i in rel}) for text, rel in ds.queries]
        queries = ds.queries
        if a.rel_queries and len(queries) > a.rel_queries:
            queries = random.Random(1).sample(queries, a.rel_queries)
        provider = BenchProvider(ds.docs)
        registry.register(provider)
        SearchEntry.objects.filter(kind=provider.kind).delete()
        t = time.perf_counter()
        counts = services.reindex([provider.kind])
        index_s = time.perf_counter() - t
        say(
            f"[{a.label}] {name}: indexed {counts[provider.kind]:,} documents in {index_s:.1f} s "
            f"({counts[provider.kind] / index_s:.0f} docs/s, with the vocabulary refresh)"
        )
        ranks: list[int | None] = []
        zero = 0
        t = time.perf_counter()
        for text, relevant in queries:
            res = services.search(admin, text, kinds=[provider.kind], limit=PAGE)
            zero += not res.hits
            rank = next(
                (k for k, h in enumerate(res.hits, start=1) if h.object_id - 1 in relevant), None
            )
            ranks.append(rank)
        secs = time.perf_counter() - t
        n = len(ranks)
        r1 = sum(1 for r in ranks if r == 1) / n
        r5 = sum(1 for r in ranks if r is not None and r <= 5) / n
        r20 = sum(1 for r in ranks if r is not None) / n
        mrr = sum(1 / r for r in ranks if r is not None) / n
        out[name] = {
            "status": "ok", "note": ds.note, "documents": len(ds.docs), "queries": n,
            "queries_total": len(ds.queries), "recall_at_1": r1, "recall_at_5": r5,
            "recall_at_20": r20, "mrr_at_20": mrr, "zero_results": zero / n,
            "qps": n / secs, "index_s": index_s, "index_rate": counts[provider.kind] / index_s,
        }  # fmt: skip
        say(
            f"[{a.label}] {name}: {n} queries, recall@1 {r1:.3f}, recall@5 {r5:.3f}, "
            f"MRR@20 {mrr:.3f}, no result {zero / n:.1%}, {n / secs:.1f} queries/s"
        )
        SearchEntry.objects.filter(kind=provider.kind).delete()
    return out


# ---------------------------------------------------------------------------- for run.py
def child_index_seeded(a: argparse.Namespace) -> dict:
    """Fill the search index for bench/run.py's bulk-seeded tickets (real ``reindex``),
    unless it already holds exactly them; drop entries of tickets later runs deleted."""
    from erpcare.search.models import SearchEntry, SearchTerm
    from erpcare.search.services import reindex
    from erpcare.tickets.models import Ticket

    removed = SearchEntry.objects.filter(kind="ticket", object_id__gt=a.max_ticket_id).delete()[0]
    tickets = Ticket.objects.filter(merged_into__isnull=True).count()
    entries = SearchEntry.objects.filter(kind="ticket").count()
    has_vocabulary = SearchTerm.objects.exists()
    if entries == tickets and has_vocabulary:
        return {"reindexed": False, "entries": entries, "removed": removed}
    t = time.perf_counter()
    counts = reindex(["ticket"])
    secs = time.perf_counter() - t
    return {
        "reindexed": True, "entries": counts.get("ticket", 0), "removed": removed,
        "seconds": round(secs, 1), "rate": round(counts.get("ticket", 0) / secs),
    }  # fmt: skip


def set_window(size: int) -> int | None:
    """A/B knob: the number of newest matches the backends score (``WINDOW`` of
    erpcare.search.backends, since bc01157); returns the app's own value."""
    import importlib

    base = importlib.import_module("erpcare.search.backends.base")
    own = getattr(base, "WINDOW", None)
    if size and own is not None:
        for name in ("base", "sqlite", "postgres"):
            module = importlib.import_module(f"erpcare.search.backends.{name}")
            if hasattr(module, "WINDOW"):
                module.WINDOW = size
    return own


def child_main(a: argparse.Namespace) -> None:
    django_setup(a.app_root)
    own = set_window(a.window)
    if a.window and own is not None:
        say(f"[{a.label}] backend window: {a.window} (the app's: {own})")
    fn = {
        "analyse": child_analyse,
        "load": child_load,
        "measure": child_measure,
        "relevance": child_relevance,
        "index-seeded": child_index_seeded,
    }[a.child]
    res = fn(a)
    print("RESULT " + json.dumps(res, ensure_ascii=False, default=str), flush=True)


# ============================================================================ driver side
def pg_env(a: argparse.Namespace) -> dict:
    return dict(
        os.environ, PGPORT=str(a.pg_port), PGDATA_DIR=str(WORK / "pg-search"),
        PGDATABASE_NAME=PG_SCALE_DB,
    )  # fmt: skip


def pg_start(a: argparse.Namespace) -> tuple[str, bool]:
    """(URL of the scale database, whether this run started the server)."""
    if a.pg_url:
        return a.pg_url, False
    pg = ROOT / "scripts" / "pg.sh"
    env = pg_env(a)
    running = subprocess.run([str(pg), "status"], env=env, capture_output=True).returncode == 0
    if not running and not port_free(a.pg_port):
        raise SystemExit(f"port {a.pg_port} is taken by another server: pass --pg-port")
    conf = WORK / "pg-search" / "postgresql.conf"
    if conf.exists() and f"port = {a.pg_port}" not in conf.read_text():
        raise SystemExit(f"{conf.parent} was made for another port: remove it or pass that port")
    say(f"[pg] {'using' if running else 'starting'} the search bench's PostgreSQL on {a.pg_port}")
    p = subprocess.run(
        ["setsid", str(pg), "start"], env=env, capture_output=True, text=True, check=True
    )
    if a.nice:
        with contextlib.suppress(OSError, ValueError, IndexError):
            pm = int((WORK / "pg-search" / "postmaster.pid").read_text().split()[0])
            bench_run.set_autogroup_nice(pm)
            for pid in bench_run.tree(pm):
                os.setpriority(os.PRIO_PROCESS, pid, a.nice)
    return p.stdout.strip().splitlines()[-1], not running


def pg_stop(a: argparse.Namespace) -> None:
    subprocess.run([str(ROOT / "scripts" / "pg.sh"), "stop"], env=pg_env(a), check=False)
    say("[pg] stopped the search bench's PostgreSQL")


def with_db(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


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


def run_child(
    kind: str,
    label: str,
    url: str,
    a: argparse.Namespace,
    extra: list[str] | None = None,
    wait: bool = True,
) -> Any:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--label", label]
    cmd += ["--tickets", str(a.tickets), "--articles", str(a.articles)]
    cmd += ["--organizations", str(a.organizations), "--reps", str(a.reps)]
    cmd += ["--kind-budget", str(a.kind_budget), "--window", str(a.window)]
    cmd += ["--app-root", a.app_root, "--cache-dir", str(a.cache_dir), "--datasets", a.datasets]
    cmd += ["--sources", str(a.sources)]
    cmd += ["--rel-queries", str(a.rel_queries)] + (extra or [])
    p = subprocess.Popen(cmd, env=child_env(url, a), cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if not wait:
        return p
    return collect(p, kind, label)


def collect(p: subprocess.Popen, kind: str, label: str) -> dict:
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


def cache_key(a: argparse.Namespace) -> str:
    """The analysis code, its data files and the generator decide the cached rows. (How
    ``entry_for`` and the providers assemble a document is checked at every load instead:
    ``services.index`` must write the same entries as the bulk path.)"""
    h = hashlib.sha256()
    app = Path(a.app_root)
    files = [
        app / "erpcare/search/analysis.py", HERE / "corpus.py",
        *sorted((app / "erpcare/search/data").glob("*")),
    ]  # fmt: skip
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes() if f.is_file() else b"-")
    import search_corpus as sc

    # the generator by its version (not its bytes: reformatting must not cost a re-analysis)
    h.update(f"orgs={a.organizations} gen={sc.VERSION} bank={sc.BANK_COMMIT}".encode())
    return h.hexdigest()[:16]


def ensure_cache(a: argparse.Namespace) -> dict:
    specs = shard_specs(a.tickets, a.articles)
    cache_dir = Path(a.cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    missing = [s for s in specs if not shard_path(cache_dir, s).exists()]
    info = {"key": cache_dir.name, "shards": len(specs), "analysed_now": len(missing)}
    if not missing:
        say(f"[analyse] all {len(specs)} shards cached in {cache_dir.relative_to(ROOT)}")
        return info
    jobs = max(1, min(a.jobs, len(missing)))
    say(f"[analyse] {len(missing)} of {len(specs)} shards to generate and analyse in {jobs} jobs")
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    procs = []
    for j in range(jobs):
        mine = missing[j::jobs]
        procs.append(
            run_child(
                "analyse",
                f"analyse-{j}",
                f"sqlite:///{WORK / 'unused.sqlite3'}",
                a,
                ["--shards", ",".join(mine)],
                wait=False,
            )
        )
    results = [collect(p, "analyse", f"analyse-{j}") for j, p in enumerate(procs)]
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter() - t
    docs = sum(r["docs"] for r in results)
    info.update(
        docs=docs, wall_s=round(wall, 1),
        cpu_s=round(ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime, 1),
        rate=round(docs / wall), rate_per_core=round(docs / sum(r["cpu_s"] for r in results)),
    )  # fmt: skip
    say(
        f"[analyse] {docs:,} documents in {wall:.0f} s ({info['rate']:,} docs/s with {jobs} "
        f"processes, {info['rate_per_core']:,} docs/s per process)"
    )
    return info


def scale_for(db: str, url: str, a: argparse.Namespace, cache: dict) -> dict:
    """Load (unless the same data are already loaded), then measure."""
    import seed as bench_seed

    meta_path = WORK / f"search-{db}-{a.tickets}.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    want = {"key": cache.get("key"), "tickets": a.tickets, "articles": a.articles, "url": url}
    load = None
    if a.measure_only:
        if not meta.get("load"):
            raise SystemExit(f"[{db}] --measure-only: nothing loaded yet ({meta_path} missing)")
        if {k: meta.get(k) for k in ("tickets", "articles", "url")} != {
            k: want[k] for k in ("tickets", "articles", "url")
        }:
            raise SystemExit(f"[{db}] --measure-only: the loaded data have another size")
        say(f"[{db}] measuring the data loaded {meta.get('loaded_at')} (--measure-only)")
    elif a.reseed or {k: meta.get(k) for k in want} != want:
        meta_path.unlink(missing_ok=True)
        bench_seed.reset_database(url, force=False)
        load = run_child("load", db, url, a)
        meta = {**want, "load": load, "loaded_at": time.strftime("%Y-%m-%d %H:%M")}
        meta_path.write_text(json.dumps(meta, indent=1, default=str))
    else:
        say(f"[{db}] reusing the loaded database of {meta.get('loaded_at')} (--reseed to rebuild)")
    meta["load"]["reused"] = load is None
    if a.prepare_only:
        return {"load": meta["load"], "loaded_now": load is not None}
    measured = run_child("measure", db, url, a)
    return {"load": meta["load"], "loaded_now": load is not None, "measure": measured}


# ---------------------------------------------------------------------------- report
def mib(v: Any) -> str:
    return f"{v / 2**20:,.1f} MiB" if isinstance(v, int | float) else "–"


def p3(d: dict) -> str:
    """p50 / p95 / p99 of a summary()."""
    return f"{fmt(d.get('p50'))} / {fmt(d.get('p95'))} / {fmt(d.get('p99'))}"


ROLES = {
    "staff": "administrator: every ticket and article",
    "agent": f"L1 agent whose team serves {AGENT_ORGS} customers",
    "customer": "customer user: own organization's tickets, public and own articles",
}


def report_relevance(rel: dict) -> list[str]:
    L = ["", "**Relevance** (public data sets; 20 hits per query; `search()` as an "
         "administrator):", "",
         "| data set | database | documents | queries | recall@1 | recall@5 | MRR@20 | "
         "no result | queries/s | indexing docs/s |",
         "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    notes = {}
    for db, r in rel.items():
        for name in ("baoxianzhidao-zh", "banking77-en"):
            d = r.get(name, {})
            if d.get("status") != "ok":
                L.append(f"| {name} | {db} | not run: {d.get('why', '?')} | | | | | | | |")
                continue
            notes[name] = d["note"]
            L.append(
                f"| {name} | {db} | {d['documents']:,} | {d['queries']:,} of "
                f"{d['queries_total']:,} | {d['recall_at_1']:.3f} | {d['recall_at_5']:.3f} | "
                f"{d['mrr_at_20']:.3f} | {d['zero_results']:.1%} | {d['qps']:.1f} | "
                f"{d['index_rate']:,.0f} |"
            )
    return [*L, "", *(f"- {n}: {note}" for n, note in notes.items())]


def report_scale(res: dict, scale: dict, a: argparse.Namespace) -> list[str]:
    cache = res.get("cache", {})
    L = ["", f"**Latency at scale**: {a.tickets:,} tickets, {a.articles:,} articles, "
         f"{a.organizations} customer organizations; up to {a.reps} passes over the query mix "
         "per user after a warm-up pass.", ""]  # fmt: skip
    if cache.get("analysed_now"):
        L.append(
            f"Analysis (generate + `entry_for`, cached afterwards): {cache['docs']:,} documents in "
            f"{cache['wall_s']} s = {cache['rate']:,} docs/s with {a.jobs} processes "
            f"({cache['rate_per_core']:,} docs/s per process)."
        )
    else:
        L.append("Analysis: cached rows of an earlier run reused.")
    dbs = list(scale)
    L += ["", "| loading | " + " | ".join(dbs) + " |", "|---|" + "---:|" * len(dbs)]

    def row(label: str, fn: Any) -> None:
        cells = []
        for s in scale.values():
            try:
                cells.append(fn(s["load"], s["measure"]))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("–")
        L.append(f"| {label} | " + " | ".join(cells) + " |")

    def service(kind: str) -> Any:
        def cell(ld: dict, _m: dict) -> str:
            x = ld[f"service_index_{kind}"]
            return f"{x['rate']:,} docs/s; identical {x['identical']}/{x['docs']}"

        return cell

    row("database", lambda ld, m: f"{m['vendor']} {m['db_version']}")
    row("loaded in this run", lambda ld, m: "no (reused)" if ld.get("reused") else "yes")
    row("tickets written (bulk)", lambda ld, m: f"{ld['tickets_s']} s")
    row("articles written (bulk)", lambda ld, m: f"{ld['articles_s']} s")
    row(
        "index entries written (bulk; FTS5 triggers / tsvector + GIN)",
        lambda ld, m: (
            f"{ld['ticket_entries_s'] + ld['article_entries_s']:,.0f} s = "
            f"{ld['entries_rate']:,} docs/s"
        ),
    )
    row("(VACUUM) ANALYZE", lambda ld, m: f"{ld['analyze_s']} s")
    row(
        "vocabulary refresh",
        lambda ld, m: f"{ld['vocabulary_s']} s ({ld['vocabulary_terms']:,} terms)",
    )
    row("`services.index('ticket', 2,000 ids)` on the loaded index", service("ticket"))
    row("`services.index('article', 500 ids)` on the loaded index", service("article"))
    size = lambda ld, *keys: next((ld["size"][k] for k in keys if k in ld["size"]), None)  # noqa: E731
    row("index: full-text part (FTS5 tables / GIN index)",
        lambda ld, m: mib(size(ld, "fts_tables", "gin_index")))  # fmt: skip
    row("index: entry table (with its other indexes; PG: heap, TOAST, all indexes)",
        lambda ld, m: mib(size(ld, "entry_table_and_indexes", "entry_table_total")))  # fmt: skip
    row("tickets table, for comparison", lambda ld, m: mib(size(ld, "tickets_table_total")))
    row("database file / database", lambda ld, m: mib(size(ld, "database")))

    first = next(iter(scale.values()))["measure"]
    if "matches" in first:
        L += ["", "Entries matching every word of a query (synonyms included), per kind of the "
              f"mix ({first['queries']} queries: " + ", ".join(
                  f"{k} {n}" for k, n in first["query_kinds"].items()) + "); median / max:", "",
              "| | " + " | ".join(res["kinds"]) + " |", "|---|" + "---:|" * len(res["kinds"]),
              "| matches | " + " | ".join(
                  f"{first['matches'][k]['median']:,.0f} / {first['matches'][k]['max']:,}"
                  for k in res["kinds"]) + " |"]  # fmt: skip
    L += ["", "`search()` — 20 hits, articles and tickets; ms p50 / p95 / p99 per database, then "
          "SQL statements per search, share of the time spent in the database driver and the "
          "median number of visible results (per database, in the same order):", ""]  # fmt: skip
    for role, what in ROLES.items():
        L += [f"*{role}* ({what})", "",
              "| kind | " + " | ".join(dbs) + " | statements | db share | results |",
              "|---|" + "---:|" * (len(dbs) + 3)]  # fmt: skip
        for kind in ["all", *res["kinds"]]:
            ks = [s["measure"]["search"][role][kind] for s in scale.values()]
            name = f"**{kind}**" if kind == "all" else kind
            L.append(
                f"| {name} | " + " | ".join(p3(k) for k in ks)
                + " | " + " / ".join(f"{k['statements']:.0f}" for k in ks)
                + " | " + " / ".join(f"{k['db_share']:.0%}" for k in ks)
                + " | " + " / ".join(f"{k['hits']:.0f}" for k in ks) + " |"
            )  # fmt: skip
        L.append("")
    L += ["| other calls, ms p50 / p95 / p99 | " + " | ".join(dbs) + " |",
          "|---|" + "---:|" * len(dbs)]  # fmt: skip
    for role in ("customer", "staff"):
        row(f"`suggest()` as {role}, 200 prefixes of article titles",
            lambda ld, m, r=role: p3(m["suggest"][r]))  # fmt: skip
    row("`similar_articles()`, 100 ticket texts, staff", lambda ld, m: p3(m["similar"]))
    row("`search()` first pass of a fresh process, staff", lambda ld, m: p3(m["first_pass"]))
    if "pg" in scale:
        g = scale["pg"]["measure"]

        def verdict(v: float, limit: float) -> str:
            return f"{fmt(v)} ms ({'met' if v < limit else '**missed**'})"

        bars = [f"search p95 < {TARGETS['search_p95_ms']:.0f} ms: "
                + ", ".join(f"{r} {verdict(g['search'][r]['all']['p95'], TARGETS['search_p95_ms'])}"
                            for r in ROLES),
                f"suggest p95 < {TARGETS['suggest_p95_ms']:.0f} ms: "
                + ", ".join(f"{r} {verdict(g['suggest'][r]['p95'], TARGETS['suggest_p95_ms'])}"
                            for r in ("customer", "staff"))]  # fmt: skip
        L += ["", "Targets on PostgreSQL: " + "; ".join(bars) + "."]
    if "pg" in scale and "sqlite" in scale:
        g, q = scale["pg"]["measure"], scale["sqlite"]["measure"]

        def ratio(x: dict, y: dict) -> str:
            return f"{x['p50'] / y['p50']:.2f}× / {x['p95'] / y['p95']:.2f}×"

        parts = [f"search as {r} {ratio(g['search'][r]['all'], q['search'][r]['all'])}"
                 for r in ROLES]  # fmt: skip
        parts.append(
            f"suggest as customer {ratio(g['suggest']['customer'], q['suggest']['customer'])}"
        )
        parts.append(f"similar articles {ratio(g['similar'], q['similar'])}")
        L += ["", "Ratios PostgreSQL / SQLite (p50 / p95): " + "; ".join(parts) + "."]
    for db, s in scale.items():
        L += report_profile(db, s["measure"])
    return L


def report_profile(db: str, m: dict) -> list[str]:
    L: list[str] = []
    for prof in m.get("profiles", []):
        L += ["", f"Where the time goes on {db}: {prof['label']} (the slowest kind by p95), "
              f"cProfile over its {prof['calls']} calls once ({prof['seconds']} s under the "
              "profiler; inclusive times, nested rows overlap):", "",
              "| part | ms | share |", "|---|---:|---:|"]  # fmt: skip
        L += [f"| {b['what']} | {fmt(b['ms'])} | {b['share']:.0%} |" for b in prof["breakdown"]]
        sq = prof.get("slowest")
        if not sq:
            continue
        L += ["", f"Its slowest call (median {sq['ms']} ms): `{sq['text'][:120]}`; statements "
              "(ms; Django's debug cursor rounds to 1 ms):", ""]  # fmt: skip
        L += [f"- {st['ms']} ms: `{st['sql'][:160]}`" for st in sq["statements"]]
        L += ["", "Plan of its slowest statement:", "", "```", sq.get("plan", "").rstrip(), "```"]
    return L


def report(res: dict, a: argparse.Namespace) -> str:
    calib = res["calibration_ms"]
    L = [
        f"Run {res['started']} of `{res['app']}`; {res['machine']}; Python "
        f"{platform.python_version()}; machine speed (`calibrate()`, lower is faster) "
        f"{calib[0]} ms before, {calib[-1]} ms after."
    ]
    if res.get("relevance"):
        L += report_relevance(res["relevance"])
    scale = {k: v for k, v in res.get("scale", {}).items() if "measure" in v}
    if scale:
        L += report_scale(res, scale, a)
    return "\n".join(L) + "\n"


def driver(a: argparse.Namespace) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    if a.nice:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, a.nice)
        except PermissionError:
            raise SystemExit(f"--nice {a.nice} needs root") from None
        bench_run.NICE = a.nice
        bench_run.set_autogroup_nice("self")
    if not a.app_root:
        a.app_root = str(bench_run.snapshot_head())
    app = Path(a.app_root)
    label = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    res: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} vCPU, {platform.machine()}, {platform.platform()}",
        "app": f"snapshot of {app.name[4:]}"
        if app.name.startswith("app-")
        else f"{app} (HEAD {label})",
        "args": vars(a),
    }
    import search_corpus as sc  # stdlib-only parts (the kinds of queries)

    res["kinds"] = sc.KINDS
    calib = [bench_run.calibrate()]
    say(f"[calibrate] {calib[0]} ms (a fixed Python loop; lower is faster)")
    dbs = ["sqlite", "pg"] if a.db == "both" else [a.db]
    a.sources = str(sc.extract_sources(ROOT, WORK / f"search-sources-{sc.BANK_COMMIT}"))
    a.cache_dir = str(CACHE / cache_key(a))
    started_pg = False
    pg_url = ""
    try:
        if "pg" in dbs:
            pg_url, started_pg = pg_start(a)
        if not a.skip_relevance:
            res["relevance"] = {}
            for db in dbs:
                if db == "pg":
                    url = with_db(pg_url, PG_REL_DB)
                else:
                    url = f"sqlite:///{WORK / 'search-rel.sqlite3'}"
                import seed as bench_seed

                bench_seed.reset_database(url, force=False)
                res["relevance"][db] = run_child("relevance", db, url, a)
        if not a.skip_scale:
            res["cache"] = {} if a.measure_only else ensure_cache(a)
            res["scale"] = {}
            for db in dbs:
                # one database per size, so a quick look does not replace the full data
                if db == "pg":
                    url = (
                        pg_url if a.pg_url else with_db(pg_url, f"erpcare_search_{a.tickets}_bench")
                    )
                else:
                    url = f"sqlite:///{WORK / f'search-scale-{a.tickets}.sqlite3'}"
                res["scale"][db] = scale_for(db, url, a, res["cache"])
    finally:
        if started_pg:
            pg_stop(a)
    calib.append(bench_run.calibrate())
    res["calibration_ms"] = calib
    text = report(res, a)
    suffix = f"-{a.tag}" if a.tag else ""
    report_path, raw_path = (
        WORK / f"search-report{suffix}.md",
        WORK / f"search-results{suffix}.json",
    )
    report_path.write_text(text)
    raw_path.write_text(json.dumps(res, indent=1, default=str))
    say("\n" + text)
    say(f"(report: {report_path}, raw: {raw_path})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--articles", type=int, default=50_000)
    ap.add_argument("--organizations", type=int, default=200)
    ap.add_argument("--reps", type=int, default=2, help="passes over the query mix per user")
    ap.add_argument(
        "--kind-budget", type=float, default=120.0,
        help="seconds per query kind and user after which no further pass of that kind is made",
    )  # fmt: skip
    ap.add_argument("--prepare-only", action="store_true", help="analyse and load, no measuring")
    ap.add_argument(
        "--measure-only", action="store_true",
        help="measure the data loaded by an earlier run as they are, whatever --app-root "
        "(A/B of a change on the query side)",
    )  # fmt: skip
    ap.add_argument(
        "--window", type=int, default=0,
        help="A/B: make the backends score this many newest matches (default: the app's)",
    )  # fmt: skip
    ap.add_argument("--datasets", default=str(DATASETS), help="public data sets (read only)")
    ap.add_argument(
        "--rel-queries", type=int, default=1000,
        help="queries per data set, a fixed random sample (0: all)",
    )  # fmt: skip
    ap.add_argument("--skip-relevance", action="store_true")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--reseed", action="store_true", help="reload the scale databases")
    ap.add_argument("--jobs", type=int, default=2, help="analysis processes")
    ap.add_argument("--nice", type=int, default=0, help="priority of everything we start (root)")
    ap.add_argument("--pg-port", type=int, default=54336)
    ap.add_argument("--pg-url", default="", help="an existing PostgreSQL server (database name "
                    "must contain 'bench'; it is dropped and recreated)")  # fmt: skip
    ap.add_argument("--app-root", default="", help="checkout whose erpcare is measured "
                    "(default: a snapshot of the committed HEAD)")  # fmt: skip
    ap.add_argument("--tag", default="", help="name of this run's report files (A/B series)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--label", default="", help=argparse.SUPPRESS)
    ap.add_argument("--cache-dir", default="", help=argparse.SUPPRESS)
    ap.add_argument("--shards", default="", help=argparse.SUPPRESS)
    ap.add_argument("--sources", default="", help=argparse.SUPPRESS)
    ap.add_argument("--max-ticket-id", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child_main(a)
    else:
        driver(a)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
