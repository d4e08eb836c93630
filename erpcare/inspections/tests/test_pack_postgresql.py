"""Every query of the shipped PostgreSQL pack runs on a real PostgreSQL as a login that has
only pg_monitor, through the inspection runner (read-only transaction, statement timeout,
row cap), and answers in the shape its condition needs; the lock, transaction and vacuum
checks find what the test breaks.

Needs the private server of ``scripts/pg.sh`` (DATABASE_URL pointing at it) and its
``postgres`` superuser (trust on 127.0.0.1) to create the monitoring role and a scratch
database; skipped with the reason otherwise.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings

from erpcare.inspections import builtins
from erpcare.inspections.models import CheckKind, Condition, ResultStatus
from erpcare.inspections.packs.loader import PACKS_DIR, CheckDefinition, parse_pack
from erpcare.inspections.runners.spec import SourceSpec
from erpcare.inspections.runners.sql import QueryResult, run_query
from erpcare.inspections.services.evaluate import judge_rows

psycopg = pytest.importorskip("psycopg")

DB = settings.DATABASES["default"]
pytestmark = [
    pytest.mark.pg_server,
    pytest.mark.skipif(
        DB["ENGINE"] != "django.db.backends.postgresql",
        reason="the PostgreSQL pack needs a PostgreSQL server: scripts/pg.sh start and "
        "DATABASE_URL",
    ),
]

PACK = parse_pack(
    (PACKS_DIR / "postgresql.yaml").read_text(encoding="utf-8"), origin="postgresql.yaml"
)
CHECKS = {check.code: check for check in PACK.checks}
WAIT_S = 15.0


@dataclass(frozen=True)
class Scratch:
    admin: Callable[[], Any]  # a superuser connection to the scratch database (autocommit)
    monitor_dsn: str
    monitor: SourceSpec


def _dsn(user: str, dbname: str, password: str = "") -> str:
    parts = {
        "host": DB["HOST"] or "127.0.0.1",
        "port": DB["PORT"] or 5432,
        "user": user,
        "dbname": dbname,
        "connect_timeout": 5,
    }
    if password:
        parts["password"] = password
    return " ".join(f"{key}={value}" for key, value in parts.items())


@pytest.fixture(scope="module")
def scratch() -> Iterator[Scratch]:
    """A scratch database and a role with only pg_monitor, both dropped afterwards.

    The checks look at their own database, so the scratch database keeps other tests'
    sessions (and other people's) out of the answers."""
    suffix = secrets.token_hex(4)
    base = re.sub(r"\W", "_", str(DB["NAME"]))[:30]
    dbname, role, password = f"{base}_pk_{suffix}", f"{base}_mon_{suffix}", secrets.token_hex(12)
    try:
        root = psycopg.connect(_dsn("postgres", "postgres"), autocommit=True)
    except psycopg.OperationalError as error:
        pytest.skip(f"no superuser 'postgres' on the test server (scripts/pg.sh): {error}")
    try:
        root.execute(f'CREATE DATABASE "{dbname}"')
        root.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'")
        root.execute(f'GRANT pg_monitor TO "{role}"')

        def admin() -> Any:
            return psycopg.connect(_dsn("postgres", dbname), autocommit=True)

        monitor = SourceSpec(
            kind="postgresql",
            host=str(DB["HOST"] or "127.0.0.1"),
            port=int(DB["PORT"] or 5432),
            database=dbname,
            username=role,
            password=password,
            timeout_ms=5000,
            max_rows=100,
        )
        yield Scratch(admin=admin, monitor_dsn=_dsn(role, dbname, password), monitor=monitor)
    finally:
        root.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [dbname]
        )
        root.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        root.execute(f'DROP ROLE IF EXISTS "{role}"')
        root.close()


def ask(scratch: Scratch, check: CheckDefinition) -> QueryResult:
    """Run a check's query through the inspection runner (read-only transaction,
    statement timeout, row cap) with the pack's parameters, as the monitoring login;
    a built-in check through its built-in."""
    if check.kind == CheckKind.BUILTIN:
        answer = builtins.run(check.query.strip(), scratch.monitor, check.params)
        return QueryResult(answer.columns, answer.rows, len(answer.rows), 0)
    return run_query(scratch.monitor, check.query, check.params.get("sql_params", {}))


def judge(check: CheckDefinition, answer: QueryResult, previous: float | None = None) -> Any:
    return judge_rows(
        condition=check.condition,
        severity=check.severity,
        warn=check.warn,
        critical=check.critical,
        columns=answer.columns,
        rows=answer.rows,
        total=answer.total,
        previous_value=previous,
    )


def until(predicate: Callable[[], QueryResult | None]) -> QueryResult:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        answer = predicate()
        if answer is not None:
            return answer
        time.sleep(0.2)
    raise AssertionError(f"not seen within {WAIT_S} s")


def found(scratch: Scratch, check: CheckDefinition) -> QueryResult | None:
    answer = ask(scratch, check)
    return answer if answer.rows else None


def test_the_monitoring_login_is_no_superuser(scratch: Scratch) -> None:
    with psycopg.connect(scratch.monitor_dsn) as conn:
        row = conn.execute(
            "SELECT rolsuper, pg_has_role(current_user, 'pg_monitor', 'member') "
            "FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    assert row == (False, True)


def test_the_pack_has_the_checks_the_issue_asks_for() -> None:
    assert set(CHECKS) == {
        "connections-vs-max",
        "long-transactions",
        "blocking-locks",
        "deadlocks",
        "cache-hit-ratio",
        "dead-tuples",
        "vacuum-age",
        "xid-wraparound",
        "replication-lag",
        "slow-statements",
        "database-growth",
        "connect-time",
        "clock-skew",
    }


@pytest.mark.parametrize("code", sorted(CHECKS))
def test_every_query_runs_as_pg_monitor_and_answers_in_its_conditions_shape(
    scratch: Scratch, code: str
) -> None:
    check = CHECKS[code]
    answer = ask(scratch, check)
    verdict = judge(check, answer, previous=0.0)
    assert verdict.status != ResultStatus.ERROR, verdict.message
    if check.condition != Condition.ROWS_EMPTY:
        assert len(answer.rows) == 1, "a value check answers exactly one row"
        assert isinstance(verdict.value, float)


def test_an_idle_scratch_database_passes_the_session_checks(scratch: Scratch) -> None:
    for code in ("long-transactions", "blocking-locks", "replication-lag", "slow-statements"):
        verdict = judge(CHECKS[code], ask(scratch, CHECKS[code]))
        assert verdict.status == ResultStatus.OK, code


def test_long_transactions_names_the_transaction_the_test_leaves_open(scratch: Scratch) -> None:
    check = CHECKS["long-transactions"]
    assert ask(scratch, check).rows[0][1] is None  # no open transaction: value 0, no pid
    with scratch.admin() as holder:
        holder.autocommit = False
        pid = holder.execute("SELECT pg_backend_pid()").fetchone()[0]  # opens the transaction
        time.sleep(0.3)
        answer = ask(scratch, check)
        holder.rollback()
    row = dict(zip(answer.columns, answer.rows[0], strict=True))
    assert row["pid"] == pid
    assert row["state"] == "idle in transaction"
    assert row["xact_start"] is not None
    assert 0 <= float(row["oldest_minutes"]) < 1  # minutes, one decimal


def test_blocking_locks_names_the_waiting_session_and_its_blocker(scratch: Scratch) -> None:
    check = CHECKS["blocking-locks"]
    with scratch.admin() as setup:
        setup.execute("CREATE TABLE ledger (id int PRIMARY KEY, amount int)")
        setup.execute("INSERT INTO ledger VALUES (1, 10)")
    with scratch.admin() as holder, scratch.admin() as waiter:
        holder.autocommit = False
        holder_pid = holder.execute("SELECT pg_backend_pid()").fetchone()[0]
        holder.execute("UPDATE ledger SET amount = 11 WHERE id = 1")
        waiter_pid = waiter.execute("SELECT pg_backend_pid()").fetchone()[0]
        waiter.execute("SET lock_timeout = '20s'")
        blocked = threading.Thread(
            target=waiter.execute, args=("UPDATE ledger SET amount = 12 WHERE id = 1",)
        )
        blocked.start()
        try:
            answer = until(lambda: found(scratch, check))
        finally:
            holder.rollback()
            blocked.join(timeout=WAIT_S)
    assert not blocked.is_alive()
    rows = [dict(zip(answer.columns, row, strict=True)) for row in answer.rows]
    assert [(r["blocked_pid"], r["blocking_pids"]) for r in rows] == [(waiter_pid, [holder_pid])]
    assert rows[0]["waiting_seconds"] >= 1  # deadlock_timeout, PostgreSQL's default 1 s
    assert "UPDATE ledger SET amount = 11" in rows[0]["blocker_query"]
    assert judge(check, answer).status == ResultStatus.CRITICAL  # severity high, no thresholds


def test_dead_tuples_finds_a_large_table_autovacuum_left_alone(scratch: Scratch) -> None:
    check = CHECKS["dead-tuples"]
    with scratch.admin() as conn:
        conn.execute(
            "CREATE TABLE stock_move (id int PRIMARY KEY, qty int) "
            "WITH (autovacuum_enabled = false)"
        )
        conn.execute("INSERT INTO stock_move SELECT g, 1 FROM generate_series(1, 20000) AS g")
        conn.execute("CREATE TABLE small_move (id int) WITH (autovacuum_enabled = false)")
        conn.execute("INSERT INTO small_move SELECT g FROM generate_series(1, 900) AS g")
        conn.execute("DELETE FROM small_move")
        conn.execute("DELETE FROM stock_move WHERE id > 12000")

    answer = until(lambda: found(scratch, check))
    rows = [dict(zip(answer.columns, row, strict=True)) for row in answer.rows]
    assert [r["relname"] for r in rows] == ["stock_move"]  # small_move is under min_rows
    assert (rows[0]["n_live_tup"], rows[0]["n_dead_tup"]) == (12000, 8000)
    assert judge(check, answer).status == ResultStatus.WARN


def test_slow_statements_passes_when_the_extension_is_created_but_not_preloaded(
    scratch: Scratch,
) -> None:
    check = CHECKS["slow-statements"]
    with scratch.admin() as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        # Named directly, the view refuses: that is what the guard in the query avoids.
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
            conn.execute("SELECT count(*) FROM pg_stat_statements")
    try:
        answer = ask(scratch, check)
    finally:
        with scratch.admin() as conn:
            conn.execute("DROP EXTENSION pg_stat_statements")
    assert answer.rows == []


def test_deadlocks_and_growth_compare_with_the_previous_run(scratch: Scratch) -> None:
    growth = CHECKS["database-growth"]
    size = float(ask(scratch, growth).rows[0][0])
    assert size > 1
    assert judge(growth, ask(scratch, growth), previous=size - 2000).status == ResultStatus.WARN
    assert judge(growth, ask(scratch, growth), previous=size - 6000).status == ResultStatus.CRITICAL
    deadlocks = CHECKS["deadlocks"]
    count = float(ask(scratch, deadlocks).rows[0][0])
    assert judge(deadlocks, ask(scratch, deadlocks), previous=count).status == ResultStatus.OK
    assert judge(deadlocks, ask(scratch, deadlocks), previous=count - 1).status == ResultStatus.WARN
