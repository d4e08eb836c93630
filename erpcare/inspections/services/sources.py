"""Data sources: the runner's view of one, and the "test connection" button."""

from __future__ import annotations

from erpcare.core import clock
from erpcare.inspections.models import DATABASE_KINDS, DataSource, SourceKind
from erpcare.inspections.runners.spec import SourceSpec


def spec_for(source: DataSource) -> SourceSpec:
    return SourceSpec(
        kind=source.kind,
        host=source.host,
        port=source.port,
        database=source.database,
        username=source.username,
        password=source.password,
        url=source.url,
        options=dict(source.options or {}),
        timeout_ms=source.statement_timeout_ms,
        max_rows=source.max_rows,
    )


def test_connection(source: DataSource) -> tuple[bool, str]:
    """Connect as the checks will and say what answered (or why nothing did); recorded on
    the source."""
    from erpcare.inspections.runners import RunnerError, http_probe, promql, sql

    spec = spec_for(source)
    try:
        if source.kind in DATABASE_KINDS:
            message = sql.test_connection(spec)
        elif source.kind == SourceKind.PROMETHEUS:
            message = promql.test_connection(spec)
        else:
            message = http_probe.test_connection(spec)
        ok = True
    except RunnerError as error:
        ok, message = False, str(error)
    source.last_test_at = clock.now()
    source.last_test_ok = ok
    source.last_test_message = message[:2000]
    source.save(update_fields=["last_test_at", "last_test_ok", "last_test_message"])
    return ok, message
