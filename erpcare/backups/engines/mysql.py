"""MySQL and MariaDB: ``mariadb-dump``/``mysqldump`` to SQL text, the ``mariadb``/``mysql``
client to restore it into a scratch database.

Dumps use ``--single-transaction`` (one consistent InnoDB snapshot without locking the
tables), ``--routines --triggers --events`` (an ERP's stored code is part of it),
``--hex-blob`` (binary columns survive any client character set) and ``--no-tablespaces``
(which otherwise needs the PROCESS privilege on MySQL 8). The output is plain SQL;
compressing and encrypting it is the artifact writer's job.

The login goes to the tools in a temporary option file of mode 0600 that is deleted after
the run, never on the command line. It is given with ``--defaults-file`` rather than
``--defaults-extra-file``: an extra file is read *before* the user's ``~/.my.cnf``, whose
password or host would then silently win.

Row counts are taken just before the dump in a ``CONSISTENT SNAPSHOT`` transaction of their
own (the dump's snapshot cannot be shared): exact ``COUNT(*)`` for key tables,
``information_schema.TABLES.TABLE_ROWS`` (InnoDB's estimate) for the others.

The client must be of the server's flavour (MariaDB or MySQL) and at least its
major.minor version; anything else is reported as a mismatch naming both versions.
A restore refuses a dump without mysqldump's closing ``-- Dump completed`` line: the
client would otherwise restore a truncated file silently.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import math
import os
import re
import shutil
import subprocess
import tempfile
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

KIND = "mysql"
OPTIONS = ("socket", "ssl_ca")
DEFAULT_PORT = 3306
DUMP_TOOLS = ("mariadb-dump", "mysqldump")
RESTORE_TOOLS = ("mariadb", "mysql")
COMPLETED_MARKER = b"-- Dump completed"
ESTIMATE_METHOD = "information_schema.TABLES.TABLE_ROWS (InnoDB's estimate)"
FLAVOR_NAMES = {"mariadb": "MariaDB", "mysql": "MySQL"}
INSTALL_HINTS = {
    "mariadb": "Debian/Ubuntu: apt install mariadb-client",
    "mysql": "Ubuntu: apt install mysql-client; Debian: from MySQL's APT repository",
}

_AUTH_CODES = {1044, 1045, 1698, 1251, 2059}
_MISSING_DB_CODES = {1049}
_UNREACHABLE_CODES = {2002, 2003, 2005, 2006, 2013}
_TIMEOUT_CODES = {1969, 3024, 1317}
_DISK_FULL_CODES = {1021, 1114}


# --------------------------------------------------------------------------- errors


def _codes(text: str) -> set[int]:
    """MySQL error numbers in a tool's or a driver's message."""
    found = re.findall(r"(?:error:?\s*|ERROR\s+|\()(\d{4})\b", text, flags=re.IGNORECASE)
    return {int(code) for code in found}


def _classify(spec: DbSpec, text: str, codes: set[int] | None = None) -> EngineError | None:
    codes = _codes(text) if codes is None else codes
    low = text.lower()
    detail = short_output(text)
    if codes & _AUTH_CODES or "access denied" in low:
        return EngineError(
            _(
                "The server at %(where)s refused the login %(user)s (wrong password, or no "
                "access from here): %(error)s"
            )
            % {"where": spec.where, "user": spec.user or "-", "error": detail},
            reason="auth",
            detail=detail,
        )
    if codes & _MISSING_DB_CODES or "unknown database" in low:
        return EngineError(
            _("The database %(database)s does not exist on the server at %(where)s.")
            % {"database": spec.database, "where": spec.where},
            reason="missing_database",
            detail=detail,
        )
    if codes & _UNREACHABLE_CODES or "can't connect" in low:
        return EngineError(
            _("Could not reach the MySQL/MariaDB server at %(where)s: %(error)s")
            % {"where": spec.where, "error": detail},
            reason="unreachable",
            detail=detail,
        )
    if codes & _DISK_FULL_CODES or "no space left" in low or "is full" in low:
        return EngineError(
            _("No space left on the device: %(error)s") % {"error": detail},
            reason="disk_full",
            detail=detail,
        )
    if codes & _TIMEOUT_CODES:
        return EngineTimeout(
            _("The server at %(where)s did not answer in time: %(error)s")
            % {"where": spec.where, "error": detail}
        )
    return None


def _driver_error(spec: DbSpec, exc: Exception) -> EngineError:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    detail = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    return _classify(spec, detail, {code} if code else set()) or EngineError(
        _("The server at %(where)s refused a query: %(error)s")
        % {"where": spec.where, "error": short_output(detail)},
        detail=detail,
    )


# --------------------------------------------------------------------------- connections


def _pymysql() -> Any:
    try:
        return importlib.import_module("pymysql")
    except ImportError:
        raise ClientMissing(
            _(
                "MySQL and MariaDB backups need the PyMySQL package, which is not installed: "
                "install the `mysql` extra (pip install 'erpcare[mysql]')."
            )
        ) from None


def _check_spec(spec: DbSpec, *, needs_database: bool = True) -> None:
    if spec.kind != KIND:
        raise EngineError(
            _("This is the MySQL/MariaDB engine; the spec is for %(kind)s.") % {"kind": spec.kind},
            reason="invalid",
        )
    check_options(spec, OPTIONS)
    if needs_database and not spec.database:
        raise EngineError(_("No MySQL/MariaDB database name is given."), reason="invalid")


def _connect(spec: DbSpec, *, timeout: float, database: str | None = None) -> Any:
    pymysql = _pymysql()
    kwargs: dict[str, Any] = {
        "user": spec.user or None,
        "password": spec.password,
        "database": spec.database if database is None else (database or None),
        "connect_timeout": min(30, max(2, math.ceil(timeout))),
        "read_timeout": max(1, math.ceil(timeout)),
        "write_timeout": max(1, math.ceil(timeout)),
        "charset": "utf8mb4",
        "autocommit": True,
    }
    if spec.options.get("socket"):
        kwargs["unix_socket"] = spec.options["socket"]
    else:
        kwargs["host"] = spec.host or "127.0.0.1"
        kwargs["port"] = spec.port or DEFAULT_PORT
    if spec.options.get("ssl_ca"):
        kwargs["ssl"] = {"ca": spec.options["ssl_ca"]}
    try:
        return pymysql.connect(**kwargs)
    except pymysql.err.MySQLError as exc:
        raise _driver_error(spec, exc) from None


def _version_of(text: str) -> ServerVersion:
    flavor = "mariadb" if "mariadb" in text.lower() else "mysql"
    numbers = [int(n) for n in re.findall(r"\d+", text)[:2]]
    shown = text.split("-")[0]
    return ServerVersion(flavor, f"{FLAVOR_NAMES[flavor]} {shown}", tuple(numbers))


def _server_version(conn: Any) -> ServerVersion:
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        return _version_of(str(cur.fetchone()[0]))


def server_version(spec: DbSpec, *, timeout: float = 30.0) -> ServerVersion:
    """The server's flavour and version, from ``SELECT VERSION()``."""
    pymysql = _pymysql()
    _check_spec(spec, needs_database=False)
    conn = _connect(spec, timeout=check_timeout(timeout), database="")
    try:
        return _server_version(conn)
    except pymysql.err.MySQLError as exc:
        raise _driver_error(spec, exc) from None
    finally:
        conn.close()


def _limit_statements(conn: Any, server: ServerVersion, timeout: float) -> None:
    """A server-side statement time limit, so a slow count stops on the server too."""
    with conn.cursor() as cur, suppress(Exception):
        if server.flavor == "mariadb":
            cur.execute(f"SET SESSION max_statement_time = {float(timeout):.3f}")
        else:
            cur.execute(f"SET SESSION max_execution_time = {int(timeout * 1000)}")


def _option_value(value: str) -> str:
    """A value for an option file, quoted and escaped the way the clients unescape it."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def _write_option_file(spec: DbSpec) -> Path:
    """A temporary ``[client]`` option file with the login (mode 0600); the caller
    deletes it when the tool has finished."""
    lines = ["[client]"]
    if spec.options.get("socket"):
        lines.append(f"socket={_option_value(spec.options['socket'])}")
    else:
        # protocol=tcp: "localhost" would otherwise mean the default socket.
        lines += [
            f"host={_option_value(spec.host or '127.0.0.1')}",
            f"port={spec.port or DEFAULT_PORT}",
            "protocol=tcp",
        ]
    if spec.user:
        lines.append(f"user={_option_value(spec.user)}")
    lines.append(f"password={_option_value(spec.password)}")
    if spec.options.get("ssl_ca"):
        lines.append(f"ssl-ca={_option_value(spec.options['ssl_ca'])}")
    fd, name = tempfile.mkstemp(prefix="erpcare-my-", suffix=".cnf")  # mode 0600
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------- client tools


@functools.lru_cache(maxsize=32)
def _tool_at(path: str, mtime: float) -> ClientTool | None:
    del mtime  # part of the cache key: an upgraded binary is asked again
    text = tool_version(path)
    if text is None:
        return None
    match = re.search(r"Distrib\s+(\d+\.\d+(?:\.\d+)?)", text) or re.search(
        r"Ver\s+(\d+\.\d+(?:\.\d+)?)", text
    )
    if match is None:
        return None
    version = match.group(1)
    flavor = "mariadb" if "mariadb" in text.lower() else "mysql"
    series = tuple(int(n) for n in version.split(".")[:2])
    return ClientTool(Path(path).name, path, version, series, flavor)


def _candidates(names: Iterable[str]) -> list[ClientTool]:
    found: list[ClientTool] = []
    seen: set[str] = set()
    for name in names:
        path = shutil.which(name)
        if path is None:
            continue
        real = os.path.realpath(path)
        if real in seen:  # Debian's mysqldump is a link to mariadb-dump
            continue
        seen.add(real)
        client = _tool_at(path, os.stat(path).st_mtime)
        if client is not None:
            found.append(client)
    return found


def client_versions() -> list[ClientTool]:
    """The dump and restore clients found on PATH."""
    return _candidates(DUMP_TOOLS) + _candidates(RESTORE_TOOLS)


def choose_client(names: Iterable[str], server: ServerVersion) -> ClientTool:
    """A client of the server's flavour, at least its major.minor (the closest one)."""
    names = tuple(names)
    found = _candidates(names)
    flavor = FLAVOR_NAMES.get(server.flavor, server.flavor)
    hint = INSTALL_HINTS.get(server.flavor, "")
    if not found:
        raise ClientMissing(
            _(
                "%(tools)s is not installed on the ERPCare server: install the %(flavor)s "
                "client tools, version %(series)s or newer (%(hint)s)."
            )
            % {
                "tools": " / ".join(names),
                "flavor": flavor,
                "series": server.series_text,
                "hint": hint,
            }
        )
    fitting = sorted(
        (c for c in found if c.flavor == server.flavor and c.series >= server.series),
        key=lambda c: c.series,
    )
    if fitting:
        return fitting[0]
    best = max(found, key=lambda c: (c.flavor == server.flavor, c.series))
    raise VersionMismatch(
        _(
            "%(tool)s %(client)s (%(client_flavor)s) does not match the %(server)s server: "
            "install the %(flavor)s client tools, version %(series)s or newer (%(hint)s)."
        )
        % {
            "tool": best.name,
            "client": best.version,
            "client_flavor": FLAVOR_NAMES.get(best.flavor, best.flavor),
            "server": server.text,
            "flavor": flavor,
            "series": server.series_text,
            "hint": hint,
        }
    )


def check_versions(spec: DbSpec, *, server: ServerVersion | None = None) -> ClientTool:
    """The dump client for this server (``server`` given: no connection is made)."""
    if server is None:
        server = server_version(spec)
    return choose_client(DUMP_TOOLS, server)


# --------------------------------------------------------------------------- row counts


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _list_tables(conn: Any) -> dict[str, int | None]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'"
            " ORDER BY TABLE_NAME"
        )
        return {str(r[0]): (None if r[1] is None else int(r[1])) for r in cur.fetchall()}


def _resolve(name: str, tables: dict[str, Any]) -> str | None:
    if name in tables:
        return name
    # Table names are case-insensitive on servers with lower_case_table_names set.
    folded = [t for t in tables if t.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else None


def _count(conn: Any, table: str) -> int:
    with conn.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 -- quoted name
        return int(cur.fetchone()[0])


def table_stats(
    spec: DbSpec,
    *,
    key_tables: Iterable[str] = (),
    newest_document_sql: str | None = None,
    timeout: float = 300.0,
) -> TableStats:
    """Tables with InnoDB's estimated row counts, exact ``COUNT(*)`` for ``key_tables`` and
    the newest-document query's answer, in one consistent read-only snapshot."""
    pymysql = _pymysql()
    _check_spec(spec)
    limit = check_timeout(timeout)
    keys = key_table_names(key_tables)
    conn = _connect(spec, timeout=limit)
    try:
        _limit_statements(conn, _server_version(conn), limit)
        with conn.cursor() as cur:
            cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        tables = _list_tables(conn)
        counts = {name: rows for name, rows in tables.items() if rows is not None}
        exact: list[str] = []
        missing: list[str] = []
        for key in keys:
            found = _resolve(key, tables)
            if found is None:
                missing.append(key)
            else:
                counts[found] = _count(conn, found)
                exact.append(found)
        newest, newest_error = None, ""
        if newest_document_sql and newest_document_sql.strip():
            try:
                with conn.cursor() as cur:
                    cur.execute(newest_document_sql)
                    row = cur.fetchone()
                newest = as_datetime(row[0] if row else None)
            except pymysql.err.MySQLError as exc:
                newest_error = short_output(str(exc.args[1]) if len(exc.args) > 1 else str(exc))
            except EngineError as exc:
                newest_error = exc.message
        with conn.cursor() as cur:
            cur.execute("ROLLBACK")
    except pymysql.err.MySQLError as exc:
        raise _driver_error(spec, exc) from None
    finally:
        conn.close()
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
        same_snapshot=False,
    )


def table_row_counts(
    spec: DbSpec, tables: Iterable[str], *, timeout: float = 300.0
) -> dict[str, int | None]:
    """Exact row counts of ``tables``; None for a table that does not exist."""
    pymysql = _pymysql()
    _check_spec(spec)
    limit = check_timeout(timeout)
    names = key_table_names(tables)
    conn = _connect(spec, timeout=limit)
    try:
        _limit_statements(conn, _server_version(conn), limit)
        with conn.cursor() as cur:
            cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        listed = _list_tables(conn)
        counts: dict[str, int | None] = {}
        for name in names:
            found = _resolve(name, listed)
            counts[name] = None if found is None else _count(conn, found)
        return counts
    except pymysql.err.MySQLError as exc:
        raise _driver_error(spec, exc) from None
    finally:
        conn.close()


# --------------------------------------------------------------------------- dump


class _Dump:
    """A running mariadb-dump/mysqldump and its option file."""

    def __init__(
        self,
        spec: DbSpec,
        *,
        timeout: float,
        key_tables: Iterable[str] | None,
        newest_document_sql: str | None,
        stdout: int | IO[bytes],
    ) -> None:
        _check_spec(spec)
        self.spec = spec
        self.timeout = check_timeout(timeout)
        started = time.monotonic()
        self.server = server_version(spec, timeout=min(self.timeout, 30.0))
        self.tool = choose_client(DUMP_TOOLS, self.server)
        self.stats = None
        if key_tables is not None or newest_document_sql:
            self.stats = table_stats(
                spec,
                key_tables=key_tables or (),
                newest_document_sql=newest_document_sql,
                timeout=self.timeout,
            )
        remaining = self.timeout - (time.monotonic() - started)
        if remaining <= 0:
            raise self._timed_out()
        self._options = _write_option_file(spec)
        options = self._options
        argv = [
            self.tool.path,
            f"--defaults-file={options}",  # must come first
            "--single-transaction",
            "--routines",
            "--triggers",
            "--events",
            "--hex-blob",
            "--no-tablespaces",
            "--default-character-set=utf8mb4",
        ]
        if self.tool.flavor == "mysql":
            # GTID_PURGED statements fail when restored into a server with its own GTIDs.
            argv.append("--set-gtid-purged=OFF")
        argv += ["--", spec.database]
        try:
            self.child = Child(argv, env=clean_env(), timeout=remaining, stdout=stdout)
        except BaseException:
            self._options.unlink(missing_ok=True)
            raise

    def _timed_out(self) -> EngineTimeout:
        return EngineTimeout(
            _("The dump of %(where)s did not finish within %(seconds)s s and was stopped.")
            % {"where": self.spec.where, "seconds": f"{self.timeout:g}"}
        )

    def finish(self) -> str:
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
                _("%(tool)s of %(where)s failed: %(error)s")
                % {"tool": self.tool.name, "where": self.spec.where, "error": detail},
                detail=detail,
            )
        return stderr.strip()

    def close(self) -> None:
        self.child.close()
        self._options.unlink(missing_ok=True)


def open_dump(
    spec: DbSpec,
    *,
    timeout: float,
    key_tables: Iterable[str] | None = None,
    newest_document_sql: str | None = None,
) -> DumpStream:
    """Start the dump and return its SQL as a stream; the last read raises
    ``EngineError`` if the tool failed or ran out of ``timeout`` seconds. With
    ``key_tables`` (even empty) or ``newest_document_sql``, ``stream.stats`` holds the
    counts taken just before."""
    running = _Dump(
        spec,
        timeout=timeout,
        key_tables=key_tables,
        newest_document_sql=newest_document_sql,
        stdout=subprocess.PIPE,
    )
    stdout = running.child.proc.stdout
    assert stdout is not None
    return DumpStream(
        stdout,
        finish=running.finish,
        abort=running.close,
        tool=running.tool.label,
        server=running.server.text,
        format="mysql-sql",
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
    """Dump into a new file (an existing one is refused, a failed dump's file removed)
    or into a writable binary stream."""
    if not isinstance(out, str | os.PathLike):
        stream = open_dump(
            spec, timeout=timeout, key_tables=key_tables, newest_document_sql=newest_document_sql
        )
        return copy_stream(stream, out, _("the dump"))
    path = Path(out)
    if not path.parent.is_dir():
        raise EngineError(
            _("The directory %(path)s does not exist.") % {"path": path.parent}, reason="invalid"
        )
    try:
        handle = path.open("xb")
    except FileExistsError:
        raise EngineError(
            _("%(path)s already exists; a dump never overwrites a file.") % {"path": path},
            reason="invalid",
        ) from None
    try:
        with handle:
            return copy_stream(
                open_dump(
                    spec,
                    timeout=timeout,
                    key_tables=key_tables,
                    newest_document_sql=newest_document_sql,
                ),
                handle,
                str(path),
            )
    except BaseException:
        with suppress(FileNotFoundError):
            path.unlink()
        raise


# --------------------------------------------------------------------------- restore


def _complete_tail(tail: bytes) -> bool:
    return COMPLETED_MARKER in tail[-1024:]


def _truncated() -> EngineError:
    return EngineError(
        _("The backup is truncated: it does not end with the dump's '-- Dump completed' line."),
        reason="corrupt",
    )


def restore_to_scratch(
    spec_admin: DbSpec, artifact: Artifact, *, timeout: float, jobs: int = 1
) -> ScratchDb:
    """Create a scratch database and feed the dump to the ``mariadb``/``mysql`` client.

    ``spec_admin`` needs the CREATE and DROP privileges on ``erpcare_verify_%`` databases
    (and whatever the dump's routines and DEFINERs require). ``jobs`` is accepted for the
    common signature; the client restores one statement at a time. Any failure drops the
    scratch database before raising; the returned ``ScratchDb`` drops it on exit."""
    pymysql = _pymysql()
    _check_spec(spec_admin, needs_database=False)
    limit = check_timeout(timeout)
    del jobs
    path = artifact_path(artifact)
    if path is not None:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 1024))
            if not _complete_tail(handle.read()):
                raise _truncated()
    started = time.monotonic()
    conn = _connect(spec_admin, timeout=limit, database="")
    try:
        server = _server_version(conn)
        tool = choose_client(RESTORE_TOOLS, server)
        name = scratch_name()
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE {_quote(name)}")
    except pymysql.err.MySQLError as exc:
        raise EngineError(
            _("Could not create the scratch database on %(where)s: %(error)s")
            % {"where": spec_admin.where, "error": _driver_error(spec_admin, exc)}
        ) from None
    finally:
        conn.close()

    def drop() -> None:
        drop_scratch_database(spec_admin, name)

    stderr = ""
    try:
        remaining = limit - (time.monotonic() - started)
        if remaining <= 0:
            raise _restore_timeout(limit)
        options = _write_option_file(spec_admin)
        try:
            argv = [
                tool.path,
                f"--defaults-file={options}",
                "--batch",
                "--default-character-set=utf8mb4",
                f"--database={name}",
            ]
            env = clean_env()
            feeder: Feeder | None = None
            if path is not None:
                with path.open("rb") as source:
                    child = Child(argv, env=env, timeout=remaining, stdin=source)
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
                    detail = short_output(stderr) or f"exit status {code}"
                    raise _classify(spec_admin.with_database(name), stderr) or EngineError(
                        _("The restore failed: %(error)s") % {"error": detail},
                        reason="corrupt" if "syntax" in stderr.lower() else "error",
                        detail=detail,
                    )
                if feeder is not None:
                    feeder.drain(limit - (time.monotonic() - started))
                    if not _complete_tail(feeder.tail):
                        raise _truncated()
            finally:
                child.close()
        finally:
            options.unlink(missing_ok=True)
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
        _("The restore did not finish within %(seconds)s s; the client was stopped.")
        % {"seconds": f"{limit:g}"}
    )


def drop_scratch_database(spec_admin: DbSpec, name: str) -> None:
    """Drop scratch database ``name`` after killing the sessions still using it (a killed
    client's statement may still run on the server); nothing if it is already gone."""
    pymysql = _pymysql()
    require_scratch_name(name)
    _check_spec(spec_admin, needs_database=False)
    conn = _connect(spec_admin, timeout=60.0, database="")
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT ID FROM information_schema.PROCESSLIST"
                " WHERE DB = %s AND ID <> CONNECTION_ID()",
                [name],
            )
            for (thread_id,) in cur.fetchall():
                with suppress(pymysql.err.MySQLError):
                    cur.execute(f"KILL {int(thread_id)}")
            cur.execute(f"DROP DATABASE IF EXISTS {_quote(name)}")
    except pymysql.err.MySQLError as exc:
        raise EngineError(
            _("Could not drop the scratch database %(name)s: %(error)s")
            % {"name": name, "error": _driver_error(spec_admin, exc)}
        ) from None
    finally:
        conn.close()


def leaked_scratch_databases(spec_admin: DbSpec) -> list[str]:
    """The ``erpcare_verify_…`` databases on the server (none, unless a restore crashed)."""
    pymysql = _pymysql()
    _check_spec(spec_admin, needs_database=False)
    conn = _connect(spec_admin, timeout=30.0, database="")
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
                " WHERE SCHEMA_NAME LIKE %s ORDER BY SCHEMA_NAME",
                ["erpcare\\_verify\\_%"],
            )
            return [str(row[0]) for row in cur.fetchall()]
    except pymysql.err.MySQLError as exc:
        raise _driver_error(spec_admin, exc) from None
    finally:
        conn.close()
