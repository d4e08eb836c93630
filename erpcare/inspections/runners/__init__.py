"""Runners: code that asks a data source one question, safely, and returns plain data.

* ``sql`` — one read-only, time-bounded, row-capped query on PostgreSQL, MySQL/MariaDB,
  SQLite or SQL Server;
* ``promql`` — an instant query against Prometheus's HTTP API;
* ``http_probe`` — status, latency, content and TLS certificate of an HTTP endpoint.

They take a ``SourceSpec`` (``spec.py``), never a Django model, and raise ``RunnerError``
with a translated message when they cannot answer. Judging the answer is
``services/evaluate.py``'s job.
"""

from erpcare.inspections.runners import http_probe, promql, sql
from erpcare.inspections.runners.spec import RunnerError, SourceSpec

__all__ = ["RunnerError", "SourceSpec", "http_probe", "promql", "sql"]
