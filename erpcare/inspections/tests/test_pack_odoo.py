"""The Odoo business-integrity pack on an Odoo 17 schema fixture in a real PostgreSQL.

Not a live Odoo (see ``testing/odoo_schema.sql``): the tables and columns the pack reads,
as Odoo's models define them, filled with a clean two-company data set. The clean data
passes every check; then each way real systems break makes exactly its check fail, with
exactly the broken records as findings, and nothing else. Queries go through the
inspection runner (read-only, statement timeout, row cap).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from erpcare.inspections.models import Condition, ResultStatus, SourceKind
from erpcare.inspections.packs.loader import PACKS_DIR, parse_pack
from erpcare.inspections.runners.spec import RunnerError
from erpcare.inspections.runners.sql import run_query
from erpcare.inspections.services.evaluate import Verdict, judge_rows
from erpcare.inspections.testing import odoo
from erpcare.inspections.testing.odoo import OdooDb

PACK = parse_pack((PACKS_DIR / "odoo.yaml").read_text(encoding="utf-8"), origin="odoo.yaml")
CHECKS = {check.code: check for check in PACK.checks}
ISSUE_CHECKS = {
    "posted-moves-unbalanced",
    "trial-balance-by-period",
    "negative-stock",
    "purchases-awaiting-approval",
    "draft-invoices-forgotten",
    "invoice-number-gaps",
    "invoice-number-duplicates",
    "cron-jobs-overdue",
    "active-users-not-signed-in",
    "administrators-added",
}


@pytest.fixture(scope="module")
def scratch() -> Iterator[OdooDb]:
    db = odoo.create_database()
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture
def db(scratch: OdooDb) -> OdooDb:
    odoo.load_clean(scratch)
    return scratch


def run_all(db: OdooDb, previous: dict[str, float | None] | None = None) -> dict[str, Verdict]:
    previous = previous or {}
    verdicts = {}
    for code, check in CHECKS.items():
        answer = run_query(db.spec(), check.query, check.params.get("sql_params", {}))
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
    """Each failing check with the first column of its findings (the broken records)."""
    return {
        code: [next(iter(finding.values())) for finding in verdict.findings]
        for code, verdict in verdicts.items()
        if verdict.status != ResultStatus.OK
    }


def test_the_pack_covers_the_issue_for_odoo_on_postgresql() -> None:
    assert set(CHECKS) == ISSUE_CHECKS
    assert {check.source_kind for check in PACK.checks} == {SourceKind.POSTGRESQL}
    assert all(check.erp_products == ["odoo"] for check in PACK.checks)
    administrators = CHECKS["administrators-added"]
    assert (administrators.condition, administrators.warn, administrators.critical) == (
        Condition.CHANGE_AT_MOST,
        0.0,
        0.0,
    )


def test_a_clean_odoo_passes_every_check(db: OdooDb) -> None:
    first = run_all(db)
    second = run_all(db, previous=values(first))
    assert failing(first) == {}
    assert failing(second) == {}
    # admin only: __system__ is archived, a custom module's "group_system" is not Odoo's.
    assert second["administrators-added"].value == 1.0
    assert second["administrators-added"].status == ResultStatus.OK


def test_the_checks_cannot_write(db: OdooDb) -> None:
    with pytest.raises(RunnerError):
        run_query(db.spec(), "DELETE FROM account_move RETURNING id")
    assert run_query(db.spec(), "SELECT COUNT(*) FROM account_move").rows[0][0] > 0


def test_an_unbalanced_posted_invoice_is_found_with_its_month(db: OdooDb) -> None:
    move, company_month = odoo.unbalance_posted_move(db)
    verdicts = run_all(db)
    assert failing(verdicts) == {
        "posted-moves-unbalanced": [move],
        "trial-balance-by-period": [company_month[0]],
    }
    assert verdicts["posted-moves-unbalanced"].status == ResultStatus.CRITICAL
    (finding,) = verdicts["trial-balance-by-period"].findings
    assert (finding["company"], finding["period"]) == company_month
    assert finding["debit"] - finding["credit"] == pytest.approx(100)


def test_negative_stock_in_an_internal_location_names_product_and_location(db: OdooDb) -> None:
    product, location = odoo.negative_stock(db)
    verdicts = run_all(db)
    assert failing(verdicts) == {"negative-stock": [product]}
    (finding,) = verdicts["negative-stock"].findings
    assert (finding["location"], finding["location_name"]) == (location, "WH/Stock")
    assert finding["quantity"] == pytest.approx(-7)  # both lots: 10 − 17


def test_a_purchase_order_awaiting_approval_for_30_days_is_found(db: OdooDb) -> None:
    broken = odoo.stale_approval(db, days=30)
    verdicts = run_all(db)
    assert failing(verdicts) == {"purchases-awaiting-approval": broken}
    assert verdicts["purchases-awaiting-approval"].findings[0]["state"] == "to approve"
    assert verdicts["purchases-awaiting-approval"].status == ResultStatus.WARN


def test_a_draft_invoice_forgotten_for_30_days_is_found(db: OdooDb) -> None:
    broken = odoo.stale_draft_invoice(db, days=30)
    verdicts = run_all(db)
    assert failing(verdicts) == {"draft-invoices-forgotten": broken}
    assert verdicts["draft-invoices-forgotten"].findings[0]["problem"] == "stale"


def test_a_fresh_draft_bill_dated_in_a_locked_period_is_found(db: OdooDb) -> None:
    broken = odoo.draft_bill_in_locked_period(db)
    verdicts = run_all(db)
    assert failing(verdicts) == {"draft-invoices-forgotten": broken}
    assert verdicts["draft-invoices-forgotten"].findings[0]["problem"] == "in a locked period"


def test_a_deleted_invoice_leaves_a_gap_found_at_the_next_number(db: OdooDb) -> None:
    next_invoice, missing = odoo.delete_posted_invoice(db)
    verdicts = run_all(db)
    assert failing(verdicts) == {"invoice-number-gaps": [next_invoice]}
    (finding,) = verdicts["invoice-number-gaps"].findings
    number = int(missing.rsplit("/", 1)[1])
    assert (finding["first_missing"], finding["last_missing"]) == (number, number)


def test_a_duplicated_invoice_number_is_found_on_both_invoices(db: OdooDb) -> None:
    broken = odoo.duplicate_invoice_number(db)
    assert failing(run_all(db)) == {"invoice-number-duplicates": broken}


def test_an_overdue_scheduled_action_is_found(db: OdooDb) -> None:
    broken = odoo.stall_cron(db, days=3)
    verdicts = run_all(db)
    assert failing(verdicts) == {"cron-jobs-overdue": broken}
    assert verdicts["cron-jobs-overdue"].findings[0]["cron_name"] == "Procurement: run scheduler"


def test_an_active_user_not_signed_in_for_120_days_is_found(db: OdooDb) -> None:
    broken = odoo.dormant_user(db, days=120)
    assert failing(run_all(db)) == {"active-users-not-signed-in": broken}


def test_an_administrator_added_since_the_last_run_is_critical(db: OdooDb) -> None:
    before = run_all(db)
    odoo.add_administrator(db)
    after = run_all(db, previous=values(before))
    assert failing(after) == {"administrators-added": [2]}
    assert after["administrators-added"].status == ResultStatus.CRITICAL
    # The next run compares with this one: nothing new, nothing to report.
    assert failing(run_all(db, previous=values(after))) == {}
