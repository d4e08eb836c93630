"""SQLite: the online backup API for dumps, a checked file copy for restores.

``sqlite3.Connection.backup`` copies the database in a single step under one read
transaction, so the copy is one consistent state even while other processes write (in WAL
mode writers are not even blocked). A multi-step backup would restart whenever another
connection writes and might never finish on a busy file. The copy is switched to the
rollback journal (one self-contained file), checked with ``PRAGMA integrity_check`` and
counted — the counts are of the copy itself, so they match the backup exactly.

There is no server: "restore" copies the backup into a scratch file
``erpcare_verify_<UTC time>_<random>.sqlite`` in ``options["scratch_dir"]`` (default: the
system's temporary directory) and checks it; ``ScratchDb`` removes the file on exit.

The time budget bounds waiting for locks, copying a stream and the integrity check; the
single backup step itself cannot be interrupted (SQLite files here are ERPCare-sized).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path
from typing import IO
from urllib.parse import quote

from django.utils.translation import gettext as _

from erpcare.backups.engines import (
    CHUNK_SIZE,
    SCRATCH_PREFIX,
    Artifact,
    ClientTool,
    DbSpec,
    DumpResult,
    DumpStream,
    EngineError,
    EngineTimeout,
    ScratchDb,
    ServerVersion,
    TableStats,
    artifact_chunks,
    artifact_path,
    as_datetime,
    check_options,
    check_timeout,
    copy_stream,
    is_scratch_name,
    key_table_names,
    require_scratch_name,
    scratch_name,
    short_output,
    write_error,
)

KIND = "sqlite"
OPTIONS = ("scratch_dir",)
SUFFIX = ".sqlite"
HEADER = b"SQLite format 3\x00"
ESTIMATE_METHOD = "exact count(*) for every table (SQLite keeps no row estimates)"
# integrity_check lists at most this many problems: enough to explain, not a flood.
MAX_PROBLEMS = 10


# --------------------------------------------------------------------------- helpers


def _check_spec(spec: DbSpec, *, needs_database: bool = True) -> None:
    if spec.kind != KIND:
        raise EngineError(
            _("This is the SQLite engine; the spec is for %(kind)s.") % {"kind": spec.kind},
            reason="invalid",
        )
    check_options(spec, OPTIONS)
    if needs_database and not spec.database.strip():
        raise EngineError(_("No SQLite database file is given."), reason="invalid")


def _scratch_dir(spec: DbSpec) -> Path:
    directory = Path(spec.options.get("scratch_dir") or tempfile.gettempdir())
    if not directory.is_dir():
        raise EngineError(
            _("The scratch directory %(path)s does not exist.") % {"path": directory},
            reason="invalid",
        )
    return directory


def _source_path(spec: DbSpec) -> Path:
    path = Path(spec.database).expanduser()
    if not path.is_file():
        # Checked first: sqlite3 would only say "unable to open database file".
        raise EngineError(
            _("The SQLite database file %(path)s does not exist.") % {"path": spec.database},
            reason="missing_database",
        )
    return path


def _sqlite_error(path: Path | str, exc: sqlite3.Error, *, expired: bool = False) -> EngineError:
    detail = str(exc)
    low = detail.lower()
    if expired or low == "interrupted":
        return EngineTimeout(
            _("SQLite did not finish with %(path)s in time: %(error)s")
            % {"path": path, "error": detail}
        )
    if "disk is full" in low or "disk full" in low:
        return EngineError(
            _("No space left while writing %(path)s: %(error)s") % {"path": path, "error": detail},
            reason="disk_full",
        )
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return EngineError(
            _("%(path)s is not a usable SQLite database: %(error)s")
            % {"path": path, "error": detail},
            reason="corrupt",
        )
    if "locked" in low or "busy" in low:
        return EngineTimeout(
            _("%(path)s stayed locked by another writer: %(error)s")
            % {"path": path, "error": detail}
        )
    return EngineError(_("SQLite failed on %(path)s: %(error)s") % {"path": path, "error": detail})


def _open_readonly(path: Path, timeout: float) -> sqlite3.Connection:
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        return sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise _sqlite_error(path, exc) from None


def _deadline_handler(conn: sqlite3.Connection, deadline: float) -> Callable[[], bool]:
    """Interrupt long statements on ``conn`` once ``deadline`` has passed."""

    def expired() -> bool:
        return time.monotonic() > deadline

    conn.set_progress_handler(expired, 10_000)
    return expired


def _integrity_problems(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(f"PRAGMA integrity_check({MAX_PROBLEMS})").fetchall()
    problems = [str(row[0]) for row in rows]
    return [] if problems == ["ok"] else problems


def _check_integrity(conn: sqlite3.Connection, path: Path | str, deadline: float) -> None:
    expired = _deadline_handler(conn, deadline)
    try:
        problems = _integrity_problems(conn)
    except sqlite3.Error as exc:
        raise _sqlite_error(path, exc, expired=expired()) from None
    finally:
        conn.set_progress_handler(None, 0)
    if problems:
        detail = short_output("\n".join(problems))
        raise EngineError(
            _("The SQLite copy failed its integrity check: %(error)s") % {"error": detail},
            reason="corrupt",
            detail=detail,
        )


def _remove(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        with suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


# --------------------------------------------------------------------------- versions


def client_versions() -> list[ClientTool]:
    """The SQLite library in this Python: the only "client" SQLite needs."""
    version = sqlite3.sqlite_version
    series = tuple(int(n) for n in version.split(".")[:1])
    return [ClientTool("sqlite3", "", version, series, KIND)]


def server_version(spec: DbSpec, *, timeout: float = 30.0) -> ServerVersion:
    """The SQLite library's version, after checking the file is a database."""
    _check_spec(spec)
    path = _source_path(spec)
    conn = _open_readonly(path, check_timeout(timeout))
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise _sqlite_error(path, exc) from None
    finally:
        conn.close()
    version = sqlite3.sqlite_version
    return ServerVersion(KIND, f"SQLite {version}", (int(version.split(".")[0]),))


def check_versions(spec: DbSpec, *, server: ServerVersion | None = None) -> ClientTool:
    """Always the built-in library: any SQLite 3 reads any SQLite 3 file."""
    del spec, server
    return client_versions()[0]


# --------------------------------------------------------------------------- row counts


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%'"
        " ESCAPE '\\' ORDER BY name"
    ).fetchall()
    return [str(row[0]) for row in rows]


def _count(conn: sqlite3.Connection, table: str) -> int:
    quoted = '"' + table.replace('"', '""') + '"'
    return int(conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0])  # noqa: S608


def _stats(
    conn: sqlite3.Connection,
    path: Path,
    key_tables: Iterable[str] | None,
    newest_document_sql: str | None,
    deadline: float,
    *,
    same_snapshot: bool,
) -> TableStats:
    keys = key_table_names(key_tables)
    expired = _deadline_handler(conn, deadline)
    try:
        conn.execute("BEGIN")  # one snapshot for all counts
        tables = _tables(conn)
        lowered = {t.lower(): t for t in tables}
        counts = {table: _count(conn, table) for table in tables}
        exact = [lowered[k.lower()] for k in keys if k.lower() in lowered]
        missing = [k for k in keys if k.lower() not in lowered]
        newest, newest_error = None, ""
        if newest_document_sql and newest_document_sql.strip():
            try:
                row = conn.execute(newest_document_sql).fetchone()
                newest = as_datetime(row[0] if row else None)
            except sqlite3.Error as exc:
                newest_error = short_output(str(exc))
            except EngineError as exc:
                newest_error = exc.message
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise _sqlite_error(path, exc, expired=expired()) from None
    finally:
        conn.set_progress_handler(None, 0)
    return TableStats(
        engine=KIND,
        taken_at=dt.datetime.now(dt.UTC),
        tables=tuple(tables),
        row_counts=counts,
        exact=tuple(exact),
        missing=tuple(missing),
        estimate_method=ESTIMATE_METHOD,
        newest_document=newest,
        newest_document_error=newest_error,
        same_snapshot=same_snapshot,
    )


def table_stats(
    spec: DbSpec,
    *,
    key_tables: Iterable[str] = (),
    newest_document_sql: str | None = None,
    timeout: float = 300.0,
) -> TableStats:
    """Every table's exact row count (``key_tables`` are listed in ``exact`` and checked
    to exist) and the newest-document query's answer, in one read snapshot."""
    _check_spec(spec)
    limit = check_timeout(timeout)
    path = _source_path(spec)
    conn = _open_readonly(path, limit)
    try:
        return _stats(
            conn,
            path,
            key_tables,
            newest_document_sql,
            time.monotonic() + limit,
            same_snapshot=False,
        )
    finally:
        conn.close()


def table_row_counts(
    spec: DbSpec, tables: Iterable[str], *, timeout: float = 300.0
) -> dict[str, int | None]:
    """Exact row counts of ``tables``; None for a table that does not exist."""
    _check_spec(spec)
    names = key_table_names(tables)
    limit = check_timeout(timeout)
    path = _source_path(spec)
    conn = _open_readonly(path, limit)
    expired = _deadline_handler(conn, time.monotonic() + limit)
    try:
        conn.execute("BEGIN")
        lowered = {t.lower(): t for t in _tables(conn)}
        return {
            name: (_count(conn, lowered[name.lower()]) if name.lower() in lowered else None)
            for name in names
        }
    except sqlite3.Error as exc:
        raise _sqlite_error(path, exc, expired=expired()) from None
    finally:
        conn.close()


# --------------------------------------------------------------------------- dump


def _backup_into(
    spec: DbSpec,
    target: Path,
    *,
    timeout: float,
    key_tables: Iterable[str] | None,
    newest_document_sql: str | None,
) -> TableStats | None:
    """Back the database up into ``target`` (a new file), check it and count its rows."""
    limit = check_timeout(timeout)
    deadline = time.monotonic() + limit
    source = _source_path(spec)
    src = _open_readonly(source, limit)
    try:
        dst = sqlite3.connect(target, isolation_level=None)
        try:
            try:
                src.backup(dst)  # pages=-1: one step, one consistent state
            except sqlite3.Error as exc:
                raise _sqlite_error(source, exc) from None
            if time.monotonic() > deadline:
                raise EngineTimeout(
                    _("The SQLite backup of %(path)s did not finish within %(seconds)s s.")
                    % {"path": source, "seconds": f"{limit:g}"}
                )
            try:
                # A WAL source gives a WAL copy; the artifact must be one self-contained file.
                dst.execute("PRAGMA journal_mode = DELETE")
            except sqlite3.Error as exc:
                raise _sqlite_error(target, exc) from None
            _check_integrity(dst, target, deadline)
            if key_tables is None and not newest_document_sql:
                return None
            return _stats(
                dst, target, key_tables, newest_document_sql, deadline, same_snapshot=True
            )
        finally:
            dst.close()
    finally:
        src.close()


def open_dump(
    spec: DbSpec,
    *,
    timeout: float,
    key_tables: Iterable[str] | None = None,
    newest_document_sql: str | None = None,
) -> DumpStream:
    """Back up into a temporary file in the scratch directory (checked and counted) and
    return it as a stream; the file is removed when the stream is closed."""
    _check_spec(spec)
    fd, name = tempfile.mkstemp(prefix=".erpcare-dump-", suffix=SUFFIX, dir=_scratch_dir(spec))
    os.close(fd)
    temp = Path(name)
    temp.unlink()  # sqlite3 creates it; an empty file would be taken as a database
    try:
        stats = _backup_into(
            spec,
            temp,
            timeout=timeout,
            key_tables=key_tables,
            newest_document_sql=newest_document_sql,
        )
        handle = temp.open("rb")
    finally:
        # Whoever reads the stream has the file open: its name can go now.
        _remove(temp)

    def finish() -> str:
        handle.close()
        return ""

    return DumpStream(
        handle,
        finish=finish,
        abort=handle.close,
        tool=f"sqlite3 {sqlite3.sqlite_version}",
        server=f"SQLite {sqlite3.sqlite_version}",
        format="sqlite",
        stats=stats,
    )


def dump(
    spec: DbSpec,
    out: str | os.PathLike[str] | IO[bytes],
    *,
    timeout: float,
    key_tables: Iterable[str] | None = None,
    newest_document_sql: str | None = None,
) -> DumpResult:
    """Back up into a new file (written next to it and renamed when checked; an existing
    file is refused) or into a writable binary stream."""
    if not isinstance(out, str | os.PathLike):
        stream = open_dump(
            spec, timeout=timeout, key_tables=key_tables, newest_document_sql=newest_document_sql
        )
        return copy_stream(stream, out, _("the dump"))
    _check_spec(spec)
    path = Path(out)
    if path.exists():
        raise EngineError(
            _("%(path)s already exists; a dump never overwrites a file.") % {"path": path},
            reason="invalid",
        )
    if not path.parent.is_dir():
        raise EngineError(
            _("The directory %(path)s does not exist.") % {"path": path.parent}, reason="invalid"
        )
    started = time.monotonic()
    temp = path.with_name(f".{path.name}.part")
    _remove(temp)
    try:
        stats = _backup_into(
            spec,
            temp,
            timeout=timeout,
            key_tables=key_tables,
            newest_document_sql=newest_document_sql,
        )
        os.replace(temp, path)
    except OSError as exc:
        _remove(temp)
        raise write_error(exc, str(path)) from exc
    except BaseException:
        _remove(temp)
        raise
    return DumpResult(
        size=path.stat().st_size,
        seconds=round(time.monotonic() - started, 3),
        tool=f"sqlite3 {sqlite3.sqlite_version}",
        server=f"SQLite {sqlite3.sqlite_version}",
        format="sqlite",
        stats=stats,
    )


# --------------------------------------------------------------------------- restore


def restore_to_scratch(
    spec_admin: DbSpec, artifact: Artifact, *, timeout: float, jobs: int = 1
) -> ScratchDb:
    """Copy the backup into a new scratch file and check it (SQLite header, then
    ``PRAGMA integrity_check``). ``spec_admin`` only gives ``options["scratch_dir"]``.
    A failed check removes the file before raising; the returned ``ScratchDb`` removes
    it on exit."""
    del jobs
    _check_spec(spec_admin, needs_database=False)
    limit = check_timeout(timeout)
    source = artifact_path(artifact)
    started = time.monotonic()
    deadline = started + limit
    target = _scratch_dir(spec_admin) / f"{scratch_name()}{SUFFIX}"

    def drop() -> None:
        _remove(target)

    try:
        try:
            with target.open("xb") as out:
                if source is not None:
                    with source.open("rb") as handle:
                        shutil.copyfileobj(handle, out, CHUNK_SIZE)
                else:
                    for chunk in artifact_chunks(artifact):  # type: ignore[arg-type]
                        out.write(chunk)
                        if time.monotonic() > deadline:
                            raise EngineTimeout(
                                _("The restore did not finish within %(seconds)s s.")
                                % {"seconds": f"{limit:g}"}
                            )
        except OSError as exc:
            raise write_error(exc, str(target)) from exc
        with target.open("rb") as check:
            if check.read(len(HEADER)) != HEADER:
                raise EngineError(
                    _("The backup is not an SQLite database (no SQLite header)."),
                    reason="corrupt",
                )
        # Messages name the backup: the scratch file is gone by the time anyone reads them.
        label = _("The backup")
        try:
            conn = sqlite3.connect(target, isolation_level=None)
        except sqlite3.Error as exc:
            raise _sqlite_error(label, exc) from None
        try:
            _check_integrity(conn, label, deadline)
        finally:
            conn.close()
        seconds = round(time.monotonic() - started, 3)
    except BaseException:
        drop()
        raise
    return ScratchDb(
        spec=DbSpec(kind=KIND, database=str(target), options=dict(spec_admin.options)),
        name=target.stem,
        seconds=seconds,
        tool=f"sqlite3 {sqlite3.sqlite_version}",
        drop=drop,
    )


def drop_scratch_database(spec_admin: DbSpec, name: str) -> None:
    """Remove scratch file ``name`` (its stem, as ``ScratchDb.name``) if it exists."""
    _check_spec(spec_admin, needs_database=False)
    require_scratch_name(name)
    _remove(_scratch_dir(spec_admin) / f"{name}{SUFFIX}")


def leaked_scratch_databases(spec_admin: DbSpec) -> list[str]:
    """Scratch files left in the scratch directory (names without the suffix)."""
    _check_spec(spec_admin, needs_database=False)
    directory = _scratch_dir(spec_admin)
    return sorted(
        path.stem
        for path in directory.glob(f"{SCRATCH_PREFIX}*{SUFFIX}")
        if is_scratch_name(path.stem)
    )
