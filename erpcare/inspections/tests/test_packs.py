"""Packs as YAML: strict validation with errors naming the file, the check and the field;
import as an upsert with versions and revisions; export that imports back equal; the
shipped packs."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from erpcare.audit.models import AuditEntry
from erpcare.conftest import Cast
from erpcare.inspections.models import (
    Check,
    CheckPack,
    CheckRevision,
    Condition,
    ResultStatus,
    SourceKind,
)
from erpcare.inspections.packs import (
    PackError,
    export_pack,
    import_pack,
    install_shipped_packs,
    parse_pack,
)
from erpcare.inspections.packs.loader import (
    MAX_PACK_BYTES,
    PACKS_DIR,
    shipped_pack_files,
    sql_parameters,
    stored_definition,
)
from erpcare.inspections.runners.spec import RunnerError, SourceSpec
from erpcare.inspections.runners.sql import QueryResult, run_query
from erpcare.inspections.services.evaluate import judge_rows
from erpcare.inspections.tests import mariadb_server

BASE: dict[str, Any] = {
    "code": "erp-sample",
    "name": "Sample pack",
    "version": "1",
    "description": "For tests.",
    "checks": [
        {
            "code": "unbalanced-moves",
            "name": "Posted moves whose debits differ from credits",
            "kind": "sql",
            "source_kind": "postgresql",
            "erp_products": ["tryton"],
            "layer": "business",
            "module": "gl",
            "severity": "critical",
            "condition": "rows_empty",
            "schedule": "0 6 * * *",
            "params": {"sql_params": {"days": 30}},
            "query": (
                "SELECT m.id, sum(l.debit) AS debit, sum(l.credit) AS credit\n"
                "FROM account_move m JOIN account_move_line l ON l.move = m.id\n"
                "WHERE m.state = 'posted' AND m.date > current_date - :days::int\n"
                "GROUP BY m.id HAVING sum(l.debit) <> sum(l.credit)\n"
            ),
            "why": "Unbalanced moves break the trial balance.",
            "remedy": "Find who wrote the move outside Tryton and correct it.",
            "reference": "https://docs.tryton.org/",
        },
        {
            "code": "disk-used",
            "name": "Disk used",
            "kind": "promql",
            "source_kind": "prometheus",
            "layer": "host",
            "severity": "high",
            "condition": "value_at_most",
            "warn": 90,
            "critical": 95.5,
            "query": "100 * (1 - node_filesystem_avail_bytes / node_filesystem_size_bytes)",
            "why": "Full disks stop databases.",
            "remedy": "Free space.",
        },
        {
            "code": "portal-up",
            "name": "Portal answers",
            "kind": "http",
            "source_kind": "http",
            "layer": "application",
            "module": "",
            "severity": "warning",
            "condition": "probe",
            "schedule": "*/5 * * * *",
            "params": {"expect_status": 200, "contains": "ok", "tls_warn_days": 21},
            "query": "/healthz",
            "why": "Users reach the ERP here.",
            "remedy": "Restart the web front.",
        },
    ],
}


def pack_text(**changes: Any) -> str:
    """BASE with top-level changes; ``check_<n>`` = {field: value or DELETE} edits check n."""
    data = yaml.safe_load(yaml.safe_dump(BASE))
    for key, value in changes.items():
        if key.startswith("check_"):
            check = data["checks"][int(key.removeprefix("check_"))]
            for name, new in value.items():
                if new is DELETE:
                    check.pop(name, None)
                else:
                    check[name] = new
        elif value is DELETE:
            data.pop(key, None)
        else:
            data[key] = value
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


DELETE = object()


def refused(text: str, origin: str = "sample.yaml") -> PackError:
    with pytest.raises(PackError) as caught:
        parse_pack(text, origin=origin)
    return caught.value


# --- parsing -----------------------------------------------------------------------------


def test_a_valid_pack_parses_with_defaults_filled_in() -> None:
    pack = parse_pack(pack_text(), origin="sample.yaml")
    assert (pack.code, pack.version, len(pack.checks)) == ("erp-sample", "1", 3)
    disk = pack.checks[1]
    assert (disk.warn, disk.critical) == (90.0, 95.5)
    assert disk.schedule == "0 6 * * *"
    assert disk.erp_products == []
    assert disk.module == ""
    assert disk.params == {}
    assert disk.reference == ""
    assert pack.checks[0].params == {"sql_params": {"days": 30}}


def test_the_error_names_the_file_the_check_and_the_field() -> None:
    error = refused(pack_text(check_1={"warn": "ninety"}))
    assert (error.origin, error.check, error.field) == ("sample.yaml", "disk-used", "warn")
    assert str(error) == (
        "sample.yaml, check “disk-used”, field “warn”: Expected a number, got text."
    )


def test_text_that_is_not_yaml_is_refused() -> None:
    assert "Not valid YAML" in str(refused("code: [unclosed\n  name: x"))


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n", ""])
def test_a_document_that_is_not_a_mapping_is_refused(text: str) -> None:
    assert "is a mapping" in refused(text).problem


def test_a_yaml_bomb_is_refused_before_it_expands() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, 9):
        previous = chr(ord("a") + n - 1)
        lines.append(
            f"{chr(ord('a') + n)}: &{chr(ord('a') + n)} [{', '.join(['*' + previous] * 9)}]"
        )
    error = refused("\n".join(lines) + "\n")
    assert "anchors and aliases are not allowed" in error.problem


def test_a_pack_over_one_megabyte_is_refused() -> None:
    text = pack_text(description="x" * MAX_PACK_BYTES)
    assert "larger than" in refused(text).problem


def test_an_unknown_pack_field_is_refused() -> None:
    error = refused(pack_text(owner="me"))
    assert (error.check, error.field) == ("", "owner")


def test_an_unknown_check_field_is_refused() -> None:
    error = refused(pack_text(check_1={"critcal": 99}))
    assert (error.check, error.field) == ("disk-used", "critcal")


@pytest.mark.parametrize("field", ["code", "name", "kind", "layer", "query", "why", "remedy"])
def test_a_missing_required_field_is_refused(field: str) -> None:
    error = refused(pack_text(check_2={field: DELETE}))
    assert error.field == field
    assert "required" in error.problem


@pytest.mark.parametrize("field", ["name", "version", "checks"])
def test_a_missing_pack_field_is_refused(field: str) -> None:
    assert refused(pack_text(**{field: DELETE})).field == field


def test_a_pack_without_checks_is_refused() -> None:
    assert refused(pack_text(checks=[])).field == "checks"


def test_a_check_that_is_not_a_mapping_is_refused() -> None:
    error = refused(pack_text(checks=[*BASE["checks"], "sql"]))
    assert error.field == "checks"
    assert "number 4" in error.problem


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kind", "nosql"),
        ("source_kind", "oracle"),
        ("layer", "network"),
        ("severity", "urgent"),
        ("condition", "rows_few"),
        ("module", "crm"),
    ],
)
def test_a_value_outside_its_choices_is_refused(field: str, value: str) -> None:
    error = refused(pack_text(check_0={field: value}))
    assert error.field == field
    assert f"“{value}” is not one of" in error.problem


def test_an_unknown_erp_product_is_refused() -> None:
    assert refused(pack_text(check_0={"erp_products": ["navision"]})).field == "erp_products"
    assert refused(pack_text(check_0={"erp_products": "tryton"})).field == "erp_products"


@pytest.mark.parametrize("code", ["Disk Used", "disk--used", "-disk", "磁盘"])
def test_a_code_that_is_not_a_slug_is_refused(code: str) -> None:
    assert refused(pack_text(check_1={"code": code})).field == "code"


def test_two_checks_with_one_code_are_refused() -> None:
    error = refused(pack_text(check_1={"code": "portal-up"}))
    assert (error.check, error.field) == ("portal-up", "code")


@pytest.mark.parametrize("cron", ["every day", "61 * * * *", "* * * *", "0 6 * * * *", 15])
def test_a_schedule_that_is_not_cron_is_refused(cron: Any) -> None:
    assert refused(pack_text(check_1={"schedule": cron})).field == "schedule"


@pytest.mark.parametrize("value", ["90", True, [90], float("inf")])
def test_a_threshold_that_is_not_a_number_is_refused(value: Any) -> None:
    assert refused(pack_text(check_1={"critical": value})).field == "critical"


def test_value_at_most_thresholds_must_rise_from_warn_to_critical() -> None:
    error = refused(pack_text(check_1={"warn": 96, "critical": 95}))
    assert error.field == "critical"
    assert "at or above warn" in error.problem


def test_value_at_least_thresholds_must_fall_from_warn_to_critical() -> None:
    edit = {"condition": "value_at_least", "warn": 10, "critical": 20}
    assert refused(pack_text(check_1=edit)).field == "critical"
    parse_pack(pack_text(check_1={**edit, "warn": 20, "critical": 10}))


@pytest.mark.parametrize("condition", ["value_at_most", "value_at_least", "change_at_most"])
def test_a_value_condition_without_thresholds_is_refused(condition: str) -> None:
    edit = {"condition": condition, "warn": DELETE, "critical": DELETE}
    assert refused(pack_text(check_1=edit)).field == "warn"


@pytest.mark.parametrize(
    ("check", "source_kind"),
    [(0, "prometheus"), (0, "http"), (1, "postgresql"), (2, "mysql")],
)
def test_a_check_must_run_on_a_source_of_its_kind(check: int, source_kind: str) -> None:
    error = refused(pack_text(**{f"check_{check}": {"source_kind": source_kind}}))
    assert error.field == "source_kind"
    assert f"not {source_kind}" in error.problem


def test_sql_runs_on_every_database_kind() -> None:
    for kind in (SourceKind.MYSQL, SourceKind.SQLSERVER, SourceKind.SQLITE):
        parse_pack(pack_text(check_0={"source_kind": kind.value}))


def test_the_probe_condition_belongs_to_http_checks() -> None:
    assert refused(pack_text(check_0={"condition": "probe"})).field == "condition"
    assert refused(pack_text(check_2={"condition": "rows_empty"})).field == "condition"


def test_a_query_parameter_without_a_value_is_refused() -> None:
    error = refused(pack_text(check_0={"params": {"sql_params": {"day": 30}}}))
    assert error.field == "query"
    assert ":days" in error.problem


def test_sql_params_must_be_a_mapping_of_plain_values() -> None:
    assert refused(pack_text(check_0={"params": []})).field == "params"
    assert refused(pack_text(check_0={"params": {"sql_params": [30]}})).field == "params.sql_params"
    nested = {"params": {"sql_params": {"days": {"n": 30}}}}
    assert refused(pack_text(check_0=nested)).field == "params.sql_params.days"


def test_only_sql_checks_take_sql_params() -> None:
    edit = {"params": {"sql_params": {"days": 3}}}
    assert refused(pack_text(check_1=edit)).field == "params.sql_params"


def test_casts_literals_and_comments_are_not_parameters() -> None:
    sql = (
        "SELECT x::int, '10:30', \"a:b\" -- :not_me\n"
        "/* :nor_me */ FROM t WHERE a = :a AND b > :b AND c = :a"
    )
    assert sql_parameters(sql) == ["a", "b"]


def test_a_version_written_as_a_number_is_read_as_text() -> None:
    assert parse_pack(pack_text(version=2)).version == "2"
    assert refused(pack_text(version=2.5)).field == "version"


# --- import and export --------------------------------------------------------------------


def snapshot() -> list[tuple[Any, ...]]:
    return [
        (check.code, check.version, check.is_active, check.revisions.count())
        for check in Check.objects.order_by("code")
    ]


@pytest.mark.django_db
def test_import_creates_the_pack_its_checks_and_their_first_revision(cast: Cast) -> None:
    pack = import_pack(pack_text(), actor=cast.adam, origin="sample.yaml")
    assert (pack.code, pack.name, pack.version, pack.shipped) == (
        "erp-sample",
        "Sample pack",
        "1",
        False,
    )
    assert snapshot() == [
        ("disk-used", 1, True, 1),
        ("portal-up", 1, True, 1),
        ("unbalanced-moves", 1, True, 1),
    ]
    disk = Check.objects.get(code="disk-used")
    assert (disk.warn_threshold, disk.critical_threshold, disk.condition) == (
        90.0,
        95.5,
        Condition.VALUE_AT_MOST,
    )
    revision = disk.revisions.get()
    assert revision.created_by == cast.adam
    assert revision.definition == stored_definition(disk)
    entry = AuditEntry.objects.get(action="inspections.pack_imported")
    assert entry.actor == cast.adam
    assert entry.data["added"] == ["unbalanced-moves", "disk-used", "portal-up"]


@pytest.mark.django_db
def test_export_then_import_gives_the_same_pack_and_no_new_versions() -> None:
    pack = import_pack(pack_text())
    before = {c.code: stored_definition(c) for c in pack.checks.all()}
    exported = export_pack(pack)
    assert parse_pack(exported) == parse_pack(pack_text())
    import_pack(exported)
    after = {c.code: stored_definition(c) for c in Check.objects.all()}
    assert after == before
    assert snapshot() == [
        ("disk-used", 1, True, 1),
        ("portal-up", 1, True, 1),
        ("unbalanced-moves", 1, True, 1),
    ]
    assert export_pack(CheckPack.objects.get()) == exported
    assert "query: |" in exported  # multi-line SQL stays a readable block


@pytest.mark.django_db
def test_a_changed_check_gets_a_new_version_and_revision_and_the_others_stay(cast: Cast) -> None:
    import_pack(pack_text())
    import_pack(pack_text(version="2", check_1={"warn": 85}), actor=cast.eric)
    assert snapshot() == [
        ("disk-used", 2, True, 2),
        ("portal-up", 1, True, 1),
        ("unbalanced-moves", 1, True, 1),
    ]
    disk = Check.objects.get(code="disk-used")
    assert disk.warn_threshold == 85.0
    assert CheckPack.objects.get().version == "2"
    newest, first = disk.revisions.order_by("-version")
    assert (newest.version, newest.definition["warn"], newest.created_by) == (2, 85.0, cast.eric)
    assert (first.version, first.definition["warn"]) == (1, 90.0)
    import_pack(pack_text(version="3", check_0={"params": {"sql_params": {"days": 60}}}))
    assert Check.objects.get(code="unbalanced-moves").version == 2


@pytest.mark.django_db
def test_a_check_missing_from_the_yaml_is_deactivated_not_deleted_and_comes_back() -> None:
    import_pack(pack_text())
    without_disk = pack_text(checks=[BASE["checks"][0], BASE["checks"][2]])
    pack = import_pack(without_disk)
    assert snapshot() == [
        ("disk-used", 1, False, 1),
        ("portal-up", 1, True, 1),
        ("unbalanced-moves", 1, True, 1),
    ]
    assert "disk-used" not in export_pack(pack)
    assert AuditEntry.objects.filter(data__deactivated=["disk-used"]).count() == 1
    import_pack(pack_text())
    assert snapshot()[0] == ("disk-used", 1, True, 1)


@pytest.mark.django_db
def test_a_refused_import_changes_nothing() -> None:
    import_pack(pack_text())
    before = snapshot()
    with pytest.raises(PackError):
        import_pack(pack_text(version="2", check_1={"warn": 99}, check_2={"kind": "ftp"}))
    assert snapshot() == before
    assert CheckPack.objects.get().version == "1"
    assert CheckRevision.objects.count() == 3
    assert AuditEntry.objects.filter(action="inspections.pack_imported").count() == 1


# --- the shipped packs ---------------------------------------------------------------------


def test_the_shipped_packs_are_those_of_the_issue() -> None:
    assert [path.name for path in shipped_pack_files()] == [
        "erpnext.yaml",
        "host_prometheus.yaml",
        "mysql.yaml",
        "odoo.yaml",
        "postgresql.yaml",
        "tryton.yaml",
    ]


@pytest.mark.parametrize("path", shipped_pack_files(), ids=lambda path: path.name)
def test_every_shipped_check_says_why_what_to_do_and_where_its_thresholds_come_from(
    path: Path,
) -> None:
    pack = parse_pack(path.read_text(encoding="utf-8"), origin=path.name)
    assert pack.description
    for check in pack.checks:
        assert check.reference, check.code
        assert len(check.why) > 60, check.code
        assert len(check.remedy) > 60, check.code
        if check.condition != Condition.ROWS_EMPTY:
            assert None not in (check.warn, check.critical), check.code


def test_the_mysql_pack_covers_the_same_ideas() -> None:
    pack = parse_pack((PACKS_DIR / "mysql.yaml").read_text(encoding="utf-8"), origin="mysql.yaml")
    assert {check.code for check in pack.checks} >= {
        "connections-vs-max",
        "long-transactions",
        "lock-waits",
        "deadlocks",
        "buffer-pool-hit-ratio",
        "purge-lag",
        "table-free-space",
        "replication-lag",
        "slow-statements",
        "database-growth",
    }
    assert {check.source_kind for check in pack.checks} == {SourceKind.MYSQL}


def test_every_host_query_is_valid_promql(tmp_path: Path) -> None:
    """promtool (Debian package prometheus) parses each expression as a rule would."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package prometheus)")
    path = PACKS_DIR / "host_prometheus.yaml"
    pack = parse_pack(path.read_text(encoding="utf-8"), origin=path.name)
    assert {check.code for check in pack.checks} == {
        "disk-space",
        "disk-full-in-24h",
        "memory-used",
        "cpu-busy",
        "clock-skew",
        "systemd-failed-units",
        "tls-certificate-expiry",
    }
    rules = {
        "groups": [
            {
                "name": pack.code,
                "rules": [
                    {"record": f"erpcare:{check.code.replace('-', '_')}", "expr": check.query}
                    for check in pack.checks
                ],
            }
        ]
    }
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    done = subprocess.run(
        [promtool, "check", "rules", str(tmp_path / "rules.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(pack.checks)} rules found" in done.stdout
    # A broken expression does fail, so the check above means something.
    rules["groups"][0]["rules"].append({"record": "erpcare:broken", "expr": "rate(x[5m]"})
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    broken = subprocess.run(
        [promtool, "check", "rules", str(tmp_path / "rules.yml")],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert broken.returncode != 0


@pytest.mark.django_db
def test_installing_the_shipped_packs_twice_changes_nothing_the_second_time() -> None:
    packs = install_shipped_packs()
    assert sorted(pack.code for pack in packs) == [
        "erpnext-business-integrity",
        "host-prometheus",
        "mysql-health",
        "odoo-business-integrity",
        "postgresql-health",
        "tryton-business-integrity",
    ]
    assert all(pack.shipped for pack in CheckPack.objects.all())
    before = snapshot()
    # PostgreSQL (+ its two built-ins), MySQL, host, Tryton, Odoo, ERPNext
    assert len(before) == 11 + 2 + 10 + 7 + 22 + 10 + 10
    install_shipped_packs()
    assert snapshot() == before
    files = {
        "erpnext-business-integrity": "erpnext",
        "host-prometheus": "host_prometheus",
        "mysql-health": "mysql",
        "odoo-business-integrity": "odoo",
        "tryton-business-integrity": "tryton",
    }
    for pack in CheckPack.objects.all():
        path = PACKS_DIR / f"{files.get(pack.code, 'postgresql')}.yaml"
        assert parse_pack(export_pack(pack)) == parse_pack(path.read_text(encoding="utf-8"))


# --- the MySQL pack on a real MariaDB ----------------------------------------------------


@pytest.fixture(scope="module")
def maria(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, SourceSpec]]:
    """MariaDB 10.11 and a login with only PROCESS and SELECT, as the pack asks."""
    pytest.importorskip("pymysql", reason="PyMySQL (the `mysql` extra) is not installed")
    if mariadb_server.binary() is None:
        pytest.skip("mariadb-server is not installed (apt-get install -y mariadb-server)")
    server = mariadb_server.MariaDB(tmp_path_factory.mktemp("mariadb")).start()
    try:
        server.execute(
            "CREATE DATABASE erp",
            "CREATE TABLE erp.stock (id INT PRIMARY KEY, qty INT) ENGINE=InnoDB",
            "INSERT INTO erp.stock VALUES (1, 5), (2, 7)",
            "CREATE USER 'monitor'@'127.0.0.1' IDENTIFIED BY 'pw 42'",
            "GRANT PROCESS ON *.* TO 'monitor'@'127.0.0.1'",
            "GRANT SELECT ON erp.* TO 'monitor'@'127.0.0.1'",
            "GRANT SELECT ON performance_schema.* TO 'monitor'@'127.0.0.1'",
        )
        spec = SourceSpec(
            kind="mysql",
            host="127.0.0.1",
            port=server.port,
            database="erp",
            username="monitor",
            password="pw 42",
            timeout_ms=5000,
            max_rows=100,
        )
        yield server, spec
    finally:
        server.stop()


MYSQL_PACK = parse_pack((PACKS_DIR / "mysql.yaml").read_text(encoding="utf-8"), origin="mysql")
MYSQL_CHECKS = {check.code: check for check in MYSQL_PACK.checks}


def ask_maria(spec: SourceSpec, code: str, **sql_params: Any) -> QueryResult:
    check = MYSQL_CHECKS[code]
    return run_query(spec, check.query, {**check.params.get("sql_params", {}), **sql_params})


@pytest.mark.parametrize("code", sorted(set(MYSQL_CHECKS) - {"replication-lag"}))
def test_every_portable_mysql_query_runs_on_mariadb_in_its_conditions_shape(
    maria: tuple[Any, SourceSpec], code: str
) -> None:
    check = MYSQL_CHECKS[code]
    answer = ask_maria(maria[1], code)
    verdict = judge_rows(
        condition=check.condition,
        severity=check.severity,
        warn=check.warn,
        critical=check.critical,
        columns=answer.columns,
        rows=answer.rows,
        total=answer.total,
        previous_value=0.0,
    )
    assert verdict.status != ResultStatus.ERROR, verdict.message
    if check.condition != Condition.ROWS_EMPTY:
        assert len(answer.rows) == 1
    if code in ("deadlocks", "purge-lag"):
        assert answer.rows[0][1] == 1  # the InnoDB counter exists on MariaDB too


def test_replication_lag_is_mysql_8_only_and_says_so(maria: tuple[Any, SourceSpec]) -> None:
    assert "MySQL 8 only" in MYSQL_CHECKS["replication-lag"].name
    with pytest.raises(RunnerError):
        ask_maria(maria[1], "replication-lag")


def test_long_transactions_and_lock_waits_find_what_the_test_holds(
    maria: tuple[Any, SourceSpec],
) -> None:
    server, spec = maria
    assert ask_maria(spec, "lock-waits", min_wait_seconds=0).rows == []
    holder, waiter = server.root(), server.root()
    try:
        holder.autocommit(False)
        with holder.cursor() as cursor:
            cursor.execute("UPDATE erp.stock SET qty = qty - 1 WHERE id = 1")
        blocked = threading.Thread(
            target=lambda: waiter.cursor().execute("UPDATE erp.stock SET qty = 0 WHERE id = 1")
        )
        blocked.start()
        time.sleep(0.3)  # InnoDB refreshes what INNODB_TRX shows at most every 0.1 s
        oldest = ask_maria(spec, "long-transactions")
        deadline = time.monotonic() + 15
        waits = ask_maria(spec, "lock-waits", min_wait_seconds=1)
        while not waits.rows and time.monotonic() < deadline:
            time.sleep(0.3)
            waits = ask_maria(spec, "lock-waits", min_wait_seconds=1)
        shipped = ask_maria(spec, "lock-waits")  # the pack's own 10 s line: not yet
    finally:
        holder.rollback()
        blocked.join(timeout=15)
        holder.close()
        waiter.close()
    assert not blocked.is_alive()
    row = dict(zip(oldest.columns, oldest.rows[0], strict=True))
    assert row["thread_id"] == holder.thread_id()
    assert row["trx_rows_modified"] == 1
    waiting = [dict(zip(waits.columns, r, strict=True)) for r in waits.rows]
    assert [w["waiting_thread"] for w in waiting] == [waiter.thread_id()]
    assert waiting[0]["waiting_seconds"] >= 1
    assert shipped.rows == []


def test_a_built_in_check_must_name_a_built_in() -> None:
    from erpcare.inspections.packs.loader import PackError

    text = """
code: b
name: B
version: "1"
description: d
checks:
  - code: x
    name: X
    kind: builtin
    source_kind: postgresql
    layer: database
    severity: warning
    condition: value_at_most
    warn: 1
    critical: 2
    schedule: "0 * * * *"
    query: no_such_builtin
    why: w
    remedy: r
"""
    with pytest.raises(PackError, match="clock_skew, connect_time"):
        parse_pack(text, origin="b.yaml")
    parse_pack(text.replace("no_such_builtin", "clock_skew"), origin="b.yaml")
