"""The SQLite engine on real files: online backups while another thread writes in WAL
mode, restores into scratch files that are always removed, corrupt copies caught."""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from erpcare.backups.engines import (
    DbSpec,
    EngineError,
    TableStats,
    get_engine,
    is_scratch_name,
)
from erpcare.backups.engines import sqlite as lite

BATCH = 10  # rows per writer transaction
PAGE = 4096


def _make_erp(path: Path, moves: int = 3000) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(
        f"""
        PRAGMA page_size = {PAGE};
        PRAGMA journal_mode = WAL;
        CREATE TABLE account_account (id INTEGER PRIMARY KEY, code TEXT UNIQUE, name TEXT);
        CREATE TABLE account_move (id INTEGER PRIMARY KEY, batch INTEGER NOT NULL,
                                   create_date TEXT NOT NULL, note TEXT);
        CREATE TABLE account_move_line (id INTEGER PRIMARY KEY, move INTEGER NOT NULL
                                        REFERENCES account_move, debit REAL, credit REAL);
        CREATE INDEX account_move_batch ON account_move (batch);
        """
    )
    with conn:
        conn.executemany(
            "INSERT INTO account_account (code, name) VALUES (?, ?)",
            [(f"A{i}", f"Account {i}") for i in range(50)],
        )
        conn.executemany(
            "INSERT INTO account_move (id, batch, create_date, note) VALUES (?, ?, ?, ?)",
            [
                (i, (i - 1) // BATCH, "2026-01-01T00:00:00+00:00", "x" * 400)
                for i in range(1, moves + 1)
            ],
        )
        conn.execute(
            "UPDATE account_move SET create_date = '2026-03-01 10:30:00' WHERE id = ?", [moves]
        )
        conn.executemany(
            "INSERT INTO account_move_line (move, debit, credit) VALUES (?, ?, ?)",
            [(i, 10.0, 0.0) for i in range(1, moves + 1)],
        )
    conn.close()


@pytest.fixture
def erp(tmp_path: Path) -> DbSpec:
    path = tmp_path / "erp.sqlite"
    _make_erp(path)
    return DbSpec(kind="sqlite", database=str(path))


@pytest.fixture
def admin(tmp_path: Path) -> Iterator[DbSpec]:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    spec = DbSpec(kind="sqlite", options={"scratch_dir": str(scratch)})
    yield spec
    assert lite.leaked_scratch_databases(spec) == []
    assert list(scratch.iterdir()) == []


def _consistent(path: Path) -> int:
    """The copy's move count, after checking it holds whole writer transactions only."""
    conn = sqlite3.connect(path)
    try:
        count, top, batches = conn.execute(
            "SELECT count(*), max(id), count(DISTINCT batch) FROM account_move"
        ).fetchone()
        (lines,) = conn.execute("SELECT count(*) FROM account_move_line").fetchone()
    finally:
        conn.close()
    assert count == top  # no gaps: nothing half-copied
    assert count % BATCH == 0  # only whole transactions
    assert batches * BATCH == count
    assert lines == count  # each move's line came with it (same transaction)
    return int(count)


def test_online_backup_while_a_writer_inserts_in_wal_mode(erp: DbSpec, tmp_path: Path):
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        conn = sqlite3.connect(erp.database, timeout=10)
        next_id = 3001
        while not stop.is_set():
            with conn:
                rows = range(next_id, next_id + BATCH)
                conn.executemany(
                    "INSERT INTO account_move (id, batch, create_date, note)"
                    " VALUES (?, ?, '2026-03-02', ?)",
                    [(i, (i - 1) // BATCH, "y" * 400) for i in rows],
                )
                conn.executemany(
                    "INSERT INTO account_move_line (move, debit, credit) VALUES (?, 1, 0)",
                    [(i,) for i in rows],
                )
            next_id += BATCH
            written.append(next_id - 1)
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    counts = []
    try:
        while len(written) < 5:
            time.sleep(0.01)
        for n in range(4):
            out = tmp_path / f"copy{n}.sqlite"
            result = lite.dump(erp, out, timeout=30, key_tables=["account_move"])
            assert result.stats is not None
            assert result.stats.same_snapshot
            counted = _consistent(out)
            assert result.stats.row_counts["account_move"] == counted
            counts.append(counted)
            conn = sqlite3.connect(out)
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            conn.close()
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join()
    assert counts == sorted(counts)
    assert counts[-1] > counts[0], "the writer made no progress during the backups"
    assert counts[-1] <= written[-1]
    assert not list(tmp_path.glob(".*part*"))


def test_dump_restore_counts_equal_and_scratch_removed(erp: DbSpec, admin: DbSpec, tmp_path: Path):
    out = tmp_path / "erp.backup"
    result = lite.dump(
        erp,
        out,
        timeout=30,
        key_tables=["account_move", "Account_Account", "nope"],
        newest_document_sql="SELECT max(create_date) FROM account_move",
    )
    stats = result.stats
    assert stats is not None
    assert stats.exact == ("account_move", "account_account")
    assert stats.missing == ("nope",)
    assert stats.row_counts == {
        "account_account": 50,
        "account_move": 3000,
        "account_move_line": 3000,
    }
    assert stats.newest_document == dt.datetime(2026, 3, 1, 10, 30, tzinfo=dt.UTC)
    assert TableStats.from_dict(stats.as_dict()) == stats
    assert result.format == "sqlite"

    with lite.restore_to_scratch(admin, out, timeout=30) as scratch:
        assert is_scratch_name(scratch.name)
        assert lite.leaked_scratch_databases(admin) == [scratch.name]
        assert Path(scratch.spec.database).is_file()
        counts = lite.table_row_counts(scratch.spec, ["account_move", "account_move_line", "x"])
        assert counts == {"account_move": 3000, "account_move_line": 3000, "x": None}
    assert scratch.dropped
    assert not Path(scratch.spec.database).exists()


def test_stream_dump_and_restore_from_a_stream(erp: DbSpec, admin: DbSpec):
    with lite.open_dump(erp, timeout=30) as stream:
        data = stream.reader.read()
    assert data.startswith(lite.HEADER)
    assert stream.result.size == len(data)
    assert not list(Path(admin.options["scratch_dir"]).iterdir())
    with lite.restore_to_scratch(admin, io.BytesIO(data), timeout=30) as scratch:
        assert lite.table_row_counts(scratch.spec, ["account_move"]) == {"account_move": 3000}


def test_a_corrupt_copy_is_detected_and_removed(erp: DbSpec, admin: DbSpec, tmp_path: Path):
    good = tmp_path / "good.backup"
    lite.dump(erp, good, timeout=30)
    data = bytearray(good.read_bytes())
    conn = sqlite3.connect(good)
    (root,) = conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'account_move_line'"
    ).fetchone()
    conn.close()
    # Scribble over the move lines' root page: a torn write, a bad sector.
    start = (root - 1) * PAGE
    data[start + 8 : start + PAGE] = b"\xa5" * (PAGE - 8)
    bad = tmp_path / "bad.backup"
    bad.write_bytes(bytes(data))
    with pytest.raises(EngineError) as caught:
        lite.restore_to_scratch(admin, bad, timeout=30)
    assert caught.value.reason == "corrupt"
    assert "integrity check" in str(caught.value) or "not a usable" in str(caught.value)

    truncated = tmp_path / "truncated.backup"
    truncated.write_bytes(bytes(good.read_bytes()[: len(data) // 2]))
    with pytest.raises(EngineError) as cut:
        lite.restore_to_scratch(admin, truncated, timeout=30)
    assert cut.value.reason == "corrupt"

    with pytest.raises(EngineError, match="not an SQLite database") as garbage:
        lite.restore_to_scratch(admin, io.BytesIO(b"PGDMP not sqlite"), timeout=30)
    assert garbage.value.reason == "corrupt"


def test_bad_inputs_are_named(erp: DbSpec, admin: DbSpec, tmp_path: Path):
    with pytest.raises(EngineError) as missing:
        lite.dump(
            DbSpec(kind="sqlite", database=str(tmp_path / "nope.db")), tmp_path / "o", timeout=5
        )
    assert missing.value.reason == "missing_database"
    assert "nope.db" in str(missing.value)
    not_db = tmp_path / "text.db"
    not_db.write_text("hello, I am not a database" * 100)
    with pytest.raises(EngineError) as garbage:
        lite.dump(DbSpec(kind="sqlite", database=str(not_db)), tmp_path / "o", timeout=5)
    assert garbage.value.reason == "corrupt"
    assert not (tmp_path / "o").exists()
    (tmp_path / "exists").write_bytes(b"")
    with pytest.raises(EngineError, match="never overwrites"):
        lite.dump(erp, tmp_path / "exists", timeout=5)
    with pytest.raises(EngineError, match="Unknown sqlite option"):
        lite.table_stats(DbSpec(kind="sqlite", database=erp.database, options={"dir": "x"}))
    with pytest.raises(EngineError, match="not an ERPCare scratch database"):
        lite.drop_scratch_database(admin, "erp")
    with pytest.raises(EngineError, match="scratch directory"):
        lite.restore_to_scratch(
            DbSpec(kind="sqlite", options={"scratch_dir": str(tmp_path / "none")}),
            tmp_path / "exists",
            timeout=5,
        )


def test_a_bad_newest_document_query_is_recorded(erp: DbSpec):
    stats = lite.table_stats(erp, newest_document_sql="SELECT max(nope) FROM account_move")
    assert stats.newest_document is None
    assert "no such column" in stats.newest_document_error
    text = lite.table_stats(erp, newest_document_sql="SELECT 'soon'")
    assert "not a date or time" in text.newest_document_error


def test_versions_and_engine_lookup(erp: DbSpec):
    assert lite.server_version(erp).text == f"SQLite {sqlite3.sqlite_version}"
    assert lite.check_versions(erp).version == sqlite3.sqlite_version
    assert get_engine("sqlite") is lite
