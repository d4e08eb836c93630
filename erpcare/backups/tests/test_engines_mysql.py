"""The MySQL/MariaDB engine against a real MariaDB (``inspections/tests/mariadb_server.py``),
dumped with the real ``mariadb-dump`` and restored with the real ``mariadb`` client.

Skipped, with the reason shown, when MariaDB's server or PyMySQL is not installed."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from erpcare.backups.engines import (
    ClientMissing,
    DbSpec,
    EngineError,
    EngineTimeout,
    ServerVersion,
    VersionMismatch,
    get_engine,
    is_scratch_name,
    mysql,
)
from erpcare.inspections.tests import mariadb_server

pytest.importorskip("pymysql", reason="PyMySQL is not installed (pip install 'erpcare[mysql]')")

# Quotes, a backslash, a hash and spaces: the option file must carry them unchanged.
PASSWORD = "p\"w\\ #x y'z"
KEY_TABLES = ["account_account", "account_move", "account_move_line"]
COUNTS = {"account_account": 40, "account_move": 800, "account_move_line": 2400}
NEWEST_SQL = "SELECT MAX(create_date) FROM account_move"

SCHEMA = [
    "CREATE TABLE account_account (id INT PRIMARY KEY, code VARCHAR(20) NOT NULL UNIQUE,"
    " name VARCHAR(100) NOT NULL) ENGINE=InnoDB",
    "CREATE TABLE account_move (id INT PRIMARY KEY, date DATE NOT NULL,"
    " state VARCHAR(10) NOT NULL, ref VARCHAR(40), create_date DATETIME NOT NULL,"
    " attachment VARBINARY(16)) ENGINE=InnoDB",
    "CREATE TABLE account_move_line (id INT AUTO_INCREMENT PRIMARY KEY,"
    " move INT NOT NULL, account INT NOT NULL, debit DECIMAL(16,2) NOT NULL DEFAULT 0,"
    " credit DECIMAL(16,2) NOT NULL DEFAULT 0, partner VARCHAR(100),"
    " FOREIGN KEY (move) REFERENCES account_move (id),"
    " FOREIGN KEY (account) REFERENCES account_account (id)) ENGINE=InnoDB",
    "CREATE VIEW trial_balance AS SELECT a.code, SUM(l.debit) AS debit, SUM(l.credit) AS credit"
    " FROM account_move_line l JOIN account_account a ON a.id = l.account GROUP BY a.code",
    "CREATE TRIGGER account_move_ref BEFORE INSERT ON account_move FOR EACH ROW"
    " SET NEW.ref = COALESCE(NEW.ref, CONCAT('M', NEW.id))",
    "CREATE PROCEDURE move_total(IN m INT, OUT total DECIMAL(16,2))"
    " SELECT SUM(debit) INTO total FROM account_move_line WHERE move = m",
    "CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM account_move WHERE 0",
    "INSERT INTO account_account SELECT seq, CONCAT('A', seq), CONCAT('Account ', seq)"
    " FROM seq_1_to_40",
    "INSERT INTO account_move (id, date, state, create_date, attachment)"
    " SELECT seq, DATE '2026-01-01' + INTERVAL seq % 300 DAY, 'posted',"
    " TIMESTAMP '2026-01-01 08:00:00' + INTERVAL seq HOUR, UNHEX('00FF10') FROM seq_1_to_800",
    "INSERT INTO account_move_line (move, account, debit, credit, partner)"
    " SELECT m.seq, 1 + (m.seq + s.seq) % 40, IF(s.seq = 0, 100 + m.seq, 0),"
    " IF(s.seq = 0, 0, (100 + m.seq) / 2), CONCAT('Partner ', m.seq % 37)"
    " FROM seq_1_to_800 m, seq_0_to_2 s",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[mariadb_server.MariaDB]:
    if mariadb_server.binary() is None:
        pytest.skip("MariaDB is not installed (apt install mariadb-server): no server to test on")
    db = mariadb_server.MariaDB(tmp_path_factory.mktemp("mariadb"))
    db.start()
    try:
        yield db
    finally:
        db.stop()


@pytest.fixture(scope="module")
def admin(server: mariadb_server.MariaDB) -> DbSpec:
    quoted = PASSWORD.replace("\\", "\\\\").replace("'", "\\'")
    server.execute(
        f"CREATE USER 'backup'@'127.0.0.1' IDENTIFIED BY '{quoted}'",
        "GRANT ALL PRIVILEGES ON *.* TO 'backup'@'127.0.0.1'",
    )
    return DbSpec(
        kind="mariadb", host="127.0.0.1", port=server.port, user="backup", password=PASSWORD
    )


@pytest.fixture(scope="module")
def source(server: mariadb_server.MariaDB, admin: DbSpec) -> DbSpec:
    server.execute("CREATE DATABASE erp", "USE erp", *SCHEMA, "ANALYZE TABLE account_move_line")
    return admin.with_database("erp")


@pytest.fixture(scope="module")
def dump_file(source: DbSpec, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mysqldump") / "erp.sql"
    mysql.dump(source, path, timeout=60)
    return path


@pytest.fixture
def no_new_leaks(admin: DbSpec) -> Iterator[None]:
    before = set(mysql.leaked_scratch_databases(admin))
    yield
    assert set(mysql.leaked_scratch_databases(admin)) <= before


def test_version_check_passes_and_mismatches_are_named(source: DbSpec):
    server = mysql.server_version(source)
    assert server.flavor == "mariadb"
    client = mysql.check_versions(source)
    assert client.flavor == "mariadb"
    assert client.series >= server.series
    newer = ServerVersion("mariadb", "MariaDB 99.1.0", (99, 1))
    with pytest.raises(VersionMismatch) as caught:
        mysql.check_versions(source, server=newer)
    assert "MariaDB 99.1.0" in str(caught.value)
    assert client.version in str(caught.value)
    assert "99.1 or newer" in str(caught.value)
    other = ServerVersion("mysql", "MySQL 8.0.36", (8, 0))
    with pytest.raises(VersionMismatch, match=r"\(MariaDB\) does not match the MySQL 8.0.36"):
        mysql.check_versions(source, server=other)


def test_dump_restore_to_scratch_counts_equal_and_scratch_dropped(
    admin: DbSpec, source: DbSpec, tmp_path: Path, no_new_leaks: None
):
    path = tmp_path / "erp.sql"
    result = mysql.dump(
        source, path, timeout=60, key_tables=KEY_TABLES, newest_document_sql=NEWEST_SQL
    )
    text = path.read_text()
    assert result.size == len(text.encode())
    assert result.format == "mysql-sql"
    assert "-- Dump completed" in text
    assert "CREATE DEFINER" in text  # routines, triggers and events are in
    assert PASSWORD not in text
    assert result.stats is not None
    assert {t: result.stats.row_counts[t] for t in KEY_TABLES} == COUNTS
    assert result.stats.exact == tuple(KEY_TABLES)
    assert result.stats.newest_document == dt.datetime(2026, 2, 3, 16, 0, tzinfo=dt.UTC)
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("erpcare-my-*.cnf"))

    with mysql.restore_to_scratch(admin, path, timeout=60) as scratch:
        assert is_scratch_name(scratch.name)
        assert scratch.name in mysql.leaked_scratch_databases(admin)
        assert scratch.tool.startswith("mariadb ")
        assert mysql.table_row_counts(scratch.spec, [*KEY_TABLES, "gone"]) == {
            **COUNTS,
            "gone": None,
        }
        conn = mysql._connect(scratch.spec, timeout=10)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM trial_balance")
                assert cur.fetchone()[0] == 40
                cur.execute("SELECT HEX(attachment) FROM account_move WHERE id = 1")
                assert cur.fetchone()[0] == "00FF10"
                cur.execute(
                    "SELECT ROUTINE_NAME FROM information_schema.ROUTINES"
                    " WHERE ROUTINE_SCHEMA = DATABASE()"
                )
                assert [r[0] for r in cur.fetchall()] == ["move_total"]
                cur.execute("SHOW EVENTS")
                assert len(cur.fetchall()) == 1
                cur.execute("INSERT INTO account_move (id, date, state, create_date)"
                            " VALUES (900, CURDATE(), 'draft', NOW())")  # fmt: skip
                cur.execute("SELECT ref FROM account_move WHERE id = 900")
                assert cur.fetchone()[0] == "M900"  # the trigger came back
        finally:
            conn.close()
    assert scratch.dropped
    assert scratch.name not in mysql.leaked_scratch_databases(admin)


def test_stream_dump_and_restore_from_a_stream(admin: DbSpec, source: DbSpec, no_new_leaks: None):
    with mysql.open_dump(source, timeout=60) as stream:
        data = stream.reader.read()
    assert stream.result.size == len(data)
    with mysql.restore_to_scratch(admin, io.BytesIO(data), timeout=60) as scratch:
        assert mysql.table_row_counts(scratch.spec, ["account_move_line"]) == {
            "account_move_line": 2400
        }


def test_a_truncated_dump_fails_clearly_and_leaves_no_scratch(
    admin: DbSpec, dump_file: Path, tmp_path: Path, no_new_leaks: None
):
    data = dump_file.read_bytes()
    # Cut at a statement boundary: the client alone would restore it without complaint.
    cut_at = data.index(b"\n", len(data) // 2) + 1
    cut = tmp_path / "cut.sql"
    cut.write_bytes(data[:cut_at])
    with pytest.raises(EngineError) as from_file:
        mysql.restore_to_scratch(admin, cut, timeout=60)
    assert from_file.value.reason == "corrupt"
    assert "truncated" in str(from_file.value)
    with pytest.raises(EngineError) as from_stream:
        mysql.restore_to_scratch(admin, io.BytesIO(data[:cut_at]), timeout=60)
    assert from_stream.value.reason == "corrupt"
    # Broken in the middle of a statement: the client's own error, shortened.
    broken = tmp_path / "broken.sql"
    broken.write_bytes(data[: len(data) // 2] + b"garbage;\n" + data[-200:])
    with pytest.raises(EngineError) as syntax:
        mysql.restore_to_scratch(admin, broken, timeout=60)
    assert syntax.value.reason == "corrupt"
    assert "ERROR 1064" in str(syntax.value)


def test_a_stalled_restore_is_killed_as_a_timeout(
    admin: DbSpec, dump_file: Path, no_new_leaks: None
):
    data = dump_file.read_bytes()

    def slow() -> Iterator[bytes]:
        yield data[: len(data) // 2]
        time.sleep(3)
        yield data[len(data) // 2 :]

    started = time.monotonic()
    with pytest.raises(EngineTimeout, match=r"0\.5 s"):
        mysql.restore_to_scratch(admin, slow(), timeout=0.5)
    assert time.monotonic() - started < 3


def test_connection_errors_are_named(admin: DbSpec, source: DbSpec, tmp_path: Path):
    with pytest.raises(EngineError) as wrong:
        mysql.dump(replace(source, password="nope"), tmp_path / "x.sql", timeout=10)
    assert wrong.value.reason == "auth"
    assert "refused the login backup" in str(wrong.value)
    assert not (tmp_path / "x.sql").exists()
    with pytest.raises(EngineError) as missing:
        mysql.table_stats(admin.with_database("no_such_db"))
    assert missing.value.reason == "missing_database"
    with pytest.raises(EngineError) as unreachable:
        mysql.server_version(replace(admin, port=1), timeout=3)
    assert unreachable.value.reason == "unreachable"
    with pytest.raises(EngineError, match="Unknown mysql option"):
        mysql.server_version(replace(admin, options={"sock": "/x"}))


def test_a_missing_client_is_named(source: DbSpec, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ClientMissing, match="mariadb-dump / mysqldump is not installed"):
        mysql.dump(source, tmp_path / "x.sql", timeout=10)


def test_the_dump_tool_gets_the_password_from_a_private_file(
    source: DbSpec, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    """The password never reaches argv; the option file is 0600 and gone afterwards."""
    seen: list[tuple[list[str], str, int]] = []
    real_child = mysql.Child

    def spy(argv: list[str], **kwargs: object) -> object:
        option_file = Path(argv[1].split("=", 1)[1])
        seen.append((list(argv), option_file.read_text(), option_file.stat().st_mode & 0o777))
        return real_child(argv, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mysql, "Child", spy)
    mysql.dump(source, tmp_path / "x.sql", timeout=60)
    ((argv, content, mode),) = seen
    assert all(PASSWORD not in arg for arg in argv)
    assert argv[1].startswith("--defaults-file=")
    assert mode == 0o600
    assert "password=" in content
    assert not Path(argv[1].split("=", 1)[1]).exists()
    assert shutil.which("mariadb-dump")


def test_get_engine_gives_this_module():
    assert get_engine("mysql") is mysql
    assert get_engine("mariadb") is mysql
