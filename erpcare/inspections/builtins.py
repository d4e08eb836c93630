"""Built-in checks: questions a query cannot ask, written in Python.

A built-in check's ``query`` is the built-in's name. Each built-in takes the source's
``SourceSpec`` and the check's params and answers like a query — columns and rows, the
first column of the first row being the value — so the check's condition and thresholds
judge it as any other:

* ``connect_time``: milliseconds to connect and get the server's answer (any source
  kind); the second column says what answered.
* ``clock_skew``: seconds between the database server's clock and ERPCare's (PostgreSQL,
  MySQL/MariaDB, SQL Server). A skewed ERP database clock stamps documents with the wrong
  time and can put postings in the wrong period.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from erpcare.inspections.models import DATABASE_KINDS, SourceKind
from erpcare.inspections.runners import RunnerError, SourceSpec, http_probe, promql, sql


@dataclass(frozen=True)
class Answer:
    columns: list[str]
    rows: list[list[Any]]


Builtin = Callable[[SourceSpec, Mapping[str, Any]], Answer]
REGISTRY: dict[str, Builtin] = {}


def builtin(name: str) -> Callable[[Builtin], Builtin]:
    def register(func: Builtin) -> Builtin:
        REGISTRY[name] = func
        return func

    return register


def run(name: str, spec: SourceSpec, params: Mapping[str, Any]) -> Answer:
    func = REGISTRY.get(name)
    if func is None:
        raise RunnerError(_("There is no built-in check named “%(name)s”.") % {"name": name})
    return func(spec, params)


@builtin("connect_time")
def connect_time(spec: SourceSpec, params: Mapping[str, Any]) -> Answer:
    started = time.monotonic()
    if spec.kind in DATABASE_KINDS:
        server = sql.test_connection(spec)
    elif spec.kind == SourceKind.PROMETHEUS:
        server = promql.test_connection(spec)
    else:
        server = http_probe.test_connection(spec)
    elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    return Answer(["ms", "server"], [[elapsed_ms, server]])


_SERVER_EPOCH = {
    SourceKind.POSTGRESQL: "SELECT extract(epoch FROM clock_timestamp())",
    SourceKind.MYSQL: "SELECT UNIX_TIMESTAMP(NOW(6))",
    SourceKind.SQLSERVER: "SELECT DATEDIFF_BIG(ms, '1970-01-01', SYSUTCDATETIME()) / 1000.0",
}


@builtin("clock_skew")
def clock_skew(spec: SourceSpec, params: Mapping[str, Any]) -> Answer:
    query = _SERVER_EPOCH.get(SourceKind(spec.kind)) if spec.kind in SourceKind.values else None
    if query is None:
        raise RunnerError(
            _("A %(kind)s source has no server clock to compare.") % {"kind": spec.kind}
        )
    before = time.time()
    result = sql.run_query(spec, query)
    after = time.time()
    server = float(result.rows[0][0])
    # The server read its clock somewhere between our two readings: compare with the middle.
    skew = round(abs(server - (before + after) / 2), 3)
    return Answer(["seconds", "round_trip_ms"], [[skew, round((after - before) * 1000, 1)]])
