"""The PostgreSQL engine against a real server: ``DATABASE_URL`` when it is PostgreSQL,
else the private server of ``scripts/pg.sh`` (skipped when it is down: the PostgreSQL pass of
``make test`` runs these, marked ``pg_server``).

A source database with an ERP-like schema (accounts, moves, move lines, a view, a trigger
function) is dumped with the real pg_dump and restored with the real pg_restore into
scratch databases that must always be dropped."""

from __future__ import annotations

import datetime as dt
import errno
import io
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from erpcare.backups.engines import (
    ClientMissing,
    DbSpec,
    EngineError,
    EngineTimeout,
    ServerVersion,
    TableStats,
    VersionMismatch,
    get_engine,
    is_scratch_name,
)
from erpcare.backups.engines import postgresql as pg

psycopg = pytest.importorskip("psycopg")
pytestmark = pytest.mark.pg_server

KEY_TABLES = ["account_account", "account_move", "account_move_line", "ledger.period"]
NEWEST_SQL = "SELECT max(create_date) FROM account_move"


def _server_uri() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    from erpcare.inspections.testing.tryton import pg_server_uri

    return pg_server_uri()


def _reachable(spec: DbSpec) -> str | None:
    try:
        pg.server_version(spec, timeout=5)
    except EngineError as exc:
        return str(exc)
    return None


@pytest.fixture(scope="module")
def admin() -> DbSpec:
    uri = urlparse(_server_uri())
    spec = DbSpec(
        kind="postgresql",
        host=uri.hostname or "127.0.0.1",
        port=uri.port or 5432,
        database="postgres",
        user=uri.username or "",
        password=uri.password or "",
    )
    problem = _reachable(spec)
    if problem:
        pytest.skip(
            f"no PostgreSQL server for the backup engine tests (scripts/pg.sh start): {problem}"
        )
    return spec


def _connect(spec: DbSpec, dbname: str) -> Any:
    return psycopg.connect(
        host=spec.host,
        port=spec.port,
        user=spec.user,
        password=spec.password,
        dbname=dbname,
        autocommit=True,
    )


SCHEMA = """
CREATE SCHEMA ledger;
CREATE TABLE ledger.period (id serial PRIMARY KEY, name text NOT NULL, state text NOT NULL);
CREATE TABLE account_account (
    id serial PRIMARY KEY, code text UNIQUE NOT NULL, name text NOT NULL, kind text NOT NULL);
CREATE TABLE account_move (
    id serial PRIMARY KEY, period int REFERENCES ledger.period, date date NOT NULL,
    state text NOT NULL, ref text, create_date timestamp NOT NULL);
CREATE TABLE account_move_line (
    id serial PRIMARY KEY, move int NOT NULL REFERENCES account_move ON DELETE CASCADE,
    account int NOT NULL REFERENCES account_account, debit numeric(16, 2) NOT NULL DEFAULT 0,
    credit numeric(16, 2) NOT NULL DEFAULT 0, partner text);
CREATE INDEX account_move_line_move ON account_move_line (move);
CREATE VIEW trial_balance AS
    SELECT a.code, sum(l.debit) AS debit, sum(l.credit) AS credit
    FROM account_move_line l JOIN account_account a ON a.id = l.account GROUP BY a.code;
CREATE FUNCTION touch_ref() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.ref := coalesce(NEW.ref, 'M' || NEW.id); RETURN NEW; END $$;
CREATE TRIGGER account_move_ref BEFORE INSERT ON account_move
    FOR EACH ROW EXECUTE FUNCTION touch_ref();
INSERT INTO ledger.period (name, state)
    SELECT '2026-' || lpad(m::text, 2, '0'), CASE WHEN m < 6 THEN 'closed' ELSE 'open' END
    FROM generate_series(1, 12) m;
INSERT INTO account_account (code, name, kind)
    SELECT (1000 + i)::text, 'Account ' || i, CASE WHEN i % 2 = 0 THEN 'asset' ELSE 'income' END
    FROM generate_series(1, 60) i;
INSERT INTO account_move (period, date, state, create_date)
    SELECT 1 + i % 12, date '2026-01-01' + i % 300, 'posted',
           timestamp '2026-01-01 08:00' + i * interval '1 hour'
    FROM generate_series(1, 1500) i;
INSERT INTO account_move_line (move, account, debit, credit, partner)
    SELECT m.id, 1 + (m.id + s) % 60, CASE WHEN s = 0 THEN 100 + m.id ELSE 0 END,
           CASE WHEN s = 0 THEN 0 ELSE (100 + m.id) / 2.0 END, 'Partner ' || m.id % 37
    FROM account_move m, generate_series(0, 2) s;
"""
COUNTS = {
    "account_account": 60,
    "account_move": 1500,
    "account_move_line": 4500,
    "ledger.period": 12,
}


@pytest.fixture(scope="module")
def source(admin: DbSpec) -> Iterator[DbSpec]:
    name = f"erpcare_bk_src_{secrets.token_hex(4)}"
    with _connect(admin, "postgres") as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with _connect(admin, name) as conn:
            conn.execute(SCHEMA)
            conn.execute("ANALYZE")
        yield admin.with_database(name)
    finally:
        with _connect(admin, "postgres") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def big_source(admin: DbSpec) -> Iterator[DbSpec]:
    """Large enough that pg_dump and pg_restore take seconds, and a dump fills a pipe."""
    name = f"erpcare_bk_big_{secrets.token_hex(4)}"
    with _connect(admin, "postgres") as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with _connect(admin, name) as conn:
            conn.execute(
                "CREATE TABLE big AS SELECT i, md5(i::text) AS a, md5((i * 7)::text) AS b"
                " FROM generate_series(1, 300000) i;"
                "CREATE TABLE big2 AS SELECT * FROM big;"
                "CREATE INDEX big_a ON big (a); CREATE INDEX big2_b ON big2 (b);"
            )
        yield admin.with_database(name)
    finally:
        with _connect(admin, "postgres") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def dump_file(source: DbSpec, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pgdump") / "source.dump"
    pg.dump(source, path, timeout=60)
    return path


@pytest.fixture
def no_new_leaks(admin: DbSpec) -> Iterator[None]:
    before = set(pg.leaked_scratch_databases(admin))
    yield
    assert set(pg.leaked_scratch_databases(admin)) <= before


# --------------------------------------------------------------------------- versions


def test_version_check_passes_with_the_installed_client(source: DbSpec):
    server = pg.server_version(source)
    client = pg.check_versions(source)
    assert server.text.startswith("PostgreSQL ")
    assert client.name == "pg_dump"
    assert client.series >= server.series
    # The server's own major is preferred over the Debian wrapper on PATH.
    if (pg.PG_LIB / str(server.series[0]) / "bin" / "pg_dump").exists():
        assert client.path == str(pg.PG_LIB / str(server.series[0]) / "bin" / "pg_dump")
    assert {tool.name for tool in pg.client_versions()} >= {"pg_dump", "pg_restore"}


def test_a_newer_server_major_is_refused_with_what_to_install(source: DbSpec):
    newer = ServerVersion("postgresql", "PostgreSQL 99.1", (99,))
    with pytest.raises(VersionMismatch) as caught:
        pg.check_versions(source, server=newer)
    message = str(caught.value)
    assert "PostgreSQL 99.1" in message
    assert "postgresql-client-99" in message
    installed = pg.check_versions(source).version
    assert installed in message
    assert caught.value.reason == "version_mismatch"


def test_a_missing_client_is_named(source: DbSpec, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(pg, "PG_LIB", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ClientMissing, match="pg_dump is not installed"):
        pg.dump(source, tmp_path / "x.dump", timeout=10)
    assert not (tmp_path / "x.dump").exists()


# --------------------------------------------------------------------------- connection errors


@pytest.fixture(scope="module")
def password_server() -> Iterator[DbSpec]:
    """A throwaway cluster that checks passwords (scripts/pg.sh's trusts 127.0.0.1)."""
    bins = sorted(pg.PG_LIB.glob("*/bin/initdb"))
    if not bins:
        pytest.skip("initdb is not installed: no server to check a wrong password against")
    bin_dir = bins[-1].parent
    root = Path(tempfile.mkdtemp(prefix="erpcare-pgauth-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    (root / "pw").write_text("right-password\n")
    if as_postgres:
        shutil.chown(root / "pw", "postgres")
    port = _free_port()
    data = root / "data"
    pg_ctl = [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data)]
    try:
        subprocess.run(
            [*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-N",
             "--auth=scram-sha-256", f"--pwfile={root / 'pw'}", "-E", "UTF8"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [*pg_ctl, "-o", options, "-l", str(root / "log"), "-w", "start"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        yield DbSpec(
            kind="postgresql", host="127.0.0.1", port=port, database="postgres",
            user="postgres", password="right-password",
        )  # fmt: skip
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_wrong_password_is_an_authentication_error(password_server: DbSpec, tmp_path: Path):
    assert pg.server_version(password_server).series >= (10,)
    wrong = replace(password_server, password="not-the-password")
    with pytest.raises(EngineError) as caught:
        pg.dump(wrong, tmp_path / "x.dump", timeout=10)
    assert caught.value.reason == "auth"
    assert "refused the login postgres" in str(caught.value)
    assert "password authentication failed" in str(caught.value)
    assert "not-the-password" not in str(caught.value)
    assert not (tmp_path / "x.dump").exists()
    (tmp_path / "some.dump").write_bytes(b"PGDMP")
    with pytest.raises(EngineError) as restore:
        pg.restore_to_scratch(wrong, tmp_path / "some.dump", timeout=10)
    assert restore.value.reason == "auth"


def test_an_unknown_role_is_an_authentication_error(admin: DbSpec):
    with pytest.raises(EngineError) as caught:
        pg.server_version(replace(admin, user="erpcare_no_such_role"))
    assert caught.value.reason == "auth"
    assert "erpcare_no_such_role" in str(caught.value)


def test_missing_database_and_unreachable_server(admin: DbSpec, tmp_path: Path):
    with pytest.raises(EngineError) as missing:
        pg.table_stats(admin.with_database("erpcare_no_such_db"))
    assert missing.value.reason == "missing_database"
    assert "erpcare_no_such_db" in str(missing.value)
    closed_port = _free_port()
    with pytest.raises(EngineError) as unreachable:
        pg.server_version(replace(admin, port=closed_port), timeout=3)
    assert unreachable.value.reason == "unreachable"
    assert f"127.0.0.1:{closed_port}" in str(unreachable.value)


def test_bad_inputs_are_named(admin: DbSpec, tmp_path: Path, dump_file: Path):
    with pytest.raises(EngineError, match="Unknown postgresql option"):
        pg.server_version(replace(admin, options={"sslmod": "require"}))
    with pytest.raises(EngineError, match="timeout must be a positive"):
        pg.restore_to_scratch(admin, dump_file, timeout=0)
    with pytest.raises(EngineError, match="does not exist or is not a file"):
        pg.restore_to_scratch(admin, tmp_path / "nope.dump", timeout=10)
    with pytest.raises(EngineError, match="never overwrites"):
        pg.dump(admin.with_database("x"), dump_file, timeout=10)
    with pytest.raises(EngineError, match="not an ERPCare scratch database"):
        pg.drop_scratch_database(admin, "postgres")


# --------------------------------------------------------------------------- stats


def test_table_stats_exact_for_key_tables_and_estimates_for_the_rest(source: DbSpec):
    stats = pg.table_stats(
        source, key_tables=[*KEY_TABLES, "no_such_table"], newest_document_sql=NEWEST_SQL
    )
    assert set(stats.tables) == {*COUNTS}
    assert {name: stats.row_counts[name] for name in COUNTS} == COUNTS
    assert stats.exact == tuple(KEY_TABLES)
    assert stats.missing == ("no_such_table",)
    assert "reltuples" in stats.estimate_method
    # 2026-01-01 08:00 + 1500 h, stored without a zone: taken as UTC.
    assert stats.newest_document == dt.datetime(2026, 3, 4, 20, 0, tzinfo=dt.UTC)
    assert TableStats.from_dict(stats.as_dict()) == stats

    estimated = pg.table_stats(source)  # ANALYZE ran: estimates are exact on this data
    assert estimated.exact == ()
    assert estimated.row_counts["account_move_line"] == 4500


def test_a_failing_newest_document_query_is_recorded_not_fatal(source: DbSpec):
    stats = pg.table_stats(
        source, key_tables=["account_move"], newest_document_sql="SELECT max(nope) FROM x"
    )
    assert stats.newest_document is None
    assert "does not exist" in stats.newest_document_error
    assert stats.row_counts["account_move"] == 1500


# --------------------------------------------------------------------------- dump and restore


def test_dump_restore_to_scratch_counts_equal_and_scratch_dropped(
    admin: DbSpec, source: DbSpec, tmp_path: Path, no_new_leaks: None
):
    path = tmp_path / "erp.dump"
    result = pg.dump(
        source, path, timeout=60, key_tables=KEY_TABLES, newest_document_sql=NEWEST_SQL
    )
    assert path.read_bytes()[:5] == b"PGDMP"
    assert result.size == path.stat().st_size
    assert result.format == "postgresql-custom"
    assert result.tool.startswith("pg_dump ")
    assert result.stats is not None
    assert result.stats.same_snapshot
    assert {t: result.stats.row_counts[t] for t in KEY_TABLES} == COUNTS

    with pg.restore_to_scratch(admin, path, timeout=60) as scratch:
        assert is_scratch_name(scratch.name)
        assert scratch.name in pg.leaked_scratch_databases(admin)
        assert scratch.seconds > 0
        assert scratch.tool.startswith("pg_restore ")
        assert pg.table_row_counts(scratch.spec, [*KEY_TABLES, "gone"]) == {**COUNTS, "gone": None}
        with _connect(admin, scratch.name) as conn:
            assert conn.execute("SELECT count(*) FROM trial_balance").fetchone()[0] == 60
            conn.execute(
                "INSERT INTO account_move (date, state, create_date) VALUES (now(), 'draft', now())"
            )
            ref = conn.execute("SELECT ref FROM account_move ORDER BY id DESC LIMIT 1").fetchone()
            assert ref[0] == "M1501"  # the trigger came back
            owner = conn.execute(
                "SELECT tableowner FROM pg_tables WHERE tablename = 'account_move'"
            ).fetchone()[0]
            assert owner == admin.user  # --no-owner
    assert scratch.dropped
    assert scratch.name not in pg.leaked_scratch_databases(admin)


def test_dump_while_rows_are_inserted_counts_match_the_dump(
    admin: DbSpec, source: DbSpec, no_new_leaks: None
):
    """Counts and dump share one snapshot: rows committed during the dump are in neither."""
    stop = threading.Event()

    def insert() -> None:
        with _connect(source, source.database) as conn:
            while not stop.is_set():
                conn.execute("INSERT INTO ledger.period (name, state) VALUES ('extra', 'open')")

    writer = threading.Thread(target=insert)
    writer.start()
    try:
        time.sleep(0.05)
        buffer = io.BytesIO()
        result = pg.dump(source, buffer, timeout=60, key_tables=["ledger.period"])
    finally:
        stop.set()
        writer.join()
    try:
        assert result.stats is not None
        recorded = result.stats.row_counts["ledger.period"]
        buffer.seek(0)
        with pg.restore_to_scratch(admin, buffer, timeout=60) as scratch:
            assert pg.table_row_counts(scratch.spec, ["ledger.period"]) == {
                "ledger.period": recorded
            }
    finally:
        with _connect(source, source.database) as conn:
            conn.execute("DELETE FROM ledger.period WHERE name = 'extra'")


def test_open_dump_streams_and_restores_from_a_stream(
    admin: DbSpec, source: DbSpec, tmp_path: Path, no_new_leaks: None
):
    with pg.open_dump(source, timeout=60, key_tables=["account_move"]) as stream:
        data = stream.reader.read()
    assert data[:5] == b"PGDMP"
    assert stream.result.size == len(data)
    assert stream.stats is not None
    assert stream.stats.row_counts["account_move"] == 1500
    # A piped dump has no data offsets; a parallel restore from a file still works.
    piped = tmp_path / "piped.dump"
    piped.write_bytes(data)
    with pg.restore_to_scratch(admin, piped, timeout=60, jobs=2) as scratch:
        assert pg.table_row_counts(scratch.spec, KEY_TABLES) == COUNTS
    chunks = (data[i : i + 7000] for i in range(0, len(data), 7000))
    with pg.restore_to_scratch(admin, chunks, timeout=60) as scratch:
        assert pg.table_row_counts(scratch.spec, ["account_move_line"]) == {
            "account_move_line": 4500
        }
    assert scratch.name not in pg.leaked_scratch_databases(admin)


def test_a_stream_left_unread_kills_pg_dump(source: DbSpec):
    stream = pg.open_dump(source, timeout=60)
    stream.read(10)
    with pytest.raises(EngineError, match="not read to its end"):
        stream.__exit__(None, None, None)
    assert stream.closed
    assert not _children_named("pg_dump")


def test_a_failing_dump_fails_the_last_read(big_source: DbSpec):
    """pg_dump dying mid-way makes the stream's last read raise, so a copy into an artifact
    store fails instead of storing a partial backup. (The dump is larger than a pipe's
    buffer: pg_dump is still running when it is killed.)"""
    with pg.open_dump(big_source, timeout=60) as stream:
        first = stream.read(100)
        for pid in _children_named("pg_dump"):
            os.kill(pid, 9)
        with pytest.raises(EngineError) as caught:
            stream.reader.read()
    assert first[:5] == b"PGDMP"
    assert "pg_dump of" in str(caught.value)
    with pytest.raises(EngineError):
        _ = stream.result


def _children_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and Path(cmdline).name == name:
            found.append(int(entry.name))
    return found


def test_a_truncated_dump_fails_clearly_and_leaves_no_scratch(
    admin: DbSpec, dump_file: Path, tmp_path: Path, no_new_leaks: None
):
    data = dump_file.read_bytes()
    cut = tmp_path / "cut.dump"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(EngineError) as caught:
        pg.restore_to_scratch(admin, cut, timeout=60)
    assert caught.value.reason == "corrupt"
    message = str(caught.value)
    assert "truncated or damaged" in message
    assert "pg_restore" in message
    assert len(message) < 1200
    garbage = tmp_path / "garbage.dump"
    garbage.write_bytes(b"this is not a dump\n" * 10)
    with pytest.raises(EngineError) as not_a_dump:
        pg.restore_to_scratch(admin, garbage, timeout=60)
    assert not_a_dump.value.reason == "corrupt"


def test_a_stalled_restore_is_killed_as_a_timeout(
    admin: DbSpec, dump_file: Path, no_new_leaks: None
):
    """The dump arrives through a process that sleeps half-way: pg_restore waits for it
    and is killed when the timeout runs out."""
    size = dump_file.stat().st_size
    slow = subprocess.Popen(
        [
            "sh",
            "-c",
            f'head -c {size // 2} "$1"; sleep 20; tail -c +{size // 2 + 1} "$1"',
            "-",
            str(dump_file),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        started = time.monotonic()
        assert slow.stdout is not None
        with pytest.raises(EngineTimeout) as caught:
            pg.restore_to_scratch(admin, slow.stdout, timeout=0.5)
        assert time.monotonic() - started < 10
        assert caught.value.reason == "timeout"
        assert "0.5 s" in str(caught.value)
    finally:
        slow.kill()
        slow.wait()


def test_a_slow_parallel_restore_is_killed_with_its_workers(
    admin: DbSpec, big_source: DbSpec, tmp_path: Path, no_new_leaks: None
):
    path = tmp_path / "big.dump"
    pg.dump(big_source, path, timeout=60)
    started = time.monotonic()
    with pytest.raises(EngineTimeout):
        pg.restore_to_scratch(admin, path, timeout=0.5, jobs=2)
    assert time.monotonic() - started < 15
    assert not [p for p in _processes() if "pg_restore" in p and str(path) in p]


def _processes() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:
                continue
    return found


def test_get_engine_gives_this_module():
    assert get_engine("postgresql") is pg
    assert get_engine("postgres") is pg


class _FullDisk(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_is_reported_and_pg_dump_stopped(source: DbSpec):
    with pytest.raises(EngineError) as caught:
        pg.dump(source, _FullDisk(), timeout=60)  # type: ignore[arg-type]
    assert caught.value.reason == "disk_full"
    assert "No space left" in str(caught.value)
    assert not _children_named("pg_dump")


def test_a_dump_out_of_time_is_a_timeout_and_leaves_no_file(big_source: DbSpec, tmp_path: Path):
    out = tmp_path / "slow.dump"
    with pytest.raises(EngineTimeout, match=r"did not finish within 0\.3 s"):
        pg.dump(big_source, out, timeout=0.3)
    assert not out.exists()
    assert not _children_named("pg_dump")
