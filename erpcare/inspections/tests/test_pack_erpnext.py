"""The ERPNext business-integrity pack on an ERPNext v15 schema fixture in a real MariaDB.

Not a live ERPNext (see ``testing/erpnext_schema.sql``): the tables and columns the pack
reads, as ERPNext's DocTypes define them, filled with a clean two-company data set. The
clean data passes every check; then each way real systems break makes exactly its check
fail, with exactly the broken records as findings, and nothing else. Queries go through
the inspection runner as a login with SELECT only (read-only transaction, statement
timeout, row cap).

Needs Debian's ``mariadb-server`` and PyMySQL (the ``mysql`` extra); skipped with the
reason otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from erpcare.inspections.models import Condition, ResultStatus, SourceKind
from erpcare.inspections.packs.loader import PACKS_DIR, parse_pack
from erpcare.inspections.runners.spec import RunnerError, SourceSpec
from erpcare.inspections.runners.sql import run_query
from erpcare.inspections.services.evaluate import Verdict, judge_rows
from erpcare.inspections.testing import erpnext
from erpcare.inspections.testing.erpnext import ErpNextDb
from erpcare.inspections.tests import mariadb_server

PACK = parse_pack((PACKS_DIR / "erpnext.yaml").read_text(encoding="utf-8"), origin="erpnext.yaml")
CHECKS = {check.code: check for check in PACK.checks}
ISSUE_CHECKS = {
    "posted-moves-unbalanced",
    "trial-balance-by-period",
    "negative-stock",
    "purchases-awaiting-approval",
    "draft-invoices-forgotten",
    "invoice-number-gaps",
    "invoice-number-duplicates",
    "scheduled-jobs-stopped-or-overdue",
    "active-users-not-signed-in",
    "administrators-added",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ErpNextDb, SourceSpec]]:
    """MariaDB 10.11 with the fixture schema and a reader that may only SELECT."""
    pytest.importorskip("pymysql", reason="PyMySQL (the `mysql` extra) is not installed")
    if mariadb_server.binary() is None:
        pytest.skip("mariadb-server is not installed (apt-get install -y mariadb-server)")
    server = mariadb_server.MariaDB(tmp_path_factory.mktemp("erpnext")).start()
    try:
        db = ErpNextDb(root=server.root, database="erpnext_site")
        erpnext.create_schema(db)
        server.execute(
            "CREATE USER 'erpcare'@'127.0.0.1' IDENTIFIED BY 'read only'",
            "GRANT SELECT ON erpnext_site.* TO 'erpcare'@'127.0.0.1'",
        )
        spec = SourceSpec(
            kind="mysql",
            host="127.0.0.1",
            port=server.port,
            database="erpnext_site",
            username="erpcare",
            password="read only",
            timeout_ms=10_000,
            max_rows=100,
        )
        yield db, spec
    finally:
        server.stop()


@pytest.fixture
def db(site: tuple[ErpNextDb, SourceSpec]) -> ErpNextDb:
    erpnext.load_clean(site[0])
    return site[0]


@pytest.fixture
def spec(site: tuple[ErpNextDb, SourceSpec]) -> SourceSpec:
    return site[1]


def run_all(
    spec: SourceSpec, previous: dict[str, float | None] | None = None
) -> dict[str, Verdict]:
    previous = previous or {}
    verdicts = {}
    for code, check in CHECKS.items():
        answer = run_query(spec, check.query, check.params.get("sql_params", {}))
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


def test_the_pack_covers_the_issue_for_erpnext_on_mariadb() -> None:
    assert set(CHECKS) == ISSUE_CHECKS
    assert {check.source_kind for check in PACK.checks} == {SourceKind.MYSQL}
    assert all(check.erp_products == ["erpnext"] for check in PACK.checks)
    administrators = CHECKS["administrators-added"]
    assert (administrators.condition, administrators.warn, administrators.critical) == (
        Condition.CHANGE_AT_MOST,
        0.0,
        0.0,
    )


def test_a_clean_erpnext_passes_every_check(db: ErpNextDb, spec: SourceSpec) -> None:
    first = run_all(spec)
    second = run_all(spec, previous=values(first))
    assert failing(first) == {}
    assert failing(second) == {}
    # Administrator only: the disabled former admin, a page and a role profile do not count.
    assert second["administrators-added"].value == 1.0


def test_the_reader_cannot_write(db: ErpNextDb, spec: SourceSpec) -> None:
    with pytest.raises(RunnerError):
        run_query(spec, "DELETE FROM `tabGL Entry`")
    assert db.execute("SELECT COUNT(*) FROM `tabGL Entry`")[0][0] > 0


def test_an_unbalanced_voucher_is_found_with_its_month(db: ErpNextDb, spec: SourceSpec) -> None:
    voucher, company_month = erpnext.unbalance_voucher(db)
    verdicts = run_all(spec)
    assert failing(verdicts) == {
        "posted-moves-unbalanced": [voucher],
        "trial-balance-by-period": [company_month[0]],
    }
    (finding,) = verdicts["trial-balance-by-period"].findings
    assert (finding["company"], finding["period"]) == company_month
    assert finding["debit"] - finding["credit"] == pytest.approx(100)


def test_a_negative_bin_names_item_and_warehouse(db: ErpNextDb, spec: SourceSpec) -> None:
    item, warehouse = erpnext.negative_bin(db)
    verdicts = run_all(spec)
    assert failing(verdicts) == {"negative-stock": [item]}
    (finding,) = verdicts["negative-stock"].findings
    assert (finding["warehouse"], finding["actual_qty"]) == (warehouse, pytest.approx(-7))


def test_a_purchase_order_in_draft_for_30_days_is_found(db: ErpNextDb, spec: SourceSpec) -> None:
    broken = erpnext.stale_purchase_order(db, days=30)
    assert failing(run_all(spec)) == {"purchases-awaiting-approval": broken}


def test_a_draft_invoice_forgotten_for_30_days_is_found(db: ErpNextDb, spec: SourceSpec) -> None:
    broken = erpnext.stale_draft_invoice(db, days=30)
    assert failing(run_all(spec)) == {"draft-invoices-forgotten": broken}


def test_a_deleted_invoice_leaves_a_gap_found_at_the_next_number(
    db: ErpNextDb, spec: SourceSpec
) -> None:
    following, gone = erpnext.delete_submitted_invoice(db)
    verdicts = run_all(spec)
    assert failing(verdicts) == {"invoice-number-gaps": [following]}
    (finding,) = verdicts["invoice-number-gaps"].findings
    number = int(gone.rsplit("-", 1)[1])
    assert (finding["first_missing"], finding["last_missing"]) == (number, number)


def test_an_imported_number_with_other_zeros_is_a_duplicate(
    db: ErpNextDb, spec: SourceSpec
) -> None:
    broken = erpnext.import_duplicate_number(db)
    assert failing(run_all(spec)) == {"invoice-number-duplicates": broken}


@pytest.mark.parametrize(
    ("corrupt", "problem"),
    [(erpnext.stop_job, "stopped"), (erpnext.stall_daily_job, "overdue")],
)
def test_a_stopped_or_overdue_scheduled_job_is_found(
    db: ErpNextDb, spec: SourceSpec, corrupt: Callable[[ErpNextDb], list[str]], problem: str
) -> None:
    broken = corrupt(db)
    verdicts = run_all(spec)
    assert failing(verdicts) == {"scheduled-jobs-stopped-or-overdue": broken}
    assert verdicts["scheduled-jobs-stopped-or-overdue"].findings[0]["problem"] == problem


def test_an_enabled_user_not_signed_in_for_120_days_is_found(
    db: ErpNextDb, spec: SourceSpec
) -> None:
    broken = erpnext.dormant_user(db, days=120)
    assert failing(run_all(spec)) == {"active-users-not-signed-in": broken}


def test_a_system_manager_added_since_the_last_run_is_critical(
    db: ErpNextDb, spec: SourceSpec
) -> None:
    before = run_all(spec)
    erpnext.add_system_manager(db)
    after = run_all(spec, previous=values(before))
    assert failing(after) == {"administrators-added": [2]}
    assert after["administrators-added"].status == ResultStatus.CRITICAL
    assert failing(run_all(spec, previous=values(after))) == {}
