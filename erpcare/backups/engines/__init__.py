"""Database engines for backups: dump, restore into a scratch database, count rows.

One module per engine — ``postgresql``, ``mysql`` (MySQL and MariaDB), ``sqlite`` — each with
the functions of ``Engine``. They take a plain ``DbSpec`` and never see Django models, so
the caller decides where a spec comes from and where an artifact goes.

Client tools (``pg_dump``, ``mariadb-dump`` …) run in their own process group, get passwords
through their environment or a 0600 option file (never on the command line), and are killed
with their whole group when their time is up. Dumps stream: ``open_dump`` gives a readable
stream whose read at the end raises ``EngineError`` if the tool failed, so a stream copied
into an artifact store fails the copy instead of storing half a backup.

Restores go into a scratch database named ``erpcare_verify_<UTC time>_<random>`` that the
``ScratchDb`` context manager always drops; ``leaked_scratch_databases`` finds any that
a crash left behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import io
import logging
import os
import re
import secrets
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Literal, Protocol, cast

from django.utils.translation import gettext as _

from erpcare.core.errors import ActionError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

log = logging.getLogger(__name__)

KINDS = ("postgresql", "mysql", "sqlite")
# MariaDB is MySQL's engine here: the same client protocol, dump and restore tools.
KIND_ALIASES = {"mariadb": "mysql", "postgres": "postgresql", "sqlite3": "sqlite"}
SCRATCH_PREFIX = "erpcare_verify_"
_SCRATCH_NAME = re.compile(r"erpcare_verify_\d{8}_\d{6}_[0-9a-f]{8}")
CHUNK_SIZE = 1 << 20
# How much of a tool's stderr is kept: the end is where the reason is.
STDERR_KEEP = 64 * 1024

Reason = Literal[
    "error",
    "invalid",
    "timeout",
    "unreachable",
    "auth",
    "missing_database",
    "client_missing",
    "version_mismatch",
    "corrupt",
    "disk_full",
]

# A backup to restore: a file path (seekable: PostgreSQL restores it in parallel), a readable
# binary stream (e.g. ``artifacts.open_artifact``) or an iterable of byte chunks.
Artifact = str | os.PathLike[str] | IO[bytes] | Iterable[bytes]


# --------------------------------------------------------------------------- errors


class EngineError(ActionError):
    """A dump, restore or count failed; ``str(e)`` is a translated, readable message.

    ``reason`` says what kind of failure it was (for the UI and for tests); ``detail`` keeps
    the tool's own output, shortened."""

    reason: Reason = "error"

    def __init__(self, message: str, *, reason: Reason | None = None, detail: str = "") -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class EngineTimeout(EngineError):
    """The time budget ran out; the tool was killed with its process group."""

    reason: Reason = "timeout"


class ClientMissing(EngineError):
    """The dump or restore client is not installed on this machine."""

    reason: Reason = "client_missing"


class VersionMismatch(EngineError):
    """The installed client cannot safely dump this server's version."""

    reason: Reason = "version_mismatch"


# --------------------------------------------------------------------------- plain data


@dataclass(frozen=True)
class DbSpec:
    """One database as the engines need it.

    ``database`` is the database name, or for SQLite the file's path. ``options`` are
    engine settings that are not secrets: PostgreSQL ``sslmode``, ``sslrootcert``;
    MySQL ``socket``, ``ssl_ca``; SQLite ``scratch_dir`` (where scratch copies go). Each
    engine refuses options it does not know."""

    kind: str
    host: str = ""
    port: int | None = None
    database: str = ""
    user: str = ""
    password: str = field(default="", repr=False)
    options: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        kind = KIND_ALIASES.get(self.kind, self.kind)
        if kind not in KINDS:
            raise EngineError(
                _("Unknown database kind %(kind)s; expected one of: %(kinds)s.")
                % {"kind": self.kind, "kinds": ", ".join(KINDS)},
                reason="invalid",
            )
        object.__setattr__(self, "kind", kind)
        if self.port is not None and not 0 < self.port < 65536:
            raise EngineError(
                _("The port %(port)s is not between 1 and 65535.") % {"port": self.port},
                reason="invalid",
            )

    def with_database(self, database: str) -> DbSpec:
        """The same server and login, another database."""
        return replace(self, database=database)

    @property
    def where(self) -> str:
        """Host, port and database for messages (no secrets)."""
        if self.kind == "sqlite":
            return self.database
        host = self.host or "127.0.0.1"
        port = f":{self.port}" if self.port else ""
        return f"{host}{port}/{self.database}" if self.database else f"{host}{port}"


@dataclass(frozen=True)
class ServerVersion:
    """A server's version. ``series`` is the part that clients must match: PostgreSQL's
    major (``(15,)``; ``(9, 6)`` before 10), MySQL's and MariaDB's major.minor."""

    flavor: str  # postgresql, mysql, mariadb, sqlite
    text: str
    series: tuple[int, ...]

    @property
    def series_text(self) -> str:
        return ".".join(str(n) for n in self.series)


@dataclass(frozen=True)
class ClientTool:
    """One installed client program and its version."""

    name: str  # pg_dump, pg_restore, mariadb-dump, mysqldump, mariadb, mysql, sqlite3
    path: str
    version: str  # e.g. "15.18"
    series: tuple[int, ...]
    flavor: str

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


@dataclass(frozen=True)
class TableStats:
    """The tables of a database and how many rows they hold, recorded with a backup.

    ``row_counts`` has an exact ``count(*)`` for the tables in ``exact`` and the engine's
    estimate for the others (``estimate_method`` says which; a table without any estimate
    is left out). ``missing`` lists key tables that were asked for but do not exist.
    ``newest_document`` is the answer of the newest-business-document query (the RPO);
    when that query failed, ``newest_document_error`` says why and the rest still stands."""

    engine: str
    taken_at: dt.datetime
    tables: tuple[str, ...]
    row_counts: Mapping[str, int]
    exact: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    estimate_method: str = ""
    newest_document: dt.datetime | None = None
    newest_document_error: str = ""
    # True when the counts were taken in the same snapshot as the dump (PostgreSQL, SQLite).
    same_snapshot: bool = False

    def as_dict(self) -> dict[str, Any]:
        """A JSON-safe dict to store with the backup point."""
        return {
            "engine": self.engine,
            "taken_at": self.taken_at.isoformat(),
            "tables": list(self.tables),
            "row_counts": dict(self.row_counts),
            "exact": list(self.exact),
            "missing": list(self.missing),
            "estimate_method": self.estimate_method,
            "newest_document": (self.newest_document.isoformat() if self.newest_document else None),
            "newest_document_error": self.newest_document_error,
            "same_snapshot": self.same_snapshot,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TableStats:
        """The inverse of ``as_dict``."""
        newest = data.get("newest_document")
        return cls(
            engine=str(data["engine"]),
            taken_at=dt.datetime.fromisoformat(str(data["taken_at"])),
            tables=tuple(str(t) for t in data.get("tables", ())),
            row_counts={str(k): int(v) for k, v in dict(data.get("row_counts", {})).items()},
            exact=tuple(str(t) for t in data.get("exact", ())),
            missing=tuple(str(t) for t in data.get("missing", ())),
            estimate_method=str(data.get("estimate_method", "")),
            newest_document=dt.datetime.fromisoformat(str(newest)) if newest else None,
            newest_document_error=str(data.get("newest_document_error", "")),
            same_snapshot=bool(data.get("same_snapshot", False)),
        )


@dataclass(frozen=True)
class DumpResult:
    """What a finished dump produced."""

    size: int  # bytes of dump output
    seconds: float
    tool: str  # e.g. "pg_dump 15.18"
    server: str  # e.g. "PostgreSQL 15.14"
    format: str  # "postgresql-custom", "mysql-sql", "sqlite"
    stats: TableStats | None = None
    warnings: str = ""  # the tool's stderr when it succeeded anyway


# --------------------------------------------------------------------------- helpers


def check_timeout(timeout: float) -> float:
    """The timeout in seconds, refused unless it is a positive number."""
    if not isinstance(timeout, int | float) or not timeout > 0:
        raise EngineError(
            _("The timeout must be a positive number of seconds, not %(value)r.")
            % {"value": timeout},
            reason="invalid",
        )
    return float(timeout)


def check_options(spec: DbSpec, allowed: Sequence[str]) -> None:
    """Refuse options the engine does not know (a typo would otherwise be ignored)."""
    unknown = sorted(set(spec.options) - set(allowed))
    if unknown:
        raise EngineError(
            _("Unknown %(kind)s option(s): %(options)s; known: %(known)s.")
            % {
                "kind": spec.kind,
                "options": ", ".join(unknown),
                "known": ", ".join(allowed) or "-",
            },
            reason="invalid",
        )


def scratch_name(now: dt.datetime | None = None) -> str:
    """A new, unique scratch database name: ``erpcare_verify_<UTC time>_<random>``."""
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return f"{SCRATCH_PREFIX}{moment:%Y%m%d_%H%M%S}_{secrets.token_hex(4)}"


def is_scratch_name(name: str) -> bool:
    """Whether ``name`` is one of ours: only those are ever dropped."""
    return _SCRATCH_NAME.fullmatch(name) is not None


def require_scratch_name(name: str) -> str:
    if not is_scratch_name(name):
        raise EngineError(
            _("%(name)s is not an ERPCare scratch database; only those are dropped.")
            % {"name": name},
            reason="invalid",
        )
    return name


def short_output(text: str, limit: int = 800) -> str:
    """A tool's output shortened to what explains a failure: from the first error line on,
    each line at most 300 characters, at most ``limit`` in all."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    markers = ("error", "fatal", "could not", "failed", "denied", "no space", "unknown")
    first = next(
        (i for i, line in enumerate(lines) if any(m in line.lower() for m in markers)), None
    )
    if first is not None:
        lines = lines[first:]
    else:
        lines = lines[-5:]
    kept = [line if len(line) <= 300 else line[:300] + "…" for line in lines[:6]]
    joined = "\n".join(kept)
    return joined if len(joined) <= limit else joined[:limit] + "…"


def as_datetime(value: Any) -> dt.datetime | None:
    """The newest-document query's answer as an aware datetime.

    Naive values are taken as UTC (Odoo and Tryton store UTC without a zone); a date is its
    midnight UTC; text must be ISO 8601 (SQLite stores dates as text)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise EngineError(
                _("The newest-document query returned %(value)r, which is not a date or time.")
                % {"value": value[:100]},
                reason="invalid",
            ) from None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    raise EngineError(
        _("The newest-document query returned %(value)r, which is not a date or time.")
        % {"value": value},
        reason="invalid",
    )


def key_table_names(tables: Iterable[str] | None) -> list[str]:
    """Key table names, stripped, without duplicates; empty names refused."""
    names: list[str] = []
    for table in tables or ():
        name = str(table).strip()
        if not name:
            raise EngineError(_("A key table name is empty."), reason="invalid")
        if name not in names:
            names.append(name)
    return names


def clean_env(**values: str) -> dict[str, str]:
    """The environment for a client tool: ours without inherited database settings (a stray
    ``PGSERVICE`` or ``MYSQL_PWD`` would change where the tool connects), plus ``values``.
    Messages in English so that they can be recognised."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PG", "MYSQL", "MARIADB", "LC_", "LANG"))
    }
    env["LC_ALL"] = "C.UTF-8"
    env.update({key: value for key, value in values.items() if value})
    return env


def tool_version(path: str) -> str | None:
    """The output of ``path --version`` (first line), or None when it cannot be run."""
    try:
        done = subprocess.run(  # noqa: S603 -- a client tool we located ourselves
            [path, "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            env=clean_env(),
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip().splitlines()[0] if done.stdout.strip() else None


def artifact_path(artifact: Artifact) -> Path | None:
    """The artifact's path when it is one (checked to exist), else None."""
    if isinstance(artifact, str | os.PathLike):
        path = Path(artifact)
        if not path.is_file():
            raise EngineError(
                _("The backup file %(path)s does not exist or is not a file.") % {"path": path},
                reason="invalid",
            )
        return path
    return None


def artifact_chunks(artifact: IO[bytes] | Iterable[bytes]) -> Iterator[bytes]:
    """The artifact's bytes in chunks, whether it is a stream or an iterable of chunks."""
    read = getattr(artifact, "read", None)
    if read is not None:
        while True:
            chunk = read(CHUNK_SIZE)
            if not chunk:
                return
            yield bytes(chunk)
    else:
        if isinstance(artifact, bytes | bytearray | str):
            raise EngineError(
                _("A backup must be given as a path, a binary stream or byte chunks."),
                reason="invalid",
            )
        for chunk in artifact:
            if chunk:
                yield bytes(chunk)


# --------------------------------------------------------------------------- child processes


class Child:
    """A client tool in its own process group, killed with the whole group (``pg_restore
    --jobs`` workers included) when its time runs out. stderr goes to a temporary file, so
    a chatty tool can never block on a full pipe."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        timeout: float,
        stdin: int | IO[bytes] | None = subprocess.DEVNULL,
        stdout: int | IO[bytes] | None = subprocess.DEVNULL,
    ) -> None:
        self.argv = list(argv)
        self.timed_out = threading.Event()
        self.started = time.monotonic()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 -- closed in close()
        self._lock = threading.Lock()
        self._reaped = False
        try:
            self.proc = subprocess.Popen(  # noqa: S603 -- argv built from located tools
                self.argv,
                stdin=stdin,
                stdout=stdout,
                stderr=self._stderr,
                env=dict(env),
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            self._stderr.close()
            raise ClientMissing(
                _("Could not start %(tool)s: %(error)s")
                % {"tool": self.argv[0], "error": exc.strerror or exc}
            ) from exc
        self._timer = threading.Timer(timeout, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        with self._lock:
            if not self._reaped:
                self.timed_out.set()
                self._kill_group()

    def _kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def kill(self) -> None:
        """Kill the tool and its group now (unless it has already been waited for)."""
        with self._lock:
            if not self._reaped:
                self._kill_group()

    def wait(self) -> int:
        """Wait for the tool to end; its exit status (negative: killed by that signal)."""
        # Wait without reaping first: until the lock marks it reaped, the timer may still
        # signal the group, and a reaped process id could already belong to someone else.
        with contextlib.suppress(ChildProcessError):
            os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOWAIT)
        with self._lock:
            self._reaped = True
            self._timer.cancel()
        return self.proc.wait()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def stderr_text(self) -> str:
        """The end of what the tool wrote to stderr."""
        try:
            self._stderr.seek(0, io.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - STDERR_KEEP))
            return self._stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def close(self) -> None:
        """Kill the tool if it still runs, wait for it and release its files."""
        if self.proc.returncode is None:
            self.kill()
            self.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._stderr.close()


class Feeder:
    """Copies an artifact into a tool's stdin from a thread; a failure to read the artifact
    (a bad checksum, a decryption error) kills the tool and is kept to be raised."""

    def __init__(self, child: Child, artifact: IO[bytes] | Iterable[bytes]) -> None:
        self.child = child
        self.error: BaseException | None = None
        self.tail = b""  # the last bytes fed, to recognise a truncated SQL dump
        self.size = 0
        self._chunks = artifact_chunks(artifact)
        self._thread = threading.Thread(target=self._run, name="erpcare-restore-feed")
        # A daemon: a source blocked in read() must not keep the worker alive.
        self._thread.daemon = True
        self._thread.start()

    def _run(self) -> None:
        stdin = self.child.proc.stdin
        assert stdin is not None
        try:
            for chunk in self._chunks:
                self.size += len(chunk)
                self.tail = (self.tail + chunk)[-512:]
                stdin.write(chunk)
        except (BrokenPipeError, ConnectionResetError, ValueError):
            # The tool stopped reading (or was killed and its stdin closed): its exit
            # status tells why.
            pass
        except BaseException as exc:  # kept for the caller, who raises it
            self.error = exc
            self.child.kill()
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)

    def drain(self, timeout: float) -> None:
        """Read what the tool left unread, so a checking reader (``open_artifact``) runs its
        end-of-stream checks; raise what the reader raised."""
        self.join(max(timeout, 0.1))
        if self.error is not None:
            raise self.error
        if self._thread.is_alive():
            raise EngineTimeout(_("The backup stream did not end within the time limit."))
        for chunk in self._chunks:
            self.size += len(chunk)
            self.tail = (self.tail + chunk)[-512:]


class DumpStream(io.RawIOBase):
    """A dump's bytes as a readable stream; ``reader`` is the same as a ``BinaryIO``.

    When the end is read the tool is waited for, and a failed dump raises ``EngineError``
    from that read, so copying the stream into an artifact fails as a whole. ``result`` is
    available once the end was read. Used as a context manager, leaving the block early
    kills the tool and cleans up."""

    def __init__(
        self,
        source: IO[bytes],
        *,
        finish: Callable[[], str],
        abort: Callable[[], None],
        tool: str,
        server: str,
        format: str,
        stats: TableStats | None,
    ) -> None:
        super().__init__()
        self._source = source
        self._finish = finish
        self._abort = abort
        self._tool = tool
        self._server = server
        self._format = format
        self.stats = stats
        self._size = 0
        self._started = time.monotonic()
        self._result: DumpResult | None = None
        self._failed: EngineError | None = None
        self._reader: io.BufferedReader | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        if self._failed is not None:
            raise self._failed
        if self._result is not None:
            return 0
        count = self._source.readinto(buffer)  # type: ignore[attr-defined]
        if count:
            self._size += count
            return int(count)
        self._complete()
        return 0

    def _complete(self) -> None:
        try:
            warnings = self._finish()
        except EngineError as exc:
            self._failed = exc
            raise
        self._result = DumpResult(
            size=self._size,
            seconds=round(time.monotonic() - self._started, 3),
            tool=self._tool,
            server=self._server,
            format=self._format,
            stats=self.stats,
            warnings=warnings,
        )

    @property
    def reader(self) -> BinaryIO:
        """This stream, buffered, for APIs that want a ``BinaryIO``."""
        if self._reader is None:
            self._reader = io.BufferedReader(self, buffer_size=CHUNK_SIZE)
        return self._reader

    @property
    def result(self) -> DumpResult:
        """The finished dump; raises if the stream was not read to its end successfully."""
        if self._failed is not None:
            raise self._failed
        if self._result is None:
            raise EngineError(_("The dump was not read to its end."))
        return self._result

    def finish(self) -> DumpResult:
        """Read and discard what is left, wait for the tool; the result, or its error."""
        while self.readinto(bytearray(CHUNK_SIZE)):
            pass
        return self.result

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                self._abort()
        super().close()

    def __enter__(self) -> DumpStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None and self._result is None and self._failed is None:
                # The block ended without reading the end: the dump is not known to be whole.
                self.close()
                raise EngineError(_("The dump was not read to its end."))
        finally:
            self.close()


def copy_stream(stream: DumpStream, out: IO[bytes], label: str) -> DumpResult:
    """Copy a dump stream into ``out``; a full disk is reported as such."""
    buffer = bytearray(CHUNK_SIZE)
    with stream:
        while True:
            count = stream.readinto(buffer)
            if not count:
                break
            try:
                out.write(memoryview(buffer)[:count])
            except OSError as exc:
                raise write_error(exc, label) from exc
        return stream.result


def write_error(exc: OSError, label: str) -> EngineError:
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return EngineError(
            _("No space left on the device while writing %(target)s: %(error)s")
            % {"target": label, "error": exc.strerror or exc},
            reason="disk_full",
        )
    return EngineError(
        _("Could not write %(target)s: %(error)s") % {"target": label, "error": exc.strerror or exc}
    )


# --------------------------------------------------------------------------- scratch databases


class ScratchDb:
    """A restored copy to check, dropped when the ``with`` block ends (also after errors).

    ``spec`` connects to the copy; ``seconds`` is the measured restore time (creating the
    database included: that is the recovery time), ``tool`` the client that restored it."""

    def __init__(
        self,
        *,
        spec: DbSpec,
        name: str,
        seconds: float,
        tool: str,
        drop: Callable[[], None],
        warnings: str = "",
    ) -> None:
        self.spec = spec
        self.name = name
        self.seconds = seconds
        self.tool = tool
        self.warnings = warnings
        self._drop = drop
        self.dropped = False

    def drop(self) -> None:
        """Drop the scratch database (once; again is a no-op)."""
        if not self.dropped:
            self._drop()
            self.dropped = True

    def __enter__(self) -> ScratchDb:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.drop()
            return
        # An error is already on its way: a failing drop is logged, never hides it.
        try:
            self.drop()
        except Exception:
            log.exception("could not drop scratch database %s", self.name)

    def __repr__(self) -> str:
        return f"<ScratchDb {self.spec.kind} {self.name} dropped={self.dropped}>"


def drop_after_failure(drop: Callable[[], None], name: str) -> None:
    """Drop a scratch database after a failed restore without hiding the failure."""
    try:
        drop()
    except Exception:
        log.exception("could not drop scratch database %s after a failed restore", name)


# --------------------------------------------------------------------------- engines


class Engine(Protocol):
    """What every engine module provides."""

    def client_versions(self) -> list[ClientTool]:
        """The installed client tools this engine can use."""
        ...

    def server_version(self, spec: DbSpec, *, timeout: float = ...) -> ServerVersion:
        """The server's version (SQLite: the library's)."""
        ...

    def check_versions(self, spec: DbSpec, *, server: ServerVersion | None = None) -> ClientTool:
        """The dump client to use; ``VersionMismatch``/``ClientMissing`` when there is none."""
        ...

    def table_stats(
        self,
        spec: DbSpec,
        *,
        key_tables: Iterable[str] = (),
        newest_document_sql: str | None = None,
        timeout: float = ...,
    ) -> TableStats:
        """Tables and row counts (exact for ``key_tables``), and the newest document."""
        ...

    def table_row_counts(
        self, spec: DbSpec, tables: Iterable[str], *, timeout: float = ...
    ) -> dict[str, int | None]:
        """Exact row counts; None for a table that does not exist."""
        ...

    def open_dump(
        self,
        spec: DbSpec,
        *,
        timeout: float,
        key_tables: Iterable[str] | None = None,
        newest_document_sql: str | None = None,
    ) -> DumpStream:
        """Start a dump and return its output as a stream."""
        ...

    def dump(
        self,
        spec: DbSpec,
        out: str | os.PathLike[str] | IO[bytes],
        *,
        timeout: float,
        key_tables: Iterable[str] | None = None,
        newest_document_sql: str | None = None,
    ) -> DumpResult:
        """Dump into a file path or a writable binary stream."""
        ...

    def restore_to_scratch(
        self, spec_admin: DbSpec, artifact: Artifact, *, timeout: float, jobs: int = ...
    ) -> ScratchDb:
        """Restore into a new scratch database; dropped on failure and when the
        returned ``ScratchDb`` is left."""
        ...

    def leaked_scratch_databases(self, spec_admin: DbSpec) -> list[str]:
        """Scratch databases that still exist."""
        ...

    def drop_scratch_database(self, spec_admin: DbSpec, name: str) -> None:
        """Drop one scratch database (only ``erpcare_verify_…`` names)."""
        ...


def get_engine(kind: str) -> Engine:
    """The engine module for a database kind (``postgresql``, ``mysql``/``mariadb``,
    ``sqlite``)."""
    name = KIND_ALIASES.get(kind, kind)
    if name not in KINDS:
        raise EngineError(
            _("Unknown database kind %(kind)s; expected one of: %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(KINDS)},
            reason="invalid",
        )
    return cast(Engine, importlib.import_module(f"{__name__}.{name}"))


if TYPE_CHECKING:
    # mypy checks here that every engine module really provides the Engine protocol.
    from erpcare.backups.engines import mysql, postgresql, sqlite

    _ENGINES: tuple[Engine, ...] = (postgresql, mysql, sqlite)

__all__ = [
    "KINDS",
    "SCRATCH_PREFIX",
    "Artifact",
    "ClientMissing",
    "ClientTool",
    "DbSpec",
    "DumpResult",
    "DumpStream",
    "Engine",
    "EngineError",
    "EngineTimeout",
    "ScratchDb",
    "ServerVersion",
    "TableStats",
    "VersionMismatch",
    "get_engine",
    "is_scratch_name",
    "scratch_name",
]
