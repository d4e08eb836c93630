"""SQL checks: one query against an ERP's database, read-only, time-bounded and row-capped.

Every engine gets the same three guards, each as strong as that engine allows:

* **read-only**: PostgreSQL and MySQL/MariaDB run the query in a ``READ ONLY``
  transaction (PostgreSQL also sets ``default_transaction_read_only`` for the session);
  SQLite opens the file with ``mode=ro`` and ``PRAGMA query_only``. SQL Server has no
  read-only transaction: the query runs in a transaction that is always rolled back, and
  the login must be a reader (``db_datareader``) — say so to whoever configures it.
* **one statement**: PostgreSQL runs the query through a server-side cursor (extended
  protocol: a second statement after ``;`` is refused, so ``COMMIT; SET …`` cannot escape
  the read-only transaction); PyMySQL connects without multi-statements; sqlite3 refuses
  more than one statement.
* **bounded**: a statement timeout on the server plus a deadline on our side, and at most
  ``max_rows + 1`` rows fetched (server-side cursors, so a million-row answer is not
  transferred to find that out).

Parameters are written ``:name`` in the query and converted to each driver's placeholder
without touching ``::`` casts, string literals, quoted identifiers or comments; a missing
or unknown parameter is refused before connecting.
"""

from __future__ import annotations

import importlib
import math
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.utils.translation import gettext as _

from erpcare.inspections.runners.spec import Reason, RunnerError, SourceSpec

APPLICATION_NAME = "erpcare-inspection"
# Longest text kept per cell: findings are for people to read, not a data export.
MAX_TEXT = 2000
# How long the client waits beyond the server's own statement timeout before it gives up
# on a server that does not answer at all.
CLIENT_GRACE_S = 5.0

SQL_KINDS = ("postgresql", "mysql", "sqlserver", "sqlite")
_QUERY_KEYWORDS = ("select", "with", "values", "table")


@dataclass
class QueryResult:
    """A query's answer: JSON-safe cells, at most ``max_rows`` rows.

    ``total`` counts the rows seen, at most ``max_rows + 1``: ``total > len(rows)`` means
    there were more."""

    columns: list[str]
    rows: list[list[Any]]
    total: int
    duration_ms: int


# --------------------------------------------------------------------------- values


def json_safe(value: Any) -> Any:
    """A database value as something JSON (and PostgreSQL's jsonb) can store."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        # NaN and infinities are not JSON; jsonb refuses them.
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        text = bytes(value[: MAX_TEXT // 2]).hex()
        return text + "…" if len(value) > MAX_TEXT // 2 else text
    if isinstance(value, uuid.UUID | IPv4Address | IPv6Address | IPv4Network | IPv6Network):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    return json_safe(str(value))


# --------------------------------------------------------------------------- parameters

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")
_PARAM_TYPES = (str, int, float, Decimal, date, datetime, dtime, type(None))


def _skip_quoted(sql: str, start: int, quote_char: str, *, backslash: bool) -> int:
    """The index after the literal or identifier opened at ``start`` (doubled quotes
    escape a quote; with ``backslash`` so does a backslash)."""
    i = start + 1
    n = len(sql)
    while i < n:
        c = sql[i]
        if backslash and c == "\\":
            i += 2
            continue
        if c == quote_char:
            if i + 1 < n and sql[i + 1] == quote_char:
                i += 2
                continue
            return i + 1
        i += 1
    return n


def placeholders(sql: str, dialect: str) -> list[tuple[int, int, str]]:
    """Where the ``:name`` parameters are: (start, end, name), in order.

    Skips string literals (PostgreSQL ``E''`` and MySQL backslash escapes, dollar quoting),
    quoted identifiers, comments and ``::`` casts."""
    found: list[tuple[int, int, str]] = []
    n = len(sql)
    i = 0
    while i < n:
        c = sql[i]
        nxt = sql[i + 1] if i + 1 < n else ""
        if c == "'":
            escaped = dialect == "mysql" or (
                dialect == "postgresql"
                and i > 0
                and sql[i - 1] in "eE"
                and (i < 2 or not (sql[i - 2].isalnum() or sql[i - 2] == "_"))
            )
            i = _skip_quoted(sql, i, "'", backslash=escaped)
        elif c == '"':
            i = _skip_quoted(sql, i, '"', backslash=dialect == "mysql")
        elif c == "`" and dialect == "mysql":
            i = _skip_quoted(sql, i, "`", backslash=False)
        elif c == "[" and dialect == "sqlserver":
            i = _skip_quoted(sql, i, "]", backslash=False)
        elif (c == "-" and nxt == "-") or (c == "#" and dialect == "mysql"):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif c == "/" and nxt == "*":
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif c == "$" and dialect == "postgresql" and (i == 0 or not _is_word(sql[i - 1])):
            tag = _DOLLAR_TAG.match(sql, i)
            if tag is None:
                i += 1
            else:
                end = sql.find(tag.group(), tag.end())
                i = n if end < 0 else end + len(tag.group())
        elif c == ":":
            if nxt == ":":
                i += 2  # a ``::`` cast, and the type name after it is not a parameter
                continue
            name = _NAME.match(sql, i + 1)
            if name is not None and (i == 0 or not _is_word(sql[i - 1])):
                found.append((i, name.end(), name.group()))
                i = name.end()
            else:
                i += 1
        else:
            i += 1
    return found


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"


def bind(
    sql: str, params: Mapping[str, Any] | None, *, dialect: str
) -> tuple[str, list[Any] | None]:
    """The query in the driver's placeholder style and its positional values.

    ``%s`` for psycopg, PyMySQL and pymssql (every other ``%`` doubled, as they format the
    query with ``%``), ``?`` for sqlite3. No parameters in the query: the text is returned
    unchanged with ``None``, so drivers do not interpret ``%`` at all."""
    given = dict(params or {})
    spots = placeholders(sql, dialect)
    used = {name for _start, _end, name in spots}
    missing = sorted(used - set(given))
    if missing:
        raise RunnerError(
            _("The query uses the parameter %(names)s, but no value was given for it.")
            % {"names": ", ".join(f":{name}" for name in missing)}
        )
    unknown = sorted(set(given) - used)
    if unknown:
        raise RunnerError(
            _("The parameter %(names)s is not used by the query.")
            % {"names": ", ".join(f":{name}" for name in unknown)}
        )
    for name, value in given.items():
        if not isinstance(value, _PARAM_TYPES):
            raise RunnerError(
                _("The parameter :%(name)s must be a text, a number or a date, not %(type)s.")
                % {"name": name, "type": type(value).__name__}
            )
    if not spots:
        return sql, None
    marker = "?" if dialect == "sqlite" else "%s"
    out: list[str] = []
    values: list[Any] = []
    last = 0
    for start, end, name in spots:
        chunk = sql[last:start]
        out.append(chunk if dialect == "sqlite" else chunk.replace("%", "%%"))
        out.append(marker)
        values.append(given[name])
        last = end
    tail = sql[last:]
    out.append(tail if dialect == "sqlite" else tail.replace("%", "%%"))
    return "".join(out), values


_LEADING_NOISE = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*", re.DOTALL)


def first_keyword(sql: str) -> str:
    """The statement's first word in lower case, after comments and parentheses."""
    noise = _LEADING_NOISE.match(sql)
    rest = sql[noise.end() :] if noise else sql
    word = re.match(r"[A-Za-z]+", rest)
    return word.group().lower() if word else ""


# --------------------------------------------------------------------------- helpers


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _result(
    columns: Sequence[str], fetched: Sequence[Sequence[Any]], cap: int, started: float
) -> QueryResult:
    return QueryResult(
        columns=[str(c) for c in columns],
        rows=[[json_safe(v) for v in row] for row in fetched[:cap]],
        total=len(fetched),
        duration_ms=_elapsed_ms(started),
    )


def _timeout_error(spec: SourceSpec, detail: str = "") -> RunnerError:
    message = _("The query did not finish within %(ms)d ms and was stopped.") % {
        "ms": spec.timeout_ms
    }
    if detail:
        message = f"{message} ({detail})"
    return RunnerError(message, reason="timeout")


def _where(spec: SourceSpec, default_port: int) -> str:
    return f"{spec.host or '127.0.0.1'}:{spec.port or default_port}"


@contextmanager
def _watchdog(seconds: float, stop: Callable[[], None]) -> Iterator[threading.Event]:
    """Call ``stop`` if the block is still running after ``seconds``: the server-side
    timeout is the real guard, this one covers a server (or a pooler in front of it)
    that ignores it or stops answering."""
    fired = threading.Event()

    def fire() -> None:
        fired.set()
        with suppress(Exception):
            stop()

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield fired
    finally:
        timer.cancel()


# --------------------------------------------------------------------------- PostgreSQL


def _pg_connect(spec: SourceSpec) -> Any:
    import psycopg

    ms = max(spec.timeout_ms, 100)
    options = " ".join(
        [
            "-c default_transaction_read_only=on",
            f"-c statement_timeout={ms}",
            f"-c lock_timeout={ms}",
            f"-c idle_in_transaction_session_timeout={ms + int(CLIENT_GRACE_S * 1000)}",
        ]
    )
    kwargs: dict[str, Any] = {
        "host": spec.host or "127.0.0.1",
        "port": spec.port or 5432,
        "dbname": spec.database,
        "user": spec.username,
        "password": spec.password,
        # libpq counts whole seconds and treats 1 as 2.
        "connect_timeout": min(30, max(2, math.ceil(spec.timeout_s))),
        "application_name": APPLICATION_NAME,
        "options": options,
        "autocommit": True,
    }
    sslmode = spec.options.get("sslmode")
    if sslmode:
        kwargs["sslmode"] = str(sslmode)
    try:
        return psycopg.connect(**kwargs)
    except psycopg.Error as exc:
        detail = str(exc).strip() or type(exc).__name__
        reason: Reason = "timeout" if "timeout expired" in detail else "error"
        raise RunnerError(
            _("Could not connect to PostgreSQL at %(where)s: %(error)s")
            % {"where": _where(spec, 5432), "error": detail},
            reason=reason,
        ) from None


def _pg_error(spec: SourceSpec, exc: Exception, sql: str, *, watchdog_fired: bool) -> RunnerError:
    from psycopg import errors

    detail = getattr(getattr(exc, "diag", None), "message_primary", None) or str(exc).strip()
    # A lock held past the timeout (an ALTER TABLE, a VACUUM FULL) is waiting too.
    if isinstance(exc, errors.QueryCanceled | errors.LockNotAvailable) or watchdog_fired:
        return _timeout_error(spec, detail)
    if isinstance(exc, errors.ReadOnlySqlTransaction):
        return RunnerError(
            _("The query tried to change data; checks run in read-only transactions: %(error)s")
            % {"error": detail}
        )
    if isinstance(exc, errors.SyntaxError) and first_keyword(sql) not in _QUERY_KEYWORDS:
        return RunnerError(
            _(
                "Only queries (SELECT, WITH, VALUES, TABLE) can run as checks on "
                "PostgreSQL: %(error)s"
            )
            % {"error": detail}
        )
    if isinstance(exc, errors.FeatureNotSupported) and "data-modifying" in detail:
        return RunnerError(
            _("The query tried to change data; checks run in read-only transactions: %(error)s")
            % {"error": detail}
        )
    return RunnerError(_("PostgreSQL refused the query: %(error)s") % {"error": detail})


def _run_postgresql(spec: SourceSpec, sql: str, args: list[Any] | None) -> QueryResult:
    import psycopg

    started = time.monotonic()
    conn = _pg_connect(spec)
    try:
        with _watchdog(spec.timeout_s + CLIENT_GRACE_S, conn.cancel_safe) as fired:
            try:
                conn.execute("BEGIN READ ONLY")
                # A named (server-side) cursor: DECLARE goes through the extended protocol
                # (one statement only) and FETCH brings only the rows we keep.
                cur = conn.cursor(name="erpcare_inspection")
                cur.execute(sql, args)
                columns = [d.name for d in cur.description or []]
                fetched = cur.fetchmany(spec.row_cap + 1)
                conn.execute("ROLLBACK")
            except psycopg.Error as exc:
                raise _pg_error(spec, exc, sql, watchdog_fired=fired.is_set()) from None
    finally:
        with suppress(Exception):
            conn.close()
    return _result(columns, fetched, spec.row_cap, started)


def _version_pg(spec: SourceSpec) -> str:
    import psycopg

    conn = _pg_connect(spec)
    try:
        with _watchdog(spec.timeout_s + CLIENT_GRACE_S, conn.cancel_safe) as fired:
            try:
                conn.execute("BEGIN READ ONLY")
                conn.execute("SELECT 1")
                conn.execute("ROLLBACK")
            except psycopg.Error as exc:
                raise _pg_error(spec, exc, "SELECT 1", watchdog_fired=fired.is_set()) from None
        number = int(conn.info.server_version)
    finally:
        with suppress(Exception):
            conn.close()
    # 150014 → 15.14; before 10: 90624 → 9.6.24
    if number >= 100000:
        return f"PostgreSQL {number // 10000}.{number % 10000}"
    return f"PostgreSQL {number // 10000}.{number // 100 % 100}.{number % 100}"


# --------------------------------------------------------------------------- SQLite


# Deny attaching another file (ATTACH would create it) and any pragma that sets a value
# (``PRAGMA query_only = OFF``); reading pragmas stays allowed.
def _sqlite_authorizer(
    action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None
) -> int:
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and arg2 is not None:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _sqlite_connect(spec: SourceSpec) -> tuple[sqlite3.Connection, Callable[[], bool]]:
    raw = spec.database.strip()
    if not raw:
        raise RunnerError(_("No SQLite database file is configured for this data source."))
    path = Path(raw).expanduser()
    if not path.is_file():
        # Checked first: sqlite3 would say only "unable to open database file".
        raise RunnerError(
            _("The SQLite database file %(path)s does not exist or is not a file.") % {"path": raw}
        )
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(
            uri, uri=True, timeout=spec.timeout_s, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA query_only = ON")
    except sqlite3.Error as exc:
        raise RunnerError(
            _("Could not open the SQLite database file %(path)s: %(error)s")
            % {"path": raw, "error": exc}
        ) from None
    conn.set_authorizer(_sqlite_authorizer)
    deadline = time.monotonic() + spec.timeout_s

    def expired() -> bool:
        return time.monotonic() > deadline

    # Called every 1,000 virtual machine instructions; a true answer interrupts the query.
    conn.set_progress_handler(expired, 1000)
    return conn, expired


def _sqlite_error(spec: SourceSpec, exc: sqlite3.Error, expired: Callable[[], bool]) -> RunnerError:
    detail = str(exc)
    if expired() or detail == "interrupted":
        return _timeout_error(spec, detail)
    if "readonly" in detail or "not authorized" in detail:
        return RunnerError(
            _("The query tried to change data; checks open SQLite files read-only: %(error)s")
            % {"error": detail}
        )
    return RunnerError(_("SQLite refused the query: %(error)s") % {"error": detail})


def _run_sqlite(spec: SourceSpec, sql: str, args: list[Any] | None) -> QueryResult:
    started = time.monotonic()
    conn, expired = _sqlite_connect(spec)
    try:
        conn.execute("BEGIN")  # one snapshot for the whole query
        cur = conn.execute(sql, args or [])
        columns = [d[0] for d in cur.description or []]
        fetched = cur.fetchmany(spec.row_cap + 1)
    except sqlite3.Error as exc:
        raise _sqlite_error(spec, exc, expired) from None
    except (OverflowError, ValueError) as exc:
        raise RunnerError(_("SQLite refused the query: %(error)s") % {"error": exc}) from None
    finally:
        with suppress(Exception):
            conn.close()
    return _result(columns, fetched, spec.row_cap, started)


def _version_sqlite(spec: SourceSpec) -> str:
    conn, expired = _sqlite_connect(spec)
    try:
        # Reading the schema proves the file is a database, not just a file.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise _sqlite_error(spec, exc, expired) from None
    finally:
        conn.close()
    return f"SQLite {sqlite3.sqlite_version}"


# --------------------------------------------------------------------------- MySQL / MariaDB

MYSQL_TIMEOUT_CODES = {
    3024,  # MySQL: maximum statement execution time exceeded
    1969,  # MariaDB: max_statement_time exceeded
    1317,  # query execution was interrupted
    2013,  # lost connection during query (our read timeout)
}
MYSQL_READ_ONLY_CODES = {1792, 1290}


def _pymysql() -> Any:
    try:
        return importlib.import_module("pymysql")
    except ImportError:
        raise RunnerError(
            _(
                "MySQL and MariaDB checks need the PyMySQL package, which is not installed: "
                "install the `mysql` extra (pip install 'erpcare[mysql]')."
            )
        ) from None


def _mysql_error(spec: SourceSpec, exc: Exception, *, watchdog_fired: bool) -> RunnerError:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
    detail = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    if code in MYSQL_TIMEOUT_CODES or watchdog_fired:
        return _timeout_error(spec, detail)
    if code in MYSQL_READ_ONLY_CODES:
        return RunnerError(
            _("The query tried to change data; checks run in read-only transactions: %(error)s")
            % {"error": detail}
        )
    return RunnerError(
        _("MySQL/MariaDB refused the query: %(error)s") % {"error": f"({code}) {detail}"}
    )


def _mysql_connect(spec: SourceSpec) -> tuple[Any, str]:
    """An open connection in a READ ONLY transaction with the statement timeout set, and
    the server's version string."""
    pymysql = _pymysql()
    wait = math.ceil(spec.timeout_s + CLIENT_GRACE_S)
    try:
        conn = pymysql.connect(
            host=spec.host or "127.0.0.1",
            port=spec.port or 3306,
            user=spec.username,
            password=spec.password,
            database=spec.database or None,
            connect_timeout=min(30, max(1, math.ceil(spec.timeout_s))),
            read_timeout=wait,
            write_timeout=wait,
            charset="utf8mb4",
            autocommit=True,
            program_name=APPLICATION_NAME,
        )
    except pymysql.Error as exc:
        detail = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
        raise RunnerError(
            _("Could not connect to MySQL/MariaDB at %(where)s: %(error)s")
            % {"where": _where(spec, 3306), "error": detail}
        ) from None
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            version = str(cur.fetchone()[0])
            try:
                if "mariadb" in version.lower():
                    cur.execute("SET SESSION max_statement_time = %s", (spec.timeout_s,))
                else:
                    # MySQL ≥ 5.7.8; applies to SELECT, the only statement a check needs.
                    cur.execute("SET SESSION max_execution_time = %s", (max(spec.timeout_ms, 1),))
            except pymysql.Error:
                pass  # an older server: the client read timeout still bounds the wait
            # Top-level SELECTs stop after the rows we keep (a query's own LIMIT wins).
            cur.execute("SET SESSION sql_select_limit = %s", (spec.row_cap + 1,))
            cur.execute("SET SESSION TRANSACTION READ ONLY")
            cur.execute("START TRANSACTION READ ONLY")
    except pymysql.Error as exc:
        with suppress(Exception):
            conn.close()
        raise _mysql_error(spec, exc, watchdog_fired=False) from None
    return conn, version


def _run_mysql(spec: SourceSpec, sql: str, args: list[Any] | None) -> QueryResult:
    pymysql = _pymysql()
    started = time.monotonic()
    conn, _version = _mysql_connect(spec)
    # Unbuffered: rows are read as fetched, so only max_rows + 1 travel.
    cur = pymysql.cursors.SSCursor(conn)
    try:
        # The read timeout bounds each wait for the server; the watchdog bounds the total.
        with _watchdog(spec.timeout_s + CLIENT_GRACE_S, conn.close) as fired:
            try:
                cur.execute(sql, args)
                columns = [d[0] for d in cur.description or []]
                fetched = cur.fetchmany(spec.row_cap + 1)
            except pymysql.Error as exc:
                raise _mysql_error(spec, exc, watchdog_fired=fired.is_set()) from None
    finally:
        # Closing the socket (not the cursor, which would read every remaining row) ends
        # the session and its transaction; PyMySQL would still try to read the rest when
        # the result is collected, so it is told there is none.
        result = getattr(cur, "_result", None)
        if result is not None:
            result.unbuffered_active = False
        with suppress(Exception):
            conn.close()
    if _elapsed_ms(started) >= spec.timeout_ms:
        # An interrupted SLEEP() or BENCHMARK() returns a value instead of an error (MySQL
        # documents it; MariaDB does it for BENCHMARK): past the budget, the answer is void.
        raise _timeout_error(spec)
    return _result(columns, fetched, spec.row_cap, started)


def _version_mysql(spec: SourceSpec) -> str:
    conn, version = _mysql_connect(spec)
    with suppress(Exception):
        conn.close()
    number = version.split("-", 1)[0]
    return f"MariaDB {number}" if "mariadb" in version.lower() else f"MySQL {number}"


# --------------------------------------------------------------------------- SQL Server
# Untested here (no SQL Server on Debian): written to pymssql's documented API.


def _pymssql() -> Any:
    try:
        return importlib.import_module("pymssql")
    except ImportError:
        raise RunnerError(
            _(
                "SQL Server is not supported in this installation: install the `mssql` "
                "extra (pip install 'erpcare[mssql]')."
            )
        ) from None


def _mssql_connect(spec: SourceSpec) -> Any:
    pymssql = _pymssql()
    try:
        return pymssql.connect(
            server=spec.host or "127.0.0.1",
            port=str(spec.port or 1433),
            user=spec.username,
            password=spec.password,
            database=spec.database,
            login_timeout=min(30, max(1, math.ceil(spec.timeout_s))),
            timeout=math.ceil(spec.timeout_s),
            appname=APPLICATION_NAME,
            autocommit=False,
        )
    except pymssql.Error as exc:
        raise RunnerError(
            _("Could not connect to SQL Server at %(where)s: %(error)s")
            % {"where": _where(spec, 1433), "error": exc}
        ) from None


def _run_sqlserver(spec: SourceSpec, sql: str, args: list[Any] | None) -> QueryResult:
    pymssql = _pymssql()
    started = time.monotonic()
    conn = _mssql_connect(spec)
    try:
        cur = conn.cursor()
        cur.execute(f"SET LOCK_TIMEOUT {max(spec.timeout_ms, 1)}")
        cur.execute(sql, tuple(args) if args else None)
        columns = [d[0] for d in cur.description or []]
        fetched = cur.fetchmany(spec.row_cap + 1)
    except pymssql.Error as exc:
        text = str(exc)
        if "timeout" in text.lower():
            raise _timeout_error(spec, text) from None
        raise RunnerError(_("SQL Server refused the query: %(error)s") % {"error": text}) from None
    finally:
        # No read-only transactions on SQL Server: whatever the query did is undone.
        with suppress(Exception):
            conn.rollback()
        with suppress(Exception):
            conn.close()
    return _result(columns, fetched, spec.row_cap, started)


def _version_sqlserver(spec: SourceSpec) -> str:
    result = _run_sqlserver(
        spec, "SELECT CAST(SERVERPROPERTY('ProductVersion') AS varchar(50))", None
    )
    return f"SQL Server {result.rows[0][0] if result.rows else '?'}"


# --------------------------------------------------------------------------- entry points

_RUNNERS: dict[str, Callable[[SourceSpec, str, list[Any] | None], QueryResult]] = {
    "postgresql": _run_postgresql,
    "mysql": _run_mysql,
    "sqlserver": _run_sqlserver,
    "sqlite": _run_sqlite,
}
_VERSIONS: dict[str, Callable[[SourceSpec], str]] = {
    "postgresql": _version_pg,
    "mysql": _version_mysql,
    "sqlserver": _version_sqlserver,
    "sqlite": _version_sqlite,
}


def _not_sql(spec: SourceSpec) -> RunnerError:
    return RunnerError(
        _("A %(kind)s data source cannot run SQL queries.") % {"kind": spec.kind or "?"}
    )


def run_query(spec: SourceSpec, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
    """Run one read-only query on the data source; raise RunnerError if it cannot."""
    runner = _RUNNERS.get(spec.kind)
    if runner is None:
        raise _not_sql(spec)
    if not sql.strip():
        raise RunnerError(_("The check has no query."))
    query, args = bind(sql, params, dialect=spec.kind)
    return runner(spec, query, args)


def test_connection(spec: SourceSpec) -> str:
    """Connect as a check would and say what answered, e.g. "PostgreSQL 15.14"."""
    version = _VERSIONS.get(spec.kind)
    if version is None:
        raise _not_sql(spec)
    return version(spec)


# pytest would collect ``test_connection`` from test modules that import it by name.
test_connection.__test__ = False  # type: ignore[attr-defined]
