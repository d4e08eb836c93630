"""The Tryton business-integrity pack on a real Tryton 8.2 database, SQLite and PostgreSQL.

A clean database (months of purchases, sales, posted invoices, closed periods, users who
signed in, cron jobs that ran) passes every check; then each way real systems break makes
exactly its check fail, with exactly the broken records as findings, and nothing else.
Queries go through the inspection runner (read-only, statement timeout, row cap).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from erpcare.inspections.models import Condition, ResultStatus
from erpcare.inspections.packs.loader import PACKS_DIR, CheckDefinition, parse_pack
from erpcare.inspections.runners.spec import SourceSpec
from erpcare.inspections.runners.sql import run_query
from erpcare.inspections.services.evaluate import Verdict, judge_rows
from erpcare.inspections.testing import tryton
from erpcare.inspections.testing.tryton import TrytonDb

PACK = parse_pack((PACKS_DIR / "tryton.yaml").read_text(encoding="utf-8"), origin="tryton.yaml")
ISSUE_CHECKS = {
    "posted-moves-unbalanced",
    "trial-balance-by-period",
    "negative-stock",
    "purchases-stuck-in-quotation",
    "draft-customer-invoices-near-close",
    "unposted-moves-in-closed-periods",
    "invoice-number-gaps",
    "invoice-number-duplicates",
    "cron-jobs-disabled-or-overdue",
    "active-users-not-signed-in",
    "administrators-added",
}


def checks_for(kind: str) -> dict[str, CheckDefinition]:
    """The pack's checks for one source kind, by their PostgreSQL code (no -sqlite)."""
    return {
        check.code.removesuffix("-sqlite"): check
        for check in PACK.checks
        if check.source_kind == kind
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> Iterator[TrytonDb]:
    copy = tryton.tryton_database(request.param)
    try:
        yield copy
    finally:
        copy.drop()


def spec(db: TrytonDb) -> SourceSpec:
    fields = db.data_source_fields()
    return SourceSpec(
        kind=fields["kind"],
        host=fields.get("host", ""),
        port=fields.get("port"),
        database=fields["database"],
        username=fields.get("username", ""),
        password=fields.get("password", ""),
        timeout_ms=20_000,
        max_rows=100,
    )


def run_all(db: TrytonDb, previous: dict[str, float | None] | None = None) -> dict[str, Verdict]:
    previous = previous or {}
    verdicts = {}
    for code, check in checks_for(db.kind).items():
        answer = run_query(spec(db), check.query, check.params.get("sql_params", {}))
        verdicts[code] = judge_rows(
            condition=check.condition,
            severity=check.severity,
            warn=check.warn,
            critical=check.critical,
            columns=answer.columns,
            rows=answer.rows,
            total=answer.total,
            previous_value=previous.get(code),
        )
    return verdicts


def values(verdicts: dict[str, Verdict]) -> dict[str, float | None]:
    return {code: verdict.value for code, verdict in verdicts.items()}


def failing(verdicts: dict[str, Verdict]) -> dict[str, list[Any]]:
    """Each failing check with the first column of its findings (the broken records' ids)."""
    return {
        code: [next(iter(finding.values())) for finding in verdict.findings]
        for code, verdict in verdicts.items()
        if verdict.status != ResultStatus.OK
    }


def scalar(db: TrytonDb, query: str, *params: Any) -> Any:
    return tryton._one(db, query, params)[0]


def test_the_pack_covers_the_issue_for_postgresql_and_sqlite() -> None:
    assert set(checks_for("postgresql")) == ISSUE_CHECKS
    assert set(checks_for("sqlite")) == ISSUE_CHECKS
    assert all(check.erp_products == ["tryton"] for check in PACK.checks)
    for code, check in checks_for("sqlite").items():
        twin = checks_for("postgresql")[code]
        assert (check.condition, check.severity, check.params) == (
            twin.condition,
            twin.severity,
            twin.params,
        ), code


def test_a_clean_tryton_database_passes_every_check(db: TrytonDb) -> None:
    first = run_all(db)
    second = run_all(db, previous=values(first))
    assert failing(first) == {}
    assert failing(second) == {}
    assert second["administrators-added"].value == 1.0  # admin; root (id 0) is not counted
    for check in checks_for(db.kind).values():
        if check.condition != Condition.ROWS_EMPTY:
            assert second[check.code.removesuffix("-sqlite")].value is not None


def test_an_unbalanced_posted_move_is_found_with_its_period(db: TrytonDb) -> None:
    (move,) = tryton.unbalance_posted_move(db)
    period = scalar(db, "SELECT period FROM account_move WHERE id = ?", move)
    # The trial balance of the move's period is off by the same amount: both checks say so.
    assert failing(run_all(db)) == {
        "posted-moves-unbalanced": [move],
        "trial-balance-by-period": [period],
    }


def test_negative_stock_names_the_product(db: TrytonDb) -> None:
    broken = tryton.negative_stock(db)
    verdicts = run_all(db)
    assert failing(verdicts) == {"negative-stock": broken}
    (finding,) = verdicts["negative-stock"].findings
    assert finding["location_name"] == "Storage Zone"
    assert float(finding["quantity"]) == pytest.approx(-7)


def test_a_purchase_left_in_quotation_for_30_days_is_found(db: TrytonDb) -> None:
    broken = tryton.stale_quotation(db, days=30)
    assert failing(run_all(db)) == {"purchases-stuck-in-quotation": broken}


def test_a_forgotten_draft_customer_invoice_is_found_at_period_end(db: TrytonDb) -> None:
    broken = tryton.stale_draft_invoice(db, days=30)
    assert failing(run_all(db)) == {"draft-customer-invoices-near-close": broken}


def test_a_move_set_back_to_draft_in_a_closed_period_is_found(db: TrytonDb) -> None:
    broken = tryton.unpost_move_in_closed_period(db)
    assert failing(run_all(db)) == {"unposted-moves-in-closed-periods": broken}


def test_a_skipped_invoice_number_is_found(db: TrytonDb) -> None:
    broken = tryton.invoice_number_gap(db)
    verdicts = run_all(db)
    assert failing(verdicts) == {"invoice-number-gaps": broken}
    (finding,) = verdicts["invoice-number-gaps"].findings
    assert finding["number"] == "INV00020"
    assert finding["missing_number"] == 19


def test_a_duplicated_invoice_number_is_found_on_both_invoices(db: TrytonDb) -> None:
    broken = tryton.invoice_number_duplicate(db)
    assert failing(run_all(db)) == {"invoice-number-duplicates": broken}


@pytest.mark.parametrize(
    ("corrupt", "problem"),
    [(tryton.stall_cron, "overdue"), (tryton.disable_cron, "disabled")],
)
def test_a_stalled_or_disabled_cron_job_is_found(
    db: TrytonDb, corrupt: Callable[[TrytonDb], list[int]], problem: str
) -> None:
    broken = corrupt(db)
    verdicts = run_all(db)
    assert failing(verdicts) == {"cron-jobs-disabled-or-overdue": broken}
    assert verdicts["cron-jobs-disabled-or-overdue"].findings[0]["problem"] == problem


def test_an_active_user_not_signed_in_for_120_days_is_found(db: TrytonDb) -> None:
    broken = tryton.dormant_user(db, days=120)
    assert failing(run_all(db)) == {"active-users-not-signed-in": broken}


def test_an_administrator_added_since_the_last_run_is_critical(db: TrytonDb) -> None:
    before = run_all(db)
    tryton.add_administrator(db)
    after = run_all(db, previous=values(before))
    assert set(failing(after)) == {"administrators-added"}
    verdict = after["administrators-added"]
    assert verdict.status == ResultStatus.CRITICAL
    assert verdict.value == (before["administrators-added"].value or 0) + 1
