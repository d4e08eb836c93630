"""The inspection report of an instance: ratings by layer, changes, findings, trend."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from erpcare.conftest import Cast
from erpcare.core import clock
from erpcare.inspections.models import Condition, Layer, Rating, ResultStatus, Severity
from erpcare.inspections.services.report import instance_report
from erpcare.inspections.services.runs import run_checks
from erpcare.inspections.tests.helpers import assign, check, erp_sqlite, sqlite_source, unbalance

T0 = clock.now().replace(microsecond=0) - timedelta(days=3)


@pytest.mark.django_db
def test_the_report_rates_layers_lists_findings_and_changes(cast: Cast, tmp_path: Path) -> None:
    path = erp_sqlite(tmp_path / "erp.sqlite3")
    source = sqlite_source(cast.acme_erp, path)
    moves = assign(source, check())
    size = assign(
        source,
        check(
            "lines",
            name="Journal lines",
            layer=Layer.DATABASE,
            module="platform",
            severity=Severity.WARNING,
            query="SELECT COUNT(*) FROM move_line",
            condition=Condition.VALUE_AT_MOST,
            warn_threshold=100,
            critical_threshold=1000,
        ),
    )
    with clock.frozen_at(T0):
        run_checks([moves, size])
    unbalance(path)
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO move_line (move, debit, credit) VALUES (5, 0, 0)", [()] * 97)
    with clock.frozen_at(T0 + timedelta(days=1)):
        run_checks([moves, size])
    report = instance_report(cast.acme_erp, start=T0 - timedelta(days=1), end=clock.now())
    assert report.rating == Rating.RED
    assert report.checks == 2
    layers = {layer.layer: (layer.rating, layer.failing, layer.total) for layer in report.layers}
    assert layers == {"database": (Rating.YELLOW, 1, 1), "business": (Rating.RED, 1, 1)}
    assert [f.check.code for f in report.findings] == ["unbalanced-moves", "lines"]
    assert all(f.is_new for f in report.findings)
    assert report.findings[0].result.findings == [{"move": 2, "debit": 57.0, "credit": 50.0}]
    changes = {c.result.instance_check.check_ref.code: c.previous_status for c in report.changes}
    assert changes == {"unbalanced-moves": ResultStatus.OK, "lines": ResultStatus.OK}
    assert [rating for _day, rating in report.trend] == [Rating.GREEN, Rating.RED]


@pytest.mark.django_db
def test_an_instance_never_inspected_is_not_rated(cast: Cast) -> None:
    report = instance_report(cast.acme_erp, start=T0, end=clock.now())
    assert report.rating == Rating.GREY
    assert (report.layers, report.findings, report.trend) == ([], [], [])
