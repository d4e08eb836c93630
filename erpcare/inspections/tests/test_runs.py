"""Running checks against a real SQLite "ERP database": results, rating, the assignment's
state, and incidents through the monitoring pipeline (opened once, resolved on passing)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from erpcare.conftest import Cast
from erpcare.core import clock
from erpcare.inspections.models import (
    Condition,
    Rating,
    ResultStatus,
    RunStatus,
    Severity,
)
from erpcare.inspections.services import incidents
from erpcare.inspections.services.runs import run_checks
from erpcare.inspections.tests.helpers import assign, check, erp_sqlite, sqlite_source, unbalance
from erpcare.monitoring.models import Alert, AlertPayload
from erpcare.monitoring.pipeline import process_pending
from erpcare.tickets.models import Status, Ticket

T0 = clock.now().replace(microsecond=0)


@pytest.fixture
def erp_db(tmp_path: Path) -> Path:
    return erp_sqlite(tmp_path / "erp.sqlite3")


def run_at(at, assignments):
    with clock.frozen_at(at):
        run = run_checks(assignments)
        process_pending()
    return run


@pytest.mark.django_db
def test_a_clean_database_passes_and_the_run_is_green(cast: Cast, erp_db: Path) -> None:
    source = sqlite_source(cast.acme_erp, erp_db)
    assignment = assign(source, check())
    run = run_at(T0, [assignment])
    assert run.status == RunStatus.DONE
    assert run.rating == Rating.GREEN
    (result,) = run.results.all()
    assert result.status == ResultStatus.OK
    assert result.findings == []
    assignment.refresh_from_db()
    assert assignment.last_status == ResultStatus.OK
    assert assignment.next_run_at is not None
    assert assignment.next_run_at > T0
    assert not AlertPayload.objects.exists()  # nothing to say


@pytest.mark.django_db
def test_a_broken_entry_is_found_raises_one_incident_and_resolves_it(
    cast: Cast, erp_db: Path
) -> None:
    source = sqlite_source(cast.acme_erp, erp_db)
    assignment = assign(source, check())
    unbalance(erp_db, move=2)
    run = run_at(T0, [assignment])
    assert run.rating == Rating.RED
    (result,) = run.results.all()
    assert result.status == ResultStatus.CRITICAL
    assert result.findings == [{"move": 2, "debit": 57.0, "credit": 50.0}]
    assert result.findings_total == 1
    (incident,) = Ticket.objects.filter(channel="monitoring")
    assert incident.erp_instance == cast.acme_erp
    assert incident.organization == cast.acme
    assert incident.module == "gl"
    assert "Unbalanced journal entries" in incident.title
    assert "Find the program that wrote them" in incident.description
    # It fails again the next day: the same incident, the alert counted again.
    run_at(T0 + timedelta(days=1), [assignment])
    assert Ticket.objects.filter(channel="monitoring").count() == 1
    assert Alert.objects.get().count == 2
    # Fixed: the check passes, the alert and the incident resolve.
    with sqlite3.connect(erp_db) as db:
        db.execute("UPDATE move_line SET debit = 50 WHERE id = 3")
    run = run_at(T0 + timedelta(days=2), [assignment])
    assert run.rating == Rating.GREEN
    alert = Alert.objects.get()
    assert alert.status == "resolved"
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED


@pytest.mark.django_db
def test_a_check_that_must_fail_twice_waits_for_the_second_failure(
    cast: Cast, erp_db: Path
) -> None:
    source = sqlite_source(cast.acme_erp, erp_db)
    assignment = assign(source, check(params={"fail_after": 2}))
    unbalance(erp_db)
    run_at(T0, [assignment])
    assert not AlertPayload.objects.exists()
    assignment.refresh_from_db()
    assert assignment.consecutive_failures == 1
    run_at(T0 + timedelta(hours=1), [assignment])
    assert AlertPayload.objects.count() == 1
    assert Ticket.objects.filter(channel="monitoring").count() == 1


@pytest.mark.django_db
def test_value_checks_compare_with_thresholds_and_the_previous_run(
    cast: Cast, erp_db: Path
) -> None:
    source = sqlite_source(cast.acme_erp, erp_db)
    lines = assign(
        source,
        check(
            "line-count",
            name="Journal lines",
            severity=Severity.WARNING,
            query="SELECT COUNT(*) FROM move_line",
            condition=Condition.VALUE_AT_MOST,
            warn_threshold=3,
            critical_threshold=10,
        ),
    )
    growth = assign(
        source,
        check(
            "line-growth",
            name="Journal line growth",
            severity=Severity.WARNING,
            query="SELECT COUNT(*) FROM move_line",
            condition=Condition.CHANGE_AT_MOST,
            warn_threshold=1,
            critical_threshold=5,
        ),
    )
    run = run_at(T0, [lines, growth])
    statuses = dict(run.results.values_list("instance_check__check_ref__code", "status"))
    assert statuses == {"line-count": ResultStatus.WARN, "line-growth": ResultStatus.OK}
    assert run.rating == Rating.YELLOW
    with sqlite3.connect(erp_db) as db:
        db.executemany("INSERT INTO move_line (move, debit, credit) VALUES (9, 1, 0)", [()] * 3)
    growth.refresh_from_db()
    run = run_at(T0 + timedelta(hours=1), [growth])
    (result,) = run.results.all()
    assert (result.value, result.previous_value, result.status) == (7, 4, ResultStatus.WARN)


@pytest.mark.django_db
def test_a_source_that_cannot_answer_is_an_error_without_incident(
    cast: Cast, tmp_path: Path
) -> None:
    source = sqlite_source(cast.acme_erp, tmp_path / "missing.sqlite3")
    assignment = assign(source, check())
    run = run_at(T0, [assignment])
    (result,) = run.results.all()
    assert result.status == ResultStatus.ERROR
    assert result.message
    assert run.rating == Rating.YELLOW
    assert not (tmp_path / "missing.sqlite3").exists()  # never created
    assert not AlertPayload.objects.exists()


@pytest.mark.django_db
def test_a_check_cannot_write_to_the_erp_database(cast: Cast, erp_db: Path) -> None:
    source = sqlite_source(cast.acme_erp, erp_db)
    assignment = assign(
        source, check("writer", query="DELETE FROM move_line", condition=Condition.ROWS_EMPTY)
    )
    run = run_at(T0, [assignment])
    (result,) = run.results.all()
    assert result.status == ResultStatus.ERROR
    with sqlite3.connect(erp_db) as db:
        assert db.execute("SELECT COUNT(*) FROM move_line").fetchone()[0] == 4


@pytest.mark.django_db
def test_each_instance_has_its_own_internal_integration(cast: Cast) -> None:
    first = incidents.integration_for(cast.acme_erp)
    assert incidents.integration_for(cast.acme_erp) == first
    other = incidents.integration_for(cast.globex_erp)
    assert other != first
    assert (first.organization, first.erp_instance) == (cast.acme, cast.acme_erp)
    assert first.source == "generic"


def test_a_run_needs_checks_of_one_instance() -> None:
    with pytest.raises(ValueError, match="at least one"):
        run_checks([])


@pytest.mark.django_db
def test_built_in_checks_answer_like_queries(cast: Cast, erp_db: Path) -> None:
    source = sqlite_source(cast.acme_erp, erp_db)
    connect = assign(
        source,
        check(
            "connect",
            kind="builtin",
            query="connect_time",
            condition=Condition.VALUE_AT_MOST,
            warn_threshold=5000,
            critical_threshold=10000,
        ),
    )
    skew = assign(
        source,
        check("skew", kind="builtin", query="clock_skew", condition=Condition.VALUE_AT_MOST),
    )
    unknown = assign(
        source,
        check("nope", kind="builtin", query="no_such_thing", condition=Condition.VALUE_AT_MOST),
    )
    run = run_at(T0, [connect, skew, unknown])
    results = {r.instance_check.check_ref.code: r for r in run.results.all()}
    assert results["connect"].status == ResultStatus.OK
    assert results["connect"].value is not None
    assert results["connect"].findings[0]["server"].startswith("SQLite")
    assert results["skew"].status == ResultStatus.ERROR  # SQLite has no server clock
    assert "no server clock" in results["skew"].message
    assert results["nope"].status == ResultStatus.ERROR
    assert "no built-in check named" in results["nope"].message
