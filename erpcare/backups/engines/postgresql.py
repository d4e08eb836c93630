"""PostgreSQL: ``pg_dump --format=custom``, ``pg_restore`` into a scratch database.

Dumps keep owners and privileges (the artifact is a full backup: a real recovery wants its
grants back); scratch restores drop them with ``--no-owner --no-privileges``, and also skip
tablespaces, publications, subscriptions and security labels, because the verification
server may lack those roles and tablespaces and a restored subscription must never start
pulling data. The admin login needs ``CREATEDB`` and must be able to create the extensions
the backup uses (trusted ones such as ``pg_trgm`` and ``unaccent`` are fine).

Row counts are taken in the dump's own snapshot: a ``REPEATABLE READ`` transaction exports
its snapshot, counts the key tables and runs the newest-document query, and ``pg_dump
--snapshot`` dumps exactly that state, so a restored copy must show the very same counts.
Other tables get the planner's estimate, ``pg_class.reltuples``, or
``pg_stat_user_tables.n_live_tup`` for tables never vacuumed or analyzed.

``pg_dump`` is chosen to match the server: ``/usr/lib/postgresql/<major>/bin`` of the
server's major when installed, else the one on ``PATH``, else any newer one; an older
client is refused (``pg_dump`` itself refuses newer servers).
"""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _

from erpcare.backups.engines import (
    Artifact,
    Child,
    ClientMissing,
    ClientTool,
    DbSpec,
    DumpResult,
    DumpStream,
    EngineError,
    EngineTimeout,
    Feeder,
    ScratchDb,
    ServerVersion,
    TableStats,
    VersionMismatch,
    artifact_path,
    as_datetime,
    check_options,
    check_timeout,
    clean_env,
    copy_stream,
    drop_after_failure,
    key_table_names,
    require_scratch_name,
    scratch_name,
    short_output,
    tool_version,
)

KIND = "postgresql"
OPTIONS = ("sslmode", "sslrootcert", "sslcert", "sslkey")
APPLICATION_NAME = "erpcare-backup"
DEFAULT_PORT = 5432
# Where Debian and Ubuntu install each major version's client tools.
PG_LIB = Path("/usr/lib/postgresql")
MAX_JOBS = 16
ESTIMATE_METHOD = (
    "pg_class.reltuples (pg_stat_user_tables.n_live_tup for tables never vacuumed or analyzed)"
)

_TABLES_SQL = """
SELECT n.nspname, c.relname, c.reltuples, s.n_live_tup
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
  AND n.nspname NOT LIKE 'pg\\_temp\\_%'
ORDER BY 1, 2
"""

_UNREACHABLE = (
    "connection refused",
    "could not translate host name",
    "name or service not known",
    "timeout expired",
    "no route to host",
    "network is unreachable",
    "connection timed out",
    "could not connect to server",
    "server closed the connection unexpectedly",
)
_CORRUPT = (
    "could not read from input file",
    "end of file",
    "did not find magic string",
    "unsupported version",
    "input file appears to be a text format dump",
    "input file does not appear to be a valid archive",
    "could not uncompress",
    "corrupt",
    "unrecognized data block type",
    "could not find block id",
)


# --------------------------------------------------------------------------- errors


def _classify(spec: DbSpec, text: str) -> EngineError | None:
    """A connection-level failure recognised in libpq's or a tool's message, or None."""
    low = text.lower()
    detail = short_output(text)
    if (
        "password authentication failed" in low
        or "no password supplied" in low
        or "authentication failed" in low
        or "no pg_hba.conf entry" in low
        or re.search(r'role "[^"]*" does not exist', low)
    ):
        return EngineError(
            _(
                "PostgreSQL at %(where)s refused the login %(user)s (wrong password, or no "
                "access from here): %(error)s"
            )
            % {"where": spec.where, "user": spec.user or "-", "error": detail},
            reason="auth",
            detail=detail,
        )
    missing = re.search(r'database "([^"]*)" does not exist', text)
    if missing:
        return EngineError(
            _("The database %(database)s does not exist on the PostgreSQL server at %(where)s.")
            % {"database": missing.group(1), "where": spec.where},
            reason="missing_database",
            detail=detail,
        )
    if any(marker in low for marker in _UNREACHABLE):
        return EngineError(
            _("Could not reach the PostgreSQL server at %(where)s: %(error)s")
            % {"where": spec.where, "error": detail},
            reason="unreachable",
            detail=detail,
        )
    if "no space left on device" in low or "disk full" in low:
        return EngineError(
            _("No space left on the device: %(error)s") % {"error": detail},
            reason="disk_full",
            detail=detail,
        )
    return None


def _query_error(spec: DbSpec, exc: Exception) -> EngineError:
    from psycopg import errors

    detail = getattr(getattr(exc, "diag", None), "message_primary", None) or str(exc).strip()
    if isinstance(exc, errors.QueryCanceled):
        return EngineTimeout(
            _("PostgreSQL at %(where)s did not answer in time: %(error)s")
            % {"where": spec.where, "error": detail}
        )
    return _classify(spec, detail) or EngineError(
        _("PostgreSQL at %(where)s refused a query: %(error)s")
        % {"where": spec.where, "error": detail},
        detail=detail,
    )


# --------------------------------------------------------------------------- connections


def _check_spec(spec: DbSpec, *, needs_database: bool = True) -> None:
    if spec.kind != KIND:
        raise EngineError(
            _("This is the PostgreSQL engine; the spec is for %(kind)s.") % {"kind": spec.kind},
            reason="invalid",
        )
    check_options(spec, OPTIONS)
    if needs_database and not spec.database:
        raise EngineError(_("No PostgreSQL database name is given."), reason="invalid")


def _connect(spec: DbSpec, *, timeout: float, database: str | None = None) -> Any:
    import psycopg

    ms = max(100, int(timeout * 1000))
    kwargs: dict[str, Any] = {
        "host": spec.host or "127.0.0.1",
        "port": spec.port or DEFAULT_PORT,
        "dbname": database or spec.database or "postgres",
        # libpq counts whole seconds and treats 1 as 2.
        "connect_timeout": min(30, max(2, math.ceil(timeout))),
        "application_name": APPLICATION_NAME,
        "options": f"-c statement_timeout={ms}",
        "autocommit": True,
    }
    if spec.user:
        kwargs["user"] = spec.user
    if spec.password:
        kwargs["password"] = spec.password
    for option in OPTIONS:
        if spec.options.get(option):
            kwargs[option] = spec.options[option]
    try:
        return psycopg.connect(**kwargs)
    except psycopg.Error as exc:
        detail = str(exc).strip() or type(exc).__name__
        raise _classify(spec, detail) or EngineError(
            _("Could not connect to PostgreSQL at %(where)s: %(error)s")
            % {"where": spec.where, "error": short_output(detail)},
            detail=detail,
        ) from None


def _tool_env(spec: DbSpec, database: str) -> dict[str, str]:
    """Connection settings for pg_dump/pg_restore: the password in PGPASSWORD, which only
    the child sees, never in its argv (visible to every user through ps)."""
    return clean_env(
        PGHOST=spec.host or "127.0.0.1",
        PGPORT=str(spec.port or DEFAULT_PORT),
        PGUSER=spec.user,
        PGPASSWORD=spec.password,
        PGDATABASE=database,
        PGAPPNAME=APPLICATION_NAME,
        PGCONNECT_TIMEOUT="10",
        PGSSLMODE=spec.options.get("sslmode", ""),
        PGSSLROOTCERT=spec.options.get("sslrootcert", ""),
        PGSSLCERT=spec.options.get("sslcert", ""),
        PGSSLKEY=spec.options.get("sslkey", ""),
    )


def _version_of(number: int) -> ServerVersion:
    # 150014 → 15.14; before 10: 90624 → 9.6.24
    if number >= 100000:
        major, minor = number // 10000, number % 10000
        return ServerVersion(KIND, f"PostgreSQL {major}.{minor}", (major,))
    major, minor, patch = number // 10000, number // 100 % 100, number % 100
    return ServerVersion(KIND, f"PostgreSQL {major}.{minor}.{patch}", (major, minor))


def server_version(spec: DbSpec, *, timeout: float = 30.0) -> ServerVersion:
    """The server's version, from the connection's handshake."""
    _check_spec(spec, needs_database=False)
    conn = _connect(spec, timeout=check_timeout(timeout))
    try:
        return _version_of(int(conn.info.server_version))
    finally:
        conn.close()


# --------------------------------------------------------------------------- client tools


@functools.lru_cache(maxsize=64)
def _tool_at(path: str, mtime: float) -> ClientTool | None:
    del mtime  # part of the cache key: an upgraded binary is asked again
    text = tool_version(path)
    if text is None:
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\d+(?:\.\d+)*)", text) or re.search(r"(\d+\.\d+)", text)
    if match is None:
        return None
    version = match.group(1)
    numbers = [int(n) for n in version.split(".")]
    series = (numbers[0],) if numbers[0] >= 10 else tuple(numbers[:2])
    return ClientTool(Path(path).name, path, version, series, KIND)


def _candidates(tool: str) -> list[ClientTool]:
    """Installed copies of ``tool``: each major's from PG_LIB, then the one on PATH."""
    paths = [str(p) for p in sorted(PG_LIB.glob(f"*/bin/{tool}")) if os.access(p, os.X_OK)]
    on_path = shutil.which(tool)
    if on_path and on_path not in paths:
        paths.append(on_path)
    found: list[ClientTool] = []
    for path in paths:
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            continue
        client = _tool_at(path, mtime)
        if client is not None:
            found.append(client)
    return found


def _in_lib(client: ClientTool) -> bool:
    return Path(client.path).is_relative_to(PG_LIB)


def client_versions() -> list[ClientTool]:
    """Every pg_dump and pg_restore found."""
    return _candidates("pg_dump") + _candidates("pg_restore")


def choose_client(tool: str, server: ServerVersion) -> ClientTool:
    """The ``pg_dump`` or ``pg_restore`` to use with ``server``.

    The server's own major from PG_LIB first, then the one on PATH when it is at least as
    new, then the oldest newer one from PG_LIB. ``pg_dump`` older than the server is refused
    with what to install; ``pg_restore`` falls back to the newest found (its own error
    names an archive it cannot read)."""
    found = _candidates(tool)
    major = server.series_text
    if not found:
        raise ClientMissing(
            _(
                "%(tool)s is not installed on the ERPCare server: install the PostgreSQL "
                "client tools, version %(major)s or newer (Debian/Ubuntu: apt install "
                "postgresql-client-%(major)s)."
            )
            % {"tool": tool, "major": major}
        )
    for client in found:
        if _in_lib(client) and client.series == server.series:
            return client
    for client in found:
        if not _in_lib(client) and client.series >= server.series:
            return client
    newer = sorted((c for c in found if c.series >= server.series), key=lambda c: c.series)
    if newer:
        return newer[0]
    if tool == "pg_restore":
        return max(found, key=lambda c: c.series)
    raise VersionMismatch(
        _(
            "%(tool)s %(client)s cannot back up %(server)s: the client's major version must be "
            "at least the server's. Install the PostgreSQL %(major)s client tools (Debian/"
            "Ubuntu: apt install postgresql-client-%(major)s). Found: %(found)s."
        )
        % {
            "tool": tool,
            "client": max(found, key=lambda c: c.series).version,
            "server": server.text,
            "major": major,
            "found": ", ".join(f"{c.path} ({c.version})" for c in found),
        }
    )


def check_versions(spec: DbSpec, *, server: ServerVersion | None = None) -> ClientTool:
    """The pg_dump for this server (``server`` given: no connection is made)."""
    if server is None:
        server = server_version(spec)
    return choose_client("pg_dump", server)


# --------------------------------------------------------------------------- row counts


def _qualified(schema: str, table: str) -> str:
    return table if schema == "public" else f"{schema}.{table}"


def _list_tables(conn: Any) -> dict[str, tuple[str, str, float, int | None]]:
    rows = conn.execute(_TABLES_SQL).fetchall()
    return {_qualified(r[0], r[1]): (r[0], r[1], float(r[2]), r[3]) for r in rows}


def _resolve(name: str, tables: dict[str, Any]) -> str | None:
    key = name[len("public.") :] if name.startswith("public.") else name
    return key if key in tables else None


def _count(conn: Any, schema: str, table: str) -> int:
    from psycopg import sql

    row = conn.execute(
        sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
    ).fetchone()
    return int(row[0])


def _newest_document(conn: Any, query: str) -> tuple[Any, str]:
    """The query's first value, inside a savepoint so that a bad query leaves the snapshot
    transaction usable; (value, error)."""
    import psycopg

    conn.execute("SAVEPOINT erpcare_newest")
    try:
        row = conn.execute(query).fetchone()
        conn.execute("RELEASE SAVEPOINT erpcare_newest")
    except psycopg.Error as exc:
        conn.execute("ROLLBACK TO SAVEPOINT erpcare_newest")
        detail = getattr(getattr(exc, "diag", None), "message_primary", None) or str(exc)
        return None, short_output(detail)
    return (row[0] if row else None), ""


def _stats(
    spec: DbSpec,
    conn: Any,
    key_tables: Iterable[str] | None,
    newest_document_sql: str | None,
    *,
    same_snapshot: bool,
) -> TableStats:
    """Counts inside the transaction already open on ``conn``."""
    import datetime as dt

    import psycopg

    keys = key_table_names(key_tables)
    try:
        tables = _list_tables(conn)
        counts: dict[str, int] = {}
        for name, (_schema, _table, reltuples, live) in tables.items():
            if reltuples >= 0:
                counts[name] = round(reltuples)
            elif live is not None:
                counts[name] = int(live)
        exact: list[str] = []
        missing: list[str] = []
        for key in keys:
            found = _resolve(key, tables)
            if found is None:
                missing.append(key)
                continue
            schema, table, _rt, _live = tables[found]
            counts[found] = _count(conn, schema, table)
            exact.append(found)
        newest, newest_error = None, ""
        if newest_document_sql and newest_document_sql.strip():
            value, newest_error = _newest_document(conn, newest_document_sql)
            if not newest_error:
                try:
                    newest = as_datetime(value)
                except EngineError as exc:
                    newest_error = exc.message
    except psycopg.Error as exc:
        raise _query_error(spec, exc) from None
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
    """Tables with estimated row counts, exact ``count(*)`` for ``key_tables``, and the
    newest-document query's answer, all in one read-only snapshot."""
    _check_spec(spec)
    conn = _connect(spec, timeout=check_timeout(timeout))
    try:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _stats(spec, conn, key_tables, newest_document_sql, same_snapshot=False)
    finally:
        conn.close()


def table_row_counts(
    spec: DbSpec, tables: Iterable[str], *, timeout: float = 300.0
) -> dict[str, int | None]:
    """Exact row counts of ``tables`` (``schema.table``, or the bare name for ``public``);
    None for a table that does not exist. One read-only snapshot."""
    import psycopg

    _check_spec(spec)
    names = key_table_names(tables)
    conn = _connect(spec, timeout=check_timeout(timeout))
    try:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        listed = _list_tables(conn)
        counts: dict[str, int | None] = {}
        for name in names:
            found = _resolve(name, listed)
            counts[name] = None if found is None else _count(conn, *listed[found][:2])
        return counts
    except psycopg.Error as exc:
        raise _query_error(spec, exc) from None
    finally:
        conn.close()


# --------------------------------------------------------------------------- dump


class _Dump:
    """A running pg_dump with the connection that holds its snapshot."""

    def __init__(
        self,
        spec: DbSpec,
        *,
        timeout: float,
        key_tables: Iterable[str] | None,
        newest_document_sql: str | None,
        out_file: Path | None,
    ) -> None:
        import psycopg

        _check_spec(spec)
        self.spec = spec
        self.timeout = check_timeout(timeout)
        started = time.monotonic()
        self.conn = _connect(spec, timeout=self.timeout)
        try:
            self.server = _version_of(int(self.conn.info.server_version))
            self.tool = choose_client("pg_dump", self.server)
            snapshot = None
            try:
                # The transaction stays open (idle) until pg_dump has finished.
                self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                self.conn.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
                snapshot = str(self.conn.execute("SELECT pg_export_snapshot()").fetchone()[0])
            except psycopg.Error:
                # Older standbys cannot export snapshots: pg_dump takes its own.
                self.conn.execute("ROLLBACK")
                self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            self.stats = None
            if key_tables is not None or newest_document_sql:
                self.stats = _stats(
                    spec,
                    self.conn,
                    key_tables,
                    newest_document_sql,
                    same_snapshot=snapshot is not None,
                )
            remaining = self.timeout - (time.monotonic() - started)
            if remaining <= 0:
                raise self._timed_out()
            argv = [self.tool.path, "--format=custom", "--no-password"]
            if snapshot:
                argv.append(f"--snapshot={snapshot}")
            if out_file is not None:
                argv.append(f"--file={out_file}")
            self.child = Child(
                argv,
                env=_tool_env(spec, spec.database),
                timeout=remaining,
                stdout=subprocess.PIPE if out_file is None else subprocess.DEVNULL,
            )
        except BaseException:
            self.conn.close()
            raise

    def _timed_out(self) -> EngineTimeout:
        return EngineTimeout(
            _("pg_dump of %(where)s did not finish within %(seconds)s s and was stopped.")
            % {"where": self.spec.where, "seconds": f"{self.timeout:g}"}
        )

    def finish(self) -> str:
        """Wait for pg_dump; its warnings, or the error."""
        try:
            code = self.child.wait()
            stderr = self.child.stderr_text()
        finally:
            self.close()
        if self.child.timed_out.is_set():
            raise self._timed_out()
        if code != 0:
            detail = short_output(stderr) or f"exit status {code}"
            raise _classify(self.spec, stderr) or EngineError(
                _("pg_dump of %(where)s failed: %(error)s")
                % {"where": self.spec.where, "error": detail},
                detail=detail,
            )
        return stderr.strip()

    def close(self) -> None:
        self.child.close()
        with suppress(Exception):
            self.conn.close()


def open_dump(
    spec: DbSpec,
    *,
    timeout: float,
    key_tables: Iterable[str] | None = None,
    newest_document_sql: str | None = None,
) -> DumpStream:
    """Start ``pg_dump --format=custom`` (compressed) and return its output as a stream.

    With ``key_tables`` (even empty) or ``newest_document_sql``, ``stream.stats`` holds the
    counts taken in the dump's snapshot. The stream's last read raises ``EngineError`` if
    pg_dump failed or ran out of ``timeout`` seconds.

    A dump written through a pipe has no data offsets; ``pg_restore --jobs`` still
    restores it in parallel from a file, only less efficiently."""
    running = _Dump(
        spec,
        timeout=timeout,
        key_tables=key_tables,
        newest_document_sql=newest_document_sql,
        out_file=None,
    )
    stdout = running.child.proc.stdout
    assert stdout is not None
    return DumpStream(
        stdout,
        finish=running.finish,
        abort=running.close,
        tool=running.tool.label,
        server=running.server.text,
        format="postgresql-custom",
        stats=running.stats,
    )


def dump(
    spec: DbSpec,
    out: str | os.PathLike[str] | IO[bytes],
    *,
    timeout: float,
    key_tables: Iterable[str] | None = None,
    newest_document_sql: str | None = None,
) -> DumpResult:
    """Dump into a new file (pg_dump writes it itself, with data offsets for a fast
    parallel restore; an existing file is refused, a failed dump's file removed) or into a
    writable binary stream."""
    if not isinstance(out, str | os.PathLike):
        stream = open_dump(
            spec, timeout=timeout, key_tables=key_tables, newest_document_sql=newest_document_sql
        )
        return copy_stream(stream, out, _("the dump"))
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
    running = _Dump(
        spec,
        timeout=timeout,
        key_tables=key_tables,
        newest_document_sql=newest_document_sql,
        out_file=path,
    )
    try:
        warnings = running.finish()
    except BaseException:
        with suppress(FileNotFoundError):
            path.unlink()
        raise
    return DumpResult(
        size=path.stat().st_size,
        seconds=round(time.monotonic() - started, 3),
        tool=running.tool.label,
        server=running.server.text,
        format="postgresql-custom",
        stats=running.stats,
        warnings=warnings,
    )


# --------------------------------------------------------------------------- restore


def _restore_error(spec: DbSpec, code: int, stderr: str) -> EngineError:
    detail = short_output(stderr) or f"exit status {code}"
    known = _classify(spec, stderr)
    if known is not None:
        return known
    if any(marker in stderr.lower() for marker in _CORRUPT):
        return EngineError(
            _("The backup could not be restored; it is truncated or damaged: %(error)s")
            % {"error": detail},
            reason="corrupt",
            detail=detail,
        )
    return EngineError(
        _("pg_restore failed: %(error)s") % {"error": detail},
        detail=detail,
    )


def restore_to_scratch(
    spec_admin: DbSpec, artifact: Artifact, *, timeout: float, jobs: int = 2
) -> ScratchDb:
    """Create a scratch database (``TEMPLATE template0``) and ``pg_restore`` into it.

    ``spec_admin`` is a login with ``CREATEDB``; its ``database`` (default ``postgres``) is
    only where the scratch database is created from. A file path is restored with
    ``--jobs``; a stream is piped into one pg_restore (a pipe cannot be read in parallel)
    and then read to its end so that a checking reader (``artifacts.open_artifact``) runs
    its final checks. On timeout pg_restore is killed with its workers. Any failure drops
    the scratch database before raising; the returned ``ScratchDb`` drops it on exit."""
    import psycopg
    from psycopg import sql

    _check_spec(spec_admin, needs_database=False)
    limit = check_timeout(timeout)
    if not isinstance(jobs, int) or not 1 <= jobs <= MAX_JOBS:
        raise EngineError(
            _("jobs must be between 1 and %(max)s.") % {"max": MAX_JOBS}, reason="invalid"
        )
    path = artifact_path(artifact)
    started = time.monotonic()
    conn = _connect(spec_admin, timeout=limit)
    try:
        server = _version_of(int(conn.info.server_version))
        tool = choose_client("pg_restore", server)
        name = scratch_name()
        try:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
            )
        except psycopg.Error as exc:
            raise EngineError(
                _("Could not create the scratch database %(name)s on %(where)s: %(error)s")
                % {"name": name, "where": spec_admin.where, "error": _query_error(spec_admin, exc)}
            ) from None
    finally:
        conn.close()

    def drop() -> None:
        drop_scratch_database(spec_admin, name)

    try:
        remaining = limit - (time.monotonic() - started)
        if remaining <= 0:
            raise _restore_timeout(limit)
        argv = [
            tool.path,
            "--no-owner",
            "--no-privileges",
            "--no-tablespaces",
            "--no-publications",
            "--no-subscriptions",
            "--no-security-labels",
            "--exit-on-error",
            "--no-password",
            f"--dbname={name}",
        ]
        env = _tool_env(spec_admin, name)
        feeder: Feeder | None = None
        if path is not None:
            if jobs > 1:
                argv.append(f"--jobs={jobs}")
            argv.append(str(path))
            child = Child(argv, env=env, timeout=remaining)
        else:
            child = Child(argv, env=env, timeout=remaining, stdin=subprocess.PIPE)
            feeder = Feeder(child, artifact)  # type: ignore[arg-type]
        try:
            code = child.wait()
            stderr = child.stderr_text()
            if child.timed_out.is_set():
                raise _restore_timeout(limit)
            if feeder is not None:
                feeder.join(timeout=5.0 if code == 0 else 1.0)
                if feeder.error is not None:
                    raise feeder.error
            if code != 0:
                raise _restore_error(spec_admin, code, stderr)
            if feeder is not None:
                feeder.drain(limit - (time.monotonic() - started))
        finally:
            child.close()
        seconds = round(time.monotonic() - started, 3)
    except BaseException:
        drop_after_failure(drop, name)
        raise
    return ScratchDb(
        spec=spec_admin.with_database(name),
        name=name,
        seconds=seconds,
        tool=tool.label,
        drop=drop,
        warnings=stderr.strip(),
    )


def _restore_timeout(limit: float) -> EngineTimeout:
    return EngineTimeout(
        _("The restore did not finish within %(seconds)s s; pg_restore was stopped.")
        % {"seconds": f"{limit:g}"}
    )


def drop_scratch_database(spec_admin: DbSpec, name: str) -> None:
    """Drop scratch database ``name`` after ending its sessions (a killed pg_restore's
    server processes may still be building an index); nothing if it is already gone."""
    import psycopg
    from psycopg import errors, sql

    require_scratch_name(name)
    _check_spec(spec_admin, needs_database=False)
    conn = _connect(spec_admin, timeout=30.0)
    try:
        force = int(conn.info.server_version) >= 130000
        ident = sql.Identifier(name)
        # WITH (FORCE) (PostgreSQL 13+) also ends sessions that connect meanwhile.
        drop_sql = sql.SQL(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)" if force else "DROP DATABASE IF EXISTS {}"
        )
        for attempt in range(30):
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                return
            with suppress(psycopg.Error):
                conn.execute(
                    sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(ident)
                )
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            try:
                conn.execute(drop_sql.format(ident))
                return
            except errors.ObjectInUse:
                time.sleep(min(0.1 * (attempt + 1), 1.0))
        raise EngineError(
            _("The scratch database %(name)s is still in use and was not dropped; drop it by hand.")
            % {"name": name}
        )
    except psycopg.Error as exc:
        raise EngineError(
            _("Could not drop the scratch database %(name)s: %(error)s")
            % {"name": name, "error": _query_error(spec_admin, exc)}
        ) from None
    finally:
        conn.close()


def leaked_scratch_databases(spec_admin: DbSpec) -> list[str]:
    """The ``erpcare_verify_…`` databases on the server (none, unless a restore crashed)."""
    import psycopg

    _check_spec(spec_admin, needs_database=False)
    conn = _connect(spec_admin, timeout=30.0)
    try:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY datname",
            ["erpcare\\_verify\\_%"],
        ).fetchall()
    except psycopg.Error as exc:
        raise _query_error(spec_admin, exc) from None
    finally:
        conn.close()
    return [str(row[0]) for row in rows]
