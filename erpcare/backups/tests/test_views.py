"""The backups pages: who may open them (per role and per customer; ERPCare's own
database for administrators), the plan form and its errors, a scratch password that never
comes back, "back up now" and "test restore now" queued and carried out by the real tasks
on a real SQLite file, restore for real, the retention preview and prune, delete."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from erpcare.accounts.models import Team
from erpcare.accounts.services import add_team_member, create_user
from erpcare.audit.models import AuditEntry
from erpcare.backups.models import (
    BackupKind,
    BackupPlan,
    BackupPoint,
    PointStatus,
    RestoreStatus,
    RestoreTest,
)
from erpcare.backups.services.backup import run_backup, store_for
from erpcare.backups.services.specs import own_database_spec
from erpcare.conftest import PASSWORD, Cast
from erpcare.core import clock
from erpcare.inspections.models import DataSource
from erpcare.inspections.tests import helpers

pytestmark = pytest.mark.django_db

KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
SECRET = "Zq-9v!scratch-secret-Xk7w"
S3_SECRET = "wJalr-s3-SECRET-Pq81Lm"
READERS = ["eric", "xu", "mona", "adam", "audra"]
RUNNERS = ["eric", "xu", "mona", "adam"]
NOT_READERS = ["alice", "bob", "lina", "vera"]


@pytest.fixture(autouse=True)
def backup_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERPCARE_BACKUP_KEY", KEY)


def signed_in(user: Any) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


def queued(task: str) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=task).order_by("enqueued_at"))


def run_queued() -> list[Any]:
    """Carry out every queued task as the worker would, in order."""
    answers = []
    for row in DBTaskResult.objects.order_by("enqueued_at"):
        args = row.args_kwargs
        answers.append(row.task.call(*args["args"], **args["kwargs"]))
        row.delete()
    return answers


@pytest.fixture
def erp_file(tmp_path: Path) -> Path:
    return helpers.erp_sqlite(tmp_path / "erp.sqlite")


@pytest.fixture
def source(cast: Cast, erp_file: Path) -> DataSource:
    return helpers.sqlite_source(cast.acme_erp, erp_file)


def make_plan(instance: Any, source: DataSource | None, tmp: Path, **kw: Any) -> BackupPlan:
    values: dict[str, Any] = {
        "erp_instance": instance,
        "name": "Acme nightly",
        "kind": BackupKind.SQLITE,
        "data_source": source,
        "directory": str(tmp / "backups"),
        "key_tables": ["move_line"],
        "created_at": clock.now(),
    }
    values.update(kw)
    return BackupPlan.objects.create(**values)


@pytest.fixture
def plan(cast: Cast, source: DataSource, tmp_path: Path) -> BackupPlan:
    return make_plan(cast.acme_erp, source, tmp_path)


@pytest.fixture
def point(plan: BackupPlan) -> BackupPoint:
    made = run_backup(plan)
    assert made.status == PointStatus.OK, made.error
    return made


def plan_post(target: Any, source: Any, tmp: Path, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Acme PRD nightly", "target": str(target), "kind": "sqlite",
        "data_source": str(source) if source is not None else "",
        "directory": str(tmp / "new-backups"), "encrypt": "on", "schedule": "30 1 * * *",
        "verify_schedule": "0 5 * * 6", "keep_daily": "7", "keep_weekly": "4",
        "keep_monthly": "6", "timeout_seconds": "600", "verify_timeout_seconds": "900",
        "key_tables": "move_line, stock\nmove_line", "newest_document_sql": "",
        "run_business_checks": "on", "external_path": "", "rpo_hours": "26",
        "rto_minutes": "30", "scratch_host": "", "scratch_port": "", "scratch_user": "",
        "scratch_password": "", "s3_bucket": "", "s3_prefix": "", "s3_endpoint_url": "",
        "s3_region": "", "s3_access_key": "", "s3_secret_key": "", "keep_local": "on",
        "is_active": "on",
    }  # fmt: skip
    data.update(kw)
    return data


def pages_of(plan: BackupPlan, point: BackupPoint) -> list[str]:
    return [
        reverse("backups:overview"),
        reverse("backups:plan", args=[plan.pk]),
        reverse("backups:point", args=[point.pk]),
        reverse("backups:prune", args=[plan.pk]),
    ]


# ---------------------------------------------------------------------------
# Who may open the pages
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", NOT_READERS)
def test_customers_and_l1_agents_get_404_everywhere(
    cast: Cast, plan: BackupPlan, point: BackupPoint, tmp_path: Path, who: str
) -> None:
    client = signed_in(getattr(cast, who))
    for url in pages_of(plan, point):
        assert client.get(url).status_code == 404, url
    posts = [
        (reverse("backups:plan_new"), plan_post(cast.acme_erp.pk, plan.data_source_id, tmp_path)),
        (reverse("backups:plan_edit", args=[plan.pk]), {}),
        (reverse("backups:plan_delete", args=[plan.pk]), {}),
        (reverse("backups:backup_now", args=[plan.pk]), {}),
        (reverse("backups:prune", args=[plan.pk]), {}),
        (reverse("backups:restore_test_now", args=[point.pk]), {}),
        (reverse("backups:restore_for_real", args=[point.pk]), {"target": "x", "confirm": "x"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert BackupPlan.objects.count() == 1
    assert not DBTaskResult.objects.exists()
    if who in ("lina", "vera"):
        assert 'data-testid="nav-backups"' not in client.get("/desk/").content.decode()


@pytest.mark.parametrize("who", READERS)
def test_readers_see_every_page_and_the_nav_item(
    cast: Cast, plan: BackupPlan, point: BackupPoint, who: str
) -> None:
    client = signed_in(getattr(cast, who))
    for url in pages_of(plan, point):
        assert client.get(url).status_code == 200, url
    assert 'data-testid="nav-backups"' in client.get("/desk/").content.decode()
    page = client.get(reverse("backups:plan", args=[plan.pk])).content.decode()
    assert ('data-testid="backup-now"' in page) is (who in RUNNERS)
    assert ('data-testid="plan-edit"' in page) is (who in ("mona", "adam"))


@pytest.mark.parametrize("who", ["eric", "xu", "audra"])
def test_only_managers_and_admins_change_plans(
    cast: Cast, plan: BackupPlan, point: BackupPoint, tmp_path: Path, who: str
) -> None:
    client = signed_in(getattr(cast, who))
    refused = [
        ("get", reverse("backups:plan_new"), {}),
        ("post", reverse("backups:plan_new"), plan_post(cast.acme_erp.pk, plan.data_source_id,
                                                        tmp_path)),
        ("get", reverse("backups:plan_edit", args=[plan.pk]), {}),
        ("post", reverse("backups:plan_edit", args=[plan.pk]), {}),
        ("post", reverse("backups:plan_delete", args=[plan.pk]), {}),
        ("post", reverse("backups:prune", args=[plan.pk]), {}),
        ("post", reverse("backups:restore_for_real", args=[point.pk]),
         {"target": "acme_drill", "confirm": "acme_drill"}),
    ]  # fmt: skip
    for method, url, data in refused:
        assert getattr(client, method)(url, data).status_code == 404, url
    assert BackupPlan.objects.count() == 1
    assert not DBTaskResult.objects.exists()
    page = client.get(reverse("backups:point", args=[point.pk])).content.decode()
    assert 'data-testid="restore-form"' not in page


def test_an_auditor_reads_but_starts_nothing(
    cast: Cast, plan: BackupPlan, point: BackupPoint
) -> None:
    client = signed_in(cast.audra)
    assert client.post(reverse("backups:backup_now", args=[plan.pk])).status_code == 404
    assert client.post(reverse("backups:restore_test_now", args=[point.pk])).status_code == 404
    assert not DBTaskResult.objects.exists()
    page = client.get(reverse("backups:point", args=[point.pk])).content.decode()
    assert 'data-testid="restore-test-now"' not in page


def test_an_engineer_sees_only_the_customers_his_team_serves(
    cast: Cast, plan: BackupPlan, erp_file: Path, tmp_path: Path
) -> None:
    team = Team.objects.create(code="l2-acme", name="Acme L2", tier=2, serves_all_customers=False)
    team.customers.add(cast.acme)
    ivan = create_user(
        email="ivan@erpcare.example", display_name="Ivan", role_code="l2_engineer",
        password=PASSWORD,
    )  # fmt: skip
    add_team_member(team=team, user=ivan)
    globex_source = helpers.sqlite_source(cast.globex_erp, erp_file)
    globex = make_plan(cast.globex_erp, globex_source, tmp_path / "g", name="Globex nightly")
    globex_point = run_backup(globex)
    client = signed_in(ivan)
    overview = client.get(reverse("backups:overview")).content.decode()
    assert "Acme nightly" in overview
    assert "Globex nightly" not in overview
    assert client.get(reverse("backups:plan", args=[globex.pk])).status_code == 404
    assert client.get(reverse("backups:point", args=[globex_point.pk])).status_code == 404
    assert client.post(reverse("backups:backup_now", args=[globex.pk])).status_code == 404
    assert client.post(reverse("backups:backup_now", args=[plan.pk])).status_code == 302
    assert len(queued("erpcare.backups.tasks.back_up")) == 1


def test_signed_out_visitors_are_sent_to_sign_in(cast: Cast) -> None:
    response = Client().get(reverse("backups:overview"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_own_database_plans_are_for_administrators_only(cast: Cast, tmp_path: Path) -> None:
    own_kind = own_database_spec().kind
    mona = signed_in(cast.mona)
    form = mona.get(reverse("backups:plan_new")).content.decode()
    assert "ERPCare&#x27;s own database" not in form
    refused = mona.post(
        reverse("backups:plan_new"), plan_post("own", None, tmp_path, kind=own_kind)
    )
    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()
    assert not BackupPlan.objects.exists()

    adam = signed_in(cast.adam)
    assert "ERPCare&#x27;s own database" in adam.get(reverse("backups:plan_new")).content.decode()
    response = adam.post(
        reverse("backups:plan_new"), plan_post("own", None, tmp_path, kind=own_kind, name="Own")
    )
    assert response.status_code == 302, response.content.decode()
    own = BackupPlan.objects.get()
    assert (own.erp_instance, own.kind, own.data_source) == (None, own_kind, None)
    # Managers and engineers never see it.
    for user in (cast.mona, cast.eric, cast.audra):
        client = signed_in(user)
        assert client.get(reverse("backups:plan", args=[own.pk])).status_code == 404
        assert "Own" not in client.get(reverse("backups:overview")).content.decode()
    assert adam.get(reverse("backups:plan", args=[own.pk])).status_code == 200


# ---------------------------------------------------------------------------
# The plan form
# ---------------------------------------------------------------------------


def test_a_manager_adds_a_plan_and_sees_it_in_the_overview(
    cast: Cast, source: DataSource, tmp_path: Path
) -> None:
    client = signed_in(cast.mona)
    assert client.get(reverse("backups:plan_new")).status_code == 200
    response = client.post(
        reverse("backups:plan_new"), plan_post(cast.acme_erp.pk, source.pk, tmp_path)
    )
    assert response.status_code == 302, response.content.decode()
    plan = BackupPlan.objects.get()
    assert (plan.erp_instance, plan.data_source, plan.kind) == (cast.acme_erp, source, "sqlite")
    assert plan.key_tables == ["move_line", "stock"]
    assert (plan.keep_daily, plan.keep_weekly, plan.keep_monthly) == (7, 4, 6)
    assert (plan.schedule, plan.rpo_hours, plan.rto_minutes) == ("30 1 * * *", 26, 30)
    assert plan.created_by == cast.mona
    entry = AuditEntry.objects.get(action="backups.plan_created")
    assert entry.data["key_tables"] == ["move_line", "stock"]
    overview = client.get(reverse("backups:overview")).content.decode()
    # Nothing backed up (grey), never restore-tested (yellow): yellow, with both reasons.
    assert 'data-rating="yellow"' in overview
    assert "No backup yet." in overview
    assert "Acme PRD nightly" in overview
    assert (
        cast.acme_erp.name
        in client.get(reverse("backups:overview"), {"customer": "acme"}).content.decode()
    )
    assert (
        "Acme PRD nightly"
        not in client.get(reverse("backups:overview"), {"customer": "globex"}).content.decode()
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"schedule": "every night"}, "schedule", "is not a cron schedule"),
        ({"verify_schedule": "61 * * * *"}, "verify_schedule", "is not a cron schedule"),
        ({"keep_daily": "-1"}, "keep_daily", "greater than or equal to 0"),
        (
            {"keep_daily": "0", "keep_weekly": "0", "keep_monthly": "0"},
            None,
            "would delete every backup",
        ),
        ({"kind": "postgresql"}, "data_source", "the plan backs up PostgreSQL"),
        ({"data_source": ""}, None, "Choose the data source"),
        ({"directory": "relative/dir"}, None, "absolute path"),
        ({"timeout_seconds": "1"}, "timeout_seconds", "greater than or equal to 10"),
        ({"newest_document_sql": "DELETE FROM move_line"}, None, "one SELECT"),
        ({"kind": "external", "external_path": ""}, None, "file pattern"),
        ({"s3_bucket": "Acme_Backups"}, None, "is not an S3 bucket name"),
        ({"s3_bucket": "acme-backups", "s3_endpoint_url": "ftp://minio"}, None, "https://"),
    ],
)
def test_bad_plan_settings_get_a_clear_error_and_change_nothing(
    cast: Cast,
    source: DataSource,
    tmp_path: Path,
    changes: dict[str, str],
    field: str | None,
    message: str,
) -> None:
    client = signed_in(cast.mona)
    response = client.post(
        reverse("backups:plan_new"), plan_post(cast.acme_erp.pk, source.pk, tmp_path, **changes)
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    if field is not None:
        assert f'data-testid="field-error-{field}"' in page
    else:
        assert 'data-testid="form-error"' in page
    assert not BackupPlan.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="backups.").exists()


def test_a_data_source_of_another_instance_is_refused(
    cast: Cast, erp_file: Path, tmp_path: Path
) -> None:
    globex_source = helpers.sqlite_source(cast.globex_erp, erp_file)
    client = signed_in(cast.mona)
    response = client.post(
        reverse("backups:plan_new"), plan_post(cast.acme_erp.pk, globex_source.pk, tmp_path)
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="field-error-data_source"' in page
    assert "belongs to another ERP instance" in page
    assert not BackupPlan.objects.exists()


def test_the_scratch_password_is_written_never_shown(cast: Cast, tmp_path: Path) -> None:
    now = clock.now()
    pg = DataSource.objects.create(
        erp_instance=cast.acme_erp, name="ERP PG", kind="postgresql", host="127.0.0.1",
        port=54330, database="erp", username="backup", created_at=now, updated_at=now,
    )  # fmt: skip
    client = signed_in(cast.mona)
    data = plan_post(
        cast.acme_erp.pk, pg.pk, tmp_path, kind="postgresql", scratch_host="10.0.0.5",
        scratch_port="5433", scratch_user="restorer", scratch_password=SECRET,
        s3_bucket="acme-backups", s3_prefix="/prd/", s3_endpoint_url="http://127.0.0.1:9000",
        s3_access_key="AKIAEXAMPLE", s3_secret_key=S3_SECRET, keep_local="",
    )  # fmt: skip
    response = client.post(reverse("backups:plan_new"), data, follow=True)
    assert response.status_code == 200
    plan = BackupPlan.objects.get()
    assert (plan.scratch_host, plan.scratch_port, plan.scratch_user) == (
        "10.0.0.5", 5433, "restorer",
    )  # fmt: skip
    assert plan.scratch_password == SECRET
    assert (plan.s3_bucket, plan.s3_prefix, plan.keep_local) == ("acme-backups", "prd", False)
    assert plan.s3_secret_key == S3_SECRET
    assert "s3://acme-backups/prd" in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    edit_url = reverse("backups:plan_edit", args=[plan.pk])
    for page in (response.content.decode(), client.get(edit_url).content.decode()):
        for secret in (SECRET, S3_SECRET):
            assert secret not in page
            assert secret[-4:] not in page
    assert "A password is stored" in client.get(edit_url).content.decode()

    # Editing: an empty password keeps it; the database and kind stay.
    changed = {
        **data, "scratch_password": "", "s3_secret_key": "", "name": "Acme PG", "target": "",
        "kind": "sqlite",
    }  # fmt: skip
    assert client.post(edit_url, changed).status_code == 302
    plan.refresh_from_db()
    assert (plan.name, plan.kind, plan.erp_instance) == ("Acme PG", "postgresql", cast.acme_erp)
    assert (plan.scratch_password, plan.s3_secret_key) == (SECRET, S3_SECRET)
    both = client.post(edit_url, {**changed, "scratch_password": "x", "clear_scratch_password": 1})
    assert both.status_code == 400
    assert "not both" in both.content.decode()
    client.post(edit_url, {**changed, "clear_scratch_password": "on"})
    plan.refresh_from_db()
    assert plan.scratch_password == ""
    notes = list(
        AuditEntry.objects.filter(action="backups.plan_changed")
        .order_by("id")
        .values_list("data", flat=True)
    )
    assert [n["scratch_password"] for n in notes] == ["", "cleared"]
    # No bucket any more: the S3 secret key goes with it.
    client.post(edit_url, {**changed, "s3_bucket": ""})
    plan.refresh_from_db()
    assert (plan.s3_bucket, plan.s3_secret_key, plan.keep_local) == ("", "", True)
    audit = str(list(AuditEntry.objects.values_list("data", flat=True)))
    assert SECRET not in audit
    assert S3_SECRET not in audit


def test_a_changed_schedule_is_taken_up_by_the_scheduler(
    cast: Cast, plan: BackupPlan, tmp_path: Path
) -> None:
    later = clock.now() + timedelta(hours=3)
    BackupPlan.objects.filter(pk=plan.pk).update(next_backup_at=later, next_verify_at=later)
    client = signed_in(cast.adam)
    data = plan_post(cast.acme_erp.pk, plan.data_source_id, tmp_path, schedule="0 */6 * * *",
                     verify_schedule=plan.verify_schedule)  # fmt: skip
    assert client.post(reverse("backups:plan_edit", args=[plan.pk]), data).status_code == 302
    plan.refresh_from_db()
    assert plan.schedule == "0 */6 * * *"
    assert plan.next_backup_at is None
    assert plan.next_verify_at == later


def test_a_plan_is_deleted_after_confirmation_and_its_files_stay(
    cast: Cast, plan: BackupPlan, point: BackupPoint
) -> None:
    client = signed_in(cast.mona)
    page = client.get(reverse("backups:plan", args=[plan.pk])).content.decode()
    assert "return confirm(" in page
    assert client.get(reverse("backups:plan_delete", args=[plan.pk])).status_code == 405
    response = client.post(reverse("backups:plan_delete", args=[plan.pk]))
    assert response.status_code == 302
    assert not BackupPlan.objects.exists()
    assert not BackupPoint.objects.exists()
    assert store_for(plan).exists(point.artifact)
    entry = AuditEntry.objects.get(action="backups.plan_deleted")
    assert entry.data["points"] == 1


# ---------------------------------------------------------------------------
# Back up now, test restore now, restore for real
# ---------------------------------------------------------------------------


def test_back_up_now_and_test_restore_now_run_on_the_worker(cast: Cast, plan: BackupPlan) -> None:
    client = signed_in(cast.eric)
    response = client.post(reverse("backups:backup_now", args=[plan.pk]), follow=True)
    assert "The backup is queued" in response.content.decode()
    [task] = queued("erpcare.backups.tasks.back_up")
    assert task.args_kwargs["args"] == [plan.pk]
    run_queued()
    point = BackupPoint.objects.get()
    assert point.status == PointStatus.OK, point.error
    page = client.get(reverse("backups:plan", args=[plan.pk])).content.decode()
    assert f'data-point="{point.pk}"' in page
    assert point.sha256[:12] in page
    assert "move_line 4" in page  # the key table's exact count

    url = reverse("backups:restore_test_now", args=[point.pk])
    assert "The restore test is queued" in client.post(url, follow=True).content.decode()
    [task] = queued("erpcare.backups.tasks.verify_one")
    assert task.args_kwargs["args"] == [point.pk, cast.eric.pk]
    run_queued()
    test = RestoreTest.objects.get()
    assert (test.status, test.requested_by, test.scratch_dropped) == (
        RestoreStatus.OK, cast.eric, True,
    )  # fmt: skip
    page = client.get(reverse("backups:point", args=[point.pk])).content.decode()
    assert "Usable" in page
    assert 'data-check="row counts" data-status="ok"' in page
    assert 'data-testid="test-dropped"' in page
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"backups.backup_queued", "backups.restore_test_queued"} <= actions
    assert "backups.restore_tested" in actions
    overview = client.get(reverse("backups:overview")).content.decode()
    assert 'data-rating="green"' in overview


def test_a_failed_point_cannot_be_restore_tested(cast: Cast, plan: BackupPlan) -> None:
    failed = BackupPoint.objects.create(
        plan=plan, status=PointStatus.FAILED, started_at=clock.now(), error="disk full"
    )
    client = signed_in(cast.xu)
    page = client.get(reverse("backups:point", args=[failed.pk])).content.decode()
    assert 'data-testid="restore-test-now"' not in page
    assert "disk full" in page
    response = client.post(reverse("backups:restore_test_now", args=[failed.pk]), follow=True)
    assert "Only a successful backup point can be restored" in response.content.decode()
    assert not DBTaskResult.objects.exists()


def test_a_manager_restores_a_point_for_real_into_a_new_file(
    cast: Cast, plan: BackupPlan, point: BackupPoint
) -> None:
    client = signed_in(cast.mona)
    url = reverse("backups:restore_for_real", args=[point.pk])
    mismatch = client.post(url, {"target": "acme_drill", "confirm": "acme_dril"})
    assert mismatch.status_code == 400
    assert "again to confirm" in mismatch.content.decode()
    bad = client.post(url, {"target": "Acme Drill", "confirm": "Acme Drill"})
    assert bad.status_code == 400
    assert "lower-case letters" in bad.content.decode()
    assert not DBTaskResult.objects.exists()

    response = client.post(url, {"target": "acme_drill", "confirm": "acme_drill"}, follow=True)
    assert "is queued" in response.content.decode()
    [task] = queued("erpcare.backups.tasks_drill.restore_for_real")
    assert task.args_kwargs["args"] == [point.pk, "acme_drill", cast.mona.pk]
    run_queued()
    test = RestoreTest.objects.get()
    assert (test.status, test.drill_target) == (RestoreStatus.OK, "acme_drill"), test.message
    assert (Path(plan.directory) / "drills" / "acme_drill.sqlite3").is_file()
    page = client.get(reverse("backups:point", args=[point.pk])).content.decode()
    assert "restored for real into acme_drill" in page
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"backups.restore_for_real_queued", "backups.restored_for_real"} <= actions


# ---------------------------------------------------------------------------
# Retention
# ---------------------------------------------------------------------------


def test_the_retention_preview_lists_what_goes_and_prune_removes_it(
    cast: Cast, plan: BackupPlan, point: BackupPoint
) -> None:
    BackupPlan.objects.filter(pk=plan.pk).update(keep_daily=1, keep_weekly=0, keep_monthly=0)
    plan.refresh_from_db()
    now = clock.now()
    older = []
    for days in (2, 3):
        at = now - timedelta(days=days)
        older.append(
            BackupPoint.objects.create(
                plan=plan, status=PointStatus.FAILED, started_at=at, finished_at=at, error="x"
            )
        )
    auditor = signed_in(cast.audra)
    page = auditor.get(reverse("backups:prune", args=[plan.pk])).content.decode()
    for gone in older:
        assert f'data-point="{gone.pk}"' in page
    assert f'data-point="{point.pk}"' not in page
    assert "superseded by a newer successful backup" in page
    assert 'data-testid="prune-now"' not in page  # auditors do not prune
    assert BackupPoint.objects.filter(pruned_at__isnull=False).count() == 0

    manager = signed_in(cast.mona)
    assert (
        'data-testid="prune-now"'
        in manager.get(reverse("backups:prune", args=[plan.pk])).content.decode()
    )
    response = manager.post(reverse("backups:prune", args=[plan.pk]), follow=True)
    assert "2 backup point(s) removed" in response.content.decode()
    assert BackupPoint.objects.filter(pruned_at__isnull=False).count() == 2
    assert store_for(plan).exists(point.artifact)
    entry = AuditEntry.objects.get(action="backups.pruned")
    assert sorted(entry.data["removed"]) == sorted(p.pk for p in older)
