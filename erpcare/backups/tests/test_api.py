"""The backups API: plans with their health, a plan's points (paged), a point with its
restore tests, back up now and test restore now (202) — per role and per customer; each
response checked against the OpenAPI document (``tickets/tests/test_openapi.py``'s
closed-schema check)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from erpcare.accounts.services import create_api_token
from erpcare.backups.models import BackupKind, BackupPlan, BackupPoint, PointStatus
from erpcare.backups.services.backup import run_backup
from erpcare.backups.tests.test_views import queued, run_queued
from erpcare.conftest import Cast
from erpcare.core import clock
from erpcare.inspections.tests import helpers
from erpcare.tickets.tests.test_openapi import check

pytestmark = pytest.mark.django_db

JSON = "application/json"
B = "/api/v1/backups"
KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()


@pytest.fixture(autouse=True)
def backup_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERPCARE_BACKUP_KEY", KEY)


@pytest.fixture
def spec(db: Any) -> dict[str, Any]:
    return Client().get("/api/v1/openapi.json").json()


@pytest.fixture
def plan(cast: Cast, tmp_path: Path) -> BackupPlan:
    source = helpers.sqlite_source(cast.acme_erp, helpers.erp_sqlite(tmp_path / "erp.sqlite"))
    return BackupPlan.objects.create(
        erp_instance=cast.acme_erp, name="Acme nightly", kind=BackupKind.SQLITE,
        data_source=source, directory=str(tmp_path / "backups"), key_tables=["move_line"],
        created_at=clock.now(),
    )  # fmt: skip


def api(user: Any) -> Client:
    _token, raw = create_api_token(user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def documented(spec: dict[str, Any], path: str, method: str, status: int, response: Any) -> None:
    operation = spec["paths"][path][method]
    content = operation["responses"][str(status)]["content"][JSON]
    check(content["schema"], spec, response.json())


def test_every_backups_operation_is_documented_with_its_rules(spec: dict[str, Any]) -> None:
    operations = {
        (method, path)
        for path, ops in spec["paths"].items()
        if path.startswith(B + "/")
        for method in ops
    }
    assert operations == {
        ("get", f"{B}/plans"),
        ("get", f"{B}/plans/{{plan_id}}"),
        ("get", f"{B}/plans/{{plan_id}}/points"),
        ("get", f"{B}/points/{{point_id}}"),
        ("post", f"{B}/plans/{{plan_id}}/backups"),
        ("post", f"{B}/points/{{point_id}}/restore-tests"),
    }
    for method, path in operations:
        operation = spec["paths"][path][method]
        assert "backups" in operation["tags"]
        assert "L2/L3 engineer" in operation["description"], (method, path)
        if method == "post":
            assert "403" in operation["description"], path
        for status in ("400", "401", "403", "404", "422"):
            assert status in operation["responses"], (method, path, status)


def test_an_engineer_backs_up_tests_the_restore_and_reads_the_results(
    cast: Cast, plan: BackupPlan, spec: dict[str, Any]
) -> None:
    client = api(cast.eric)
    listing = client.get(f"{B}/plans")
    assert listing.status_code == 200
    documented(spec, f"{B}/plans", "get", 200, listing)
    [item] = listing.json()["items"]
    assert (item["id"], item["customer"], item["health"]["backup"]["rating"]) == (
        plan.pk, "acme", "grey",
    )  # fmt: skip

    queued_backup = client.post(f"{B}/plans/{plan.pk}/backups")
    assert queued_backup.status_code == 202, queued_backup.content
    documented(spec, f"{B}/plans/{{plan_id}}/backups", "post", 202, queued_backup)
    assert queued_backup.json()["status"] == "queued"
    assert len(queued("erpcare.backups.tasks.back_up")) == 1
    run_queued()

    points = client.get(f"{B}/plans/{plan.pk}/points")
    documented(spec, f"{B}/plans/{{plan_id}}/points", "get", 200, points)
    [point] = points.json()["items"]
    assert point["status"] == "ok"
    assert point["key_table_rows"] == {"move_line": 4}
    assert len(point["sha256"]) == 64

    queued_test = client.post(f"{B}/points/{point['id']}/restore-tests")
    assert queued_test.status_code == 202, queued_test.content
    documented(spec, f"{B}/points/{{point_id}}/restore-tests", "post", 202, queued_test)
    run_queued()

    detail = client.get(f"{B}/points/{point['id']}")
    documented(spec, f"{B}/points/{{point_id}}", "get", 200, detail)
    [test] = detail.json()["restore_tests"]
    assert (test["status"], test["scratch_dropped"]) == ("ok", True)
    assert {c["check"] for c in test["checks"]} >= {"checksum", "tables", "row counts"}
    assert test["restore_seconds"] is not None

    one = client.get(f"{B}/plans/{plan.pk}")
    documented(spec, f"{B}/plans/{{plan_id}}", "get", 200, one)
    health = one.json()["health"]
    assert (health["rating"], health["last_restore_test_status"]) == ("green", "ok")
    assert health["measured_rto_seconds"] is not None


def test_points_are_paged_newest_first(cast: Cast, plan: BackupPlan) -> None:
    ids = [run_backup(plan).pk for _ in range(3)]
    client = api(cast.audra)
    first = client.get(f"{B}/plans/{plan.pk}/points?page_size=2").json()
    assert [p["id"] for p in first["items"]] == ids[::-1][:2]
    assert first["has_next"] is True
    second = client.get(f"{B}/plans/{plan.pk}/points?page_size=2&page=2").json()
    assert [p["id"] for p in second["items"]] == [ids[0]]
    assert client.get(f"{B}/plans/{plan.pk}/points?page_size=1000").status_code == 422


@pytest.mark.parametrize("who", ["alice", "bob", "lina", "vera"])
def test_customers_and_l1_get_404(cast: Cast, plan: BackupPlan, who: str) -> None:
    point = run_backup(plan)
    client = api(getattr(cast, who))
    assert client.get(f"{B}/plans").json()["items"] == []
    for url in (f"{B}/plans/{plan.pk}", f"{B}/plans/{plan.pk}/points", f"{B}/points/{point.pk}"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "not found" in response.json()["detail"]
    assert client.post(f"{B}/plans/{plan.pk}/backups").status_code == 404
    assert client.post(f"{B}/points/{point.pk}/restore-tests").status_code == 404
    assert queued("erpcare.backups.tasks.back_up") == []


def test_an_auditor_reads_but_may_not_start_anything(
    cast: Cast, plan: BackupPlan, spec: dict[str, Any]
) -> None:
    point = run_backup(plan)
    client = api(cast.audra)
    assert client.get(f"{B}/plans/{plan.pk}").status_code == 200
    refused = client.post(f"{B}/plans/{plan.pk}/backups")
    assert refused.status_code == 403
    documented(spec, f"{B}/plans/{{plan_id}}/backups", "post", 403, refused)
    assert client.post(f"{B}/points/{point.pk}/restore-tests").status_code == 403
    assert queued("erpcare.backups.tasks.back_up") == []


def test_a_failed_point_is_not_restore_tested_and_unknown_ids_are_404(
    cast: Cast, plan: BackupPlan, spec: dict[str, Any]
) -> None:
    failed = BackupPoint.objects.create(
        plan=plan, status=PointStatus.FAILED, started_at=clock.now(), error="disk full"
    )
    client = api(cast.mona)
    refused = client.post(f"{B}/points/{failed.pk}/restore-tests")
    assert refused.status_code == 400
    documented(spec, f"{B}/points/{{point_id}}/restore-tests", "post", 400, refused)
    assert "successful" in refused.json()["detail"]
    assert client.get(f"{B}/plans/999999").status_code == 404
    assert client.get(f"{B}/points/999999").status_code == 404


def test_own_database_plans_are_listed_for_administrators_only(cast: Cast, tmp_path: Path) -> None:
    own = BackupPlan.objects.create(
        erp_instance=None, name="ERPCare itself", kind=BackupKind.SQLITE,
        directory=str(tmp_path / "own"), created_at=clock.now(),
    )  # fmt: skip
    assert [p["id"] for p in api(cast.adam).get(f"{B}/plans").json()["items"]] == [own.pk]
    assert api(cast.adam).get(f"{B}/plans/{own.pk}").json()["customer"] is None
    for user in (cast.mona, cast.audra):
        assert api(user).get(f"{B}/plans").json()["items"] == []
        assert api(user).get(f"{B}/plans/{own.pk}").status_code == 404
