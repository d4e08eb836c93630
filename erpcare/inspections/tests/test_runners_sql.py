"""SQL runners: a check reads, never writes, stops at its timeout and keeps at most
max_rows rows — on a real SQLite file, the real PostgreSQL of ``scripts/pg.sh`` and a real
MariaDB started for the module (each skipped with the reason when it is not there).

The PostgreSQL tests run as the database's owner, who *could* write: the read-only
transaction, not the login, is what stops every attempt.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from erpcare.inspections.runners import RunnerError, SourceSpec, sql
from erpcare.inspections.tests import mariadb_server

# --------------------------------------------------------------------------- parameters


def test_named_parameters_become_driver_placeholders_outside_literals_casts_and_comments():
    query = (
        "SELECT :days::int AS d, ':skip' AS lit, \"a:b\" AS ident, E'it\\'s :no' AS e, "
        "$tag$ :nope $tag$ AS dollar, 100 % 7 AS pct -- :comment\n"
        "/* :block */ FROM t WHERE a = :days AND b = :name"
    )
    text, args = sql.bind(query, {"days": 30, "name": "x"}, dialect="postgresql")
    assert args == [30, 30, "x"]
    assert text == (
        "SELECT %s::int AS d, ':skip' AS lit, \"a:b\" AS ident, E'it\\'s :no' AS e, "
        "$tag$ :nope $tag$ AS dollar, 100 %% 7 AS pct -- :comment\n"
        "/* :block */ FROM t WHERE a = %s AND b = %s"
    )
    text, args = sql.bind("SELECT :a, ':a', x::text FROM t", {"a": 1}, dialect="sqlite")
    assert (text, args) == ("SELECT ?, ':a', x::text FROM t", [1])
    # MySQL: backslash escapes in literals, backtick identifiers and # comments
    text, args = sql.bind("SELECT 'x\\' :no', `c:d`, :v # :c\n", {"v": "50%"}, dialect="mysql")
    assert (text, args) == ("SELECT 'x\\' :no', `c:d`, %s # :c\n", ["50%"])


def test_a_query_without_parameters_is_passed_untouched():
    assert sql.bind("SELECT 5 % 2, now()::date", None, dialect="postgresql") == (
        "SELECT 5 % 2, now()::date",
        None,
    )


@pytest.mark.parametrize(
    ("query", "params", "message"),
    [
        ("SELECT :days", {}, ":days"),
        ("SELECT 1", {"days": 3}, ":days"),
        ("SELECT :days", {"days": [1, 2]}, "list"),
        ("SELECT :days", {"days": {"a": 1}}, "dict"),
    ],
)
def test_missing_unknown_or_odd_parameters_are_refused_before_connecting(
    query: str, params: dict[str, Any], message: str, tmp_path: Path
):
    # Neither source exists: the parameter error must come first.
    for spec in (
        SourceSpec(kind="sqlite", database=str(tmp_path / "missing.db")),
        SourceSpec(kind="postgresql", host="127.0.0.1", port=1, database="x", username="x"),
    ):
        with pytest.raises(RunnerError) as raised:
            sql.run_query(spec, query, params)
        assert message in str(raised.value)
        assert "connect" not in str(raised.value)
        assert raised.value.reason == "error"
    assert not (tmp_path / "missing.db").exists()


def test_values_come_back_json_safe():
    import datetime as dt
    import uuid
    from decimal import Decimal

    assert sql.json_safe(Decimal("12.50")) == 12.5
    assert sql.json_safe(Decimal("NaN")) == "NaN"
    assert sql.json_safe(float("inf")) == "inf"
    assert sql.json_safe(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)) == (
        "2026-01-02T03:04:05+00:00"
    )
    assert sql.json_safe(dt.timedelta(minutes=2)) == 120.0
    assert sql.json_safe(b"\x00\xff") == "00ff"
    assert sql.json_safe(memoryview(b"ab")) == "6162"
    assert sql.json_safe(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert sql.json_safe([Decimal(1), {"k": dt.date(2026, 1, 1)}]) == [1.0, {"k": "2026-01-01"}]
    long = sql.json_safe("x" * 5000)
    assert len(long) == sql.MAX_TEXT + 1
    assert long.endswith("…")


def test_other_kinds_and_empty_queries_are_refused():
    with pytest.raises(RunnerError, match="cannot run SQL"):
        sql.run_query(SourceSpec(kind="prometheus", url="http://127.0.0.1:9"), "SELECT 1")
    with pytest.raises(RunnerError, match="no query"):
        sql.run_query(SourceSpec(kind="sqlite", database="/nonexistent"), "  ")
    with pytest.raises(RunnerError, match="cannot run SQL"):
        sql.test_connection(SourceSpec(kind="http", url="http://127.0.0.1:9"))


def test_sql_server_without_its_driver_says_which_extra_to_install():
    try:
        import pymssql  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("pymssql is installed here; the missing-driver message cannot be shown")
    spec = SourceSpec(kind="sqlserver", host="127.0.0.1", database="erp", username="sa")
    with pytest.raises(RunnerError, match="mssql") as raised:
        sql.run_query(spec, "SELECT 1")
    assert "not supported in this installation" in str(raised.value)
    with pytest.raises(RunnerError, match="mssql"):
        sql.test_connection(spec)


def test_mysql_without_pymysql_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch):
    # An absent third-party package: None in sys.modules makes its import fail.
    monkeypatch.setitem(sys.modules, "pymysql", None)
    spec = SourceSpec(kind="mysql", host="127.0.0.1", port=1, database="erp", username="u")
    with pytest.raises(RunnerError, match="PyMySQL") as raised:
        sql.run_query(spec, "SELECT 1")
    assert "`mysql` extra" in str(raised.value)


# --------------------------------------------------------------------------- SQLite


@pytest.fixture
def erp_file(tmp_path: Path) -> Path:
    path = tmp_path / "erp.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE move (id INTEGER PRIMARY KEY, debit NUMERIC, credit NUMERIC, doc BLOB,
                           state TEXT);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
        INSERT INTO move SELECT i, i * 1.5, i * 1.5, x'00ff', 'posted' FROM n;
        UPDATE move SET credit = 0 WHERE id IN (7, 9);
        """
    )
    conn.commit()
    conn.close()
    return path


def _count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM move").fetchone()[0])


def test_sqlite_returns_columns_rows_and_a_capped_total(erp_file: Path):
    spec = SourceSpec(kind="sqlite", database=str(erp_file), max_rows=1)
    result = sql.run_query(
        spec,
        "SELECT id, debit, credit, doc FROM move WHERE debit <> credit AND state = :state "
        "ORDER BY id",
        {"state": "posted"},
    )
    assert result.columns == ["id", "debit", "credit", "doc"]
    assert result.rows == [[7, 10.5, 0, "00ff"]]
    assert result.total == 2  # more than max_rows: one row kept, "more" known
    everything = sql.run_query(replace(spec, max_rows=100), "SELECT id FROM move")
    assert len(everything.rows) == 100
    assert everything.total == 101
    assert everything.duration_ms >= 0


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM move",
        "UPDATE move SET credit = debit",
        "INSERT INTO move (id) VALUES (10000)",
        "SELECT 1; DELETE FROM move",
        "PRAGMA query_only = OFF",
        "DROP TABLE move",
    ],
)
def test_sqlite_cannot_write(erp_file: Path, query: str):
    spec = SourceSpec(kind="sqlite", database=str(erp_file))
    before = erp_file.read_bytes()
    with pytest.raises(RunnerError) as raised:
        sql.run_query(spec, query)
    assert raised.value.reason == "error"
    assert erp_file.read_bytes() == before
    assert _count(erp_file) == 500


def test_sqlite_cannot_attach_and_create_another_file(erp_file: Path, tmp_path: Path):
    other = tmp_path / "created.db"
    with pytest.raises(RunnerError, match="not authorized"):
        sql.run_query(
            SourceSpec(kind="sqlite", database=str(erp_file)), f"ATTACH DATABASE '{other}' AS x"
        )
    assert not other.exists()


def test_sqlite_query_that_never_ends_is_stopped_at_its_timeout(erp_file: Path):
    spec = SourceSpec(kind="sqlite", database=str(erp_file), timeout_ms=300)
    started = time.monotonic()
    with pytest.raises(RunnerError) as raised:
        sql.run_query(
            spec,
            "WITH RECURSIVE forever(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM forever) "
            "SELECT count(*) FROM forever",
        )
    elapsed = time.monotonic() - started
    assert raised.value.reason == "timeout"
    assert "300 ms" in str(raised.value)
    assert 0.25 < elapsed < 5


def test_sqlite_missing_file_is_a_clear_error_and_is_not_created(tmp_path: Path):
    path = tmp_path / "nowhere" / "erp.db"
    spec = SourceSpec(kind="sqlite", database=str(path))
    with pytest.raises(RunnerError, match="does not exist"):
        sql.run_query(spec, "SELECT 1")
    with pytest.raises(RunnerError, match="does not exist"):
        sql.test_connection(spec)
    assert not path.parent.exists()
    with pytest.raises(RunnerError, match="No SQLite database file"):
        sql.run_query(SourceSpec(kind="sqlite"), "SELECT 1")


def test_sqlite_file_that_is_not_a_database(tmp_path: Path):
    path = tmp_path / "notes.txt"
    path.write_text("this is not a database, just text long enough to be read" * 20)
    with pytest.raises(RunnerError, match="not a database"):
        sql.test_connection(SourceSpec(kind="sqlite", database=str(path)))


def test_sqlite_test_connection_names_the_library(erp_file: Path):
    answer = sql.test_connection(SourceSpec(kind="sqlite", database=str(erp_file)))
    assert answer == f"SQLite {sqlite3.sqlite_version}"


# --------------------------------------------------------------------------- PostgreSQL

DB = settings.DATABASES["default"]
_skip_without_postgresql = pytest.mark.skipif(
    DB["ENGINE"] != "django.db.backends.postgresql",
    reason="PostgreSQL runner tests need a server: scripts/pg.sh start and a postgres:// "
    "DATABASE_URL",
)


def on_postgresql(test: Any) -> Any:
    """Runs in the PostgreSQL pass (``pg_server``), skipped on SQLite."""
    return pytest.mark.pg_server(_skip_without_postgresql(test))


def _pg_spec(dbname: str, **changes: Any) -> SourceSpec:
    spec = SourceSpec(
        kind="postgresql",
        host=str(DB["HOST"] or "127.0.0.1"),
        port=int(DB["PORT"] or 5432),
        database=dbname,
        username=str(DB["USER"]),
        password=str(DB["PASSWORD"] or ""),
        timeout_ms=2000,
        max_rows=5,
    )
    return replace(spec, **changes)


@pytest.fixture(scope="module")
def pg_scratch() -> Iterator[tuple[str, Any]]:
    """A scratch database owned by the test login, with a table, a sequence and a function
    that writes; dropped afterwards. Yields (name, connect) with connect() → autocommit."""
    psycopg = pytest.importorskip("psycopg")
    base = re.sub(r"\W", "_", str(DB["NAME"]))[:30]
    name = f"{base}_run_{secrets.token_hex(4)}"

    def connect(dbname: str = name) -> Any:
        return psycopg.connect(
            host=DB["HOST"] or "127.0.0.1",
            port=DB["PORT"] or 5432,
            user=DB["USER"],
            password=DB["PASSWORD"] or "",
            dbname=dbname,
            autocommit=True,
            connect_timeout=5,
        )

    with connect("postgres") as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with connect() as conn:
            conn.execute(
                """
                CREATE TABLE move (id int PRIMARY KEY, debit numeric(12, 2),
                                   credit numeric(12, 2), posted_at timestamptz,
                                   doc bytea, tags text[], extra jsonb, ref uuid);
                INSERT INTO move
                SELECT i, i * 1.5, i * 1.5, '2026-01-02 03:04:05+00', '\\x00ff', '{a,b}',
                       '{"k": 1}', '00000000-0000-0000-0000-000000000001'
                FROM generate_series(1, 500) AS i;
                UPDATE move SET credit = 0 WHERE id IN (7, 9);
                CREATE SEQUENCE invoice_seq;
                CREATE TABLE audit (note text);
                CREATE FUNCTION sneaky() RETURNS int LANGUAGE plpgsql AS
                  $$ BEGIN INSERT INTO audit VALUES ('written'); RETURN 1; END $$;
                """
            )
        yield name, connect
    finally:
        with connect("postgres") as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _state(connect: Any) -> tuple[Any, ...]:
    with connect() as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM move), (SELECT sum(credit) FROM move), "
            "(SELECT count(*) FROM audit), (SELECT last_value FROM invoice_seq), "
            "(SELECT is_called FROM invoice_seq)"
        ).fetchone()


@on_postgresql
def test_postgresql_reads_with_parameters_casts_and_json_safe_values(pg_scratch):
    name, _connect = pg_scratch
    result = sql.run_query(
        _pg_spec(name, max_rows=1),
        "SELECT id, debit, credit, posted_at, doc, tags, extra, ref, :days::int AS days, "
        "'literal :x' AS lit FROM move WHERE debit <> credit AND id >= :min ORDER BY id",
        {"days": "30", "min": 1},
    )
    assert result.columns == [
        "id", "debit", "credit", "posted_at", "doc", "tags", "extra", "ref", "days", "lit",
    ]  # fmt: skip
    assert result.rows == [
        [
            7, 10.5, 0.0, "2026-01-02T03:04:05+00:00", "00ff", ["a", "b"], {"k": 1},
            "00000000-0000-0000-0000-000000000001", 30, "literal :x",
        ]
    ]  # fmt: skip
    assert result.total == 2


@on_postgresql
def test_postgresql_fetches_at_most_max_rows_plus_one(pg_scratch):
    name, _connect = pg_scratch
    # 125 million rows: producing (or sending) them all would run past the 1.5 s timeout;
    # a server-side cursor makes the server produce six.
    result = sql.run_query(
        _pg_spec(name, timeout_ms=1500),
        "SELECT a.id, b.id, c.id FROM move a, move b, move c ORDER BY a.id, b.id, c.id",
    )
    assert result.rows == [[1, 1, 1], [1, 1, 2], [1, 1, 3], [1, 1, 4], [1, 1, 5]]
    assert result.total == 6


@on_postgresql
def test_postgresql_session_is_read_only_bounded_and_named(pg_scratch):
    name, _connect = pg_scratch
    result = sql.run_query(
        _pg_spec(name, timeout_ms=1500),
        "SELECT current_setting('application_name'), current_setting('transaction_read_only'),"
        " current_setting('default_transaction_read_only'), current_setting('statement_timeout')",
    )
    assert result.rows == [["erpcare-inspection", "on", "on", "1500ms"]]


@on_postgresql
@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM move",
        "UPDATE move SET credit = debit",
        "INSERT INTO move (id) VALUES (100000)",
        "WITH gone AS (DELETE FROM move RETURNING id) SELECT count(*) FROM gone",
        "SELECT nextval('invoice_seq')",
        "SELECT sneaky()",
        "SELECT 1; COMMIT; SET default_transaction_read_only = off; DELETE FROM move",
        "SELECT * FROM move FOR UPDATE",
        "SELECT set_config('default_transaction_read_only', 'off', false), sneaky()",
    ],
)
def test_postgresql_checks_cannot_write(pg_scratch, query: str):
    name, connect = pg_scratch
    before = _state(connect)
    with pytest.raises(RunnerError) as raised:
        sql.run_query(_pg_spec(name), query)
    assert raised.value.reason == "error"
    assert _state(connect) == before == (500, before[1], 0, 1, False)


@on_postgresql
def test_postgresql_read_only_refusal_is_explained(pg_scratch):
    name, _connect = pg_scratch
    with pytest.raises(RunnerError, match="read-only") as raised:
        sql.run_query(_pg_spec(name), "SELECT nextval('invoice_seq')")
    assert "nextval" in str(raised.value)
    with pytest.raises(RunnerError, match=r"Only queries \(SELECT"):
        sql.run_query(_pg_spec(name), "DELETE FROM move")


@on_postgresql
def test_postgresql_query_past_its_timeout_is_cancelled(pg_scratch):
    name, connect = pg_scratch
    started = time.monotonic()
    with pytest.raises(RunnerError) as raised:
        sql.run_query(_pg_spec(name, timeout_ms=300), "SELECT pg_sleep(10)")
    elapsed = time.monotonic() - started
    assert raised.value.reason == "timeout"
    assert "300 ms" in str(raised.value)
    assert elapsed < 4
    # …and the session is gone, not left sleeping on the server.
    with connect() as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
            "AND application_name = 'erpcare-inspection'",
            [name],
        ).fetchone()[0]
    assert left == 0


@on_postgresql
def test_postgresql_connections_are_closed_after_every_call(pg_scratch):
    name, connect = pg_scratch
    sql.run_query(_pg_spec(name), "SELECT 1")
    with pytest.raises(RunnerError):
        sql.run_query(_pg_spec(name), "SELECT nextval('invoice_seq')")
    with pytest.raises(RunnerError):
        sql.run_query(_pg_spec(name), "SELECT * FROM no_such_table")
    sql.test_connection(_pg_spec(name))
    with connect() as conn:
        deadline = time.monotonic() + 5
        while True:
            open_sessions = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND application_name = 'erpcare-inspection'",
                [name],
            ).fetchone()[0]
            if open_sessions == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert open_sessions == 0


@on_postgresql
def test_postgresql_errors_are_clear(pg_scratch):
    name, _connect = pg_scratch
    with pytest.raises(RunnerError, match="no_such_table") as raised:
        sql.run_query(_pg_spec(name), "SELECT * FROM no_such_table")
    assert str(raised.value).startswith("PostgreSQL refused the query")
    port = mariadb_server.free_port()  # nothing listens there
    with pytest.raises(RunnerError, match=f"127.0.0.1:{port}") as raised:
        sql.run_query(_pg_spec(name, port=port), "SELECT 1")
    assert "Could not connect to PostgreSQL" in str(raised.value)
    with pytest.raises(RunnerError, match="does not exist"):
        sql.test_connection(_pg_spec(name + "_missing"))


@on_postgresql
def test_postgresql_test_connection_names_the_server_version(pg_scratch):
    name, connect = pg_scratch
    with connect() as conn:
        major = conn.info.server_version // 10000
    answer = sql.test_connection(_pg_spec(name))
    assert re.fullmatch(rf"PostgreSQL {major}\.\d+", answer), answer


# --------------------------------------------------------------------------- MariaDB


@pytest.fixture(scope="module")
def maria(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[mariadb_server.MariaDB, SourceSpec]]:
    pytest.importorskip("pymysql", reason="PyMySQL (the `mysql` extra) is not installed")
    if mariadb_server.binary() is None:
        pytest.skip("mariadb-server is not installed (apt-get install -y mariadb-server)")
    server = mariadb_server.MariaDB(tmp_path_factory.mktemp("mariadb")).start()
    try:
        server.execute(
            "CREATE DATABASE erp",
            "USE erp",
            "CREATE USER 'checker'@'127.0.0.1' IDENTIFIED BY 'pw 42'",
            # Every privilege: the read-only transaction must stop writes, not the grants.
            "GRANT ALL ON erp.* TO 'checker'@'127.0.0.1'",
            "CREATE TABLE erp.move (id INT PRIMARY KEY, debit DECIMAL(12,2), "
            "credit DECIMAL(12,2), posted_at DATETIME, doc VARBINARY(10), note VARCHAR(50))",
            "INSERT INTO erp.move SELECT seq, seq * 1.5, seq * 1.5, '2026-01-02 03:04:05', "
            "x'00ff', '50% done' FROM seq_1_to_500",
            "UPDATE erp.move SET credit = 0 WHERE id IN (7, 9)",
            "CREATE SEQUENCE erp.invoice_seq",
        )
        spec = SourceSpec(
            kind="mysql",
            host="127.0.0.1",
            port=server.port,
            database="erp",
            username="checker",
            password="pw 42",
            timeout_ms=2000,
            max_rows=1,
        )
        yield server, spec
    finally:
        server.stop()


def _maria_state(server: mariadb_server.MariaDB) -> tuple[Any, ...]:
    return server.execute(
        "SELECT (SELECT count(*) FROM erp.move), (SELECT sum(credit) FROM erp.move), "
        "(SELECT next_not_cached_value FROM erp.invoice_seq), "
        "(SELECT group_concat(table_name ORDER BY table_name) FROM information_schema.tables "
        "WHERE table_schema = 'erp')"
    )[0]


def test_mariadb_reads_with_parameters_and_json_safe_values(maria):
    _server, spec = maria
    result = sql.run_query(
        spec,
        "SELECT id, debit, credit, posted_at, doc, note, :label AS label FROM move "
        "WHERE debit <> credit AND note LIKE '50%' AND id >= :min ORDER BY id",
        {"label": "100%", "min": 1},
    )
    assert result.columns == ["id", "debit", "credit", "posted_at", "doc", "note", "label"]
    assert result.rows == [[7, 10.5, 0.0, "2026-01-02T03:04:05", "00ff", "50% done", "100%"]]
    assert result.total == 2


def test_mariadb_fetches_at_most_max_rows_plus_one(maria):
    _server, spec = maria
    for query in (
        "SELECT seq FROM seq_1_to_1000000",
        "SELECT seq FROM seq_1_to_1000000 LIMIT 900000",
    ):
        result = sql.run_query(replace(spec, max_rows=3), query)
        assert result.rows == [[1], [2], [3]]
        assert result.total == 4


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM move",
        "UPDATE move SET credit = debit",
        "INSERT INTO move (id) VALUES (100000)",
        "SELECT NEXTVAL(invoice_seq)",
        "SELECT 1; DELETE FROM move",
        # DDL commits the open transaction implicitly; the session is read-only too.
        "DROP TABLE move",
        "CREATE TABLE move_copy AS SELECT * FROM move",
        "TRUNCATE TABLE move",
    ],
)
def test_mariadb_checks_cannot_write(maria, query: str):
    server, spec = maria
    before = _maria_state(server)
    with pytest.raises(RunnerError) as raised:
        sql.run_query(spec, query)
    assert raised.value.reason == "error"
    assert _maria_state(server) == before
    assert before[0] == 500
    assert before[3] == "invoice_seq,move"


def test_mariadb_query_past_its_timeout_is_stopped(maria):
    _server, spec = maria
    for query in ("SELECT SLEEP(10)", "SELECT BENCHMARK(10000000000, MD5('a'))"):
        started = time.monotonic()
        with pytest.raises(RunnerError) as raised:
            sql.run_query(replace(spec, timeout_ms=400), query)
        assert raised.value.reason == "timeout", query
        assert time.monotonic() - started < 4


def test_mariadb_errors_and_test_connection(maria):
    server, spec = maria
    version = server.execute("SELECT VERSION()")[0][0].split("-")[0]
    assert sql.test_connection(spec) == f"MariaDB {version}"
    with pytest.raises(RunnerError, match="no_such_table"):
        sql.run_query(spec, "SELECT * FROM no_such_table")
    with pytest.raises(RunnerError, match="Could not connect to MySQL/MariaDB") as raised:
        sql.test_connection(replace(spec, password="wrong"))
    assert "Access denied" in str(raised.value)
