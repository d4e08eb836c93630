"""Judging a check's answer: conditions, thresholds, severities and the run's rating."""

from __future__ import annotations

from typing import Any

import pytest

from erpcare.inspections.models import Condition, Rating, ResultStatus, Severity
from erpcare.inspections.services.evaluate import judge_rows, rating_of


def judge(condition: str, rows: list[list[Any]], **kw: Any):
    values: dict[str, Any] = {
        "condition": condition,
        "severity": Severity.WARNING,
        "warn": None,
        "critical": None,
        "columns": ["a", "b"],
        "rows": rows,
        "total": len(rows),
        "previous_value": None,
    }
    values.update(kw)
    return judge_rows(**values)


def test_no_rows_is_ok_and_rows_are_findings():
    assert judge(Condition.ROWS_EMPTY, []).status == ResultStatus.OK
    verdict = judge(Condition.ROWS_EMPTY, [[1, 2], [3, 4]], total=7)
    assert verdict.status == ResultStatus.WARN
    assert verdict.findings == [{"a": 1, "b": 2}, {"a": 3, "b": 4}]
    assert verdict.findings_total == 7
    assert verdict.value == 7


@pytest.mark.parametrize(
    ("severity", "status"),
    [
        (Severity.CRITICAL, ResultStatus.CRITICAL),
        (Severity.HIGH, ResultStatus.CRITICAL),
        (Severity.WARNING, ResultStatus.WARN),
        (Severity.INFO, ResultStatus.WARN),
    ],
)
def test_rows_without_thresholds_fail_by_the_checks_severity(severity, status):
    assert judge(Condition.ROWS_EMPTY, [[1, 2]], severity=severity).status == status


def test_rows_with_thresholds_count_the_rows():
    rows = [[i, i] for i in range(3)]
    assert judge(Condition.ROWS_EMPTY, rows, warn=5, critical=10).status == ResultStatus.OK
    assert judge(Condition.ROWS_EMPTY, rows, warn=2, critical=10).status == ResultStatus.WARN
    assert judge(Condition.ROWS_EMPTY, rows, warn=1, critical=2).status == ResultStatus.CRITICAL


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (50, ResultStatus.OK),
        (70, ResultStatus.OK),
        (70.1, ResultStatus.WARN),
        (91, ResultStatus.CRITICAL),
    ],
)
def test_value_at_most(value, status):
    verdict = judge(Condition.VALUE_AT_MOST, [[value, "x"]], warn=70, critical=90)
    assert verdict.status == status
    assert verdict.value == value


@pytest.mark.parametrize(
    ("value", "status"),
    [("99.5", ResultStatus.OK), (98, ResultStatus.WARN), (94.9, ResultStatus.CRITICAL)],
)
def test_value_at_least_reads_numbers_in_any_form(value, status):
    assert judge(Condition.VALUE_AT_LEAST, [[value]], warn=99, critical=95).status == status


def test_change_at_most_compares_with_the_previous_run():
    first = judge(Condition.CHANGE_AT_MOST, [[100]], warn=10, critical=50)
    assert first.status == ResultStatus.OK
    assert "First run" in first.message
    assert judge(
        Condition.CHANGE_AT_MOST, [[105]], warn=10, critical=50, previous_value=100
    ).status == (ResultStatus.OK)
    grown = judge(Condition.CHANGE_AT_MOST, [[160]], warn=10, critical=50, previous_value=100)
    assert grown.status == ResultStatus.CRITICAL
    assert "+60" in grown.message


@pytest.mark.parametrize(("rows"), [[], [[]], [["not a number"]], [[None]], [[True]]])
def test_a_value_check_without_a_number_could_not_run(rows):
    verdict = judge(Condition.VALUE_AT_MOST, rows, warn=1, critical=2)
    assert verdict.status == ResultStatus.ERROR
    assert verdict.message


def test_the_run_is_rated_by_its_worst_check():
    assert rating_of([]) == Rating.GREY
    assert rating_of([ResultStatus.OK, ResultStatus.OK]) == Rating.GREEN
    assert rating_of([ResultStatus.OK, ResultStatus.WARN]) == Rating.YELLOW
    assert rating_of([ResultStatus.OK, ResultStatus.TIMEOUT]) == Rating.YELLOW
    assert rating_of([ResultStatus.WARN, ResultStatus.CRITICAL, ResultStatus.OK]) == Rating.RED
