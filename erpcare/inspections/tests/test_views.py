"""The inspections pages: who may open them (per role and per customer), data sources
whose password never comes back, "test connection" against real databases, assigned
checks, pack import/export/apply, runs (queued, carried out by the real task, shown),
the report, and the diagnosis panel on a desk ticket."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from erpcare.accounts.models import Team
from erpcare.accounts.services import add_team_member, create_user
from erpcare.audit.models import AuditEntry
from erpcare.conftest import PASSWORD, Cast
from erpcare.inspections.models import (
    CheckPack,
    DataSource,
    InspectionRun,
    InstanceCheck,
    RunStatus,
)
from erpcare.inspections.services.runs import run_checks
from erpcare.inspections.tasks import run_queued
from erpcare.inspections.tests import helpers
from erpcare.tickets.models import Comment
from erpcare.tickets.services import actions

pytestmark = pytest.mark.django_db

SECRET = "Zq-9v!unguessable-db-Xk7w"
PACK_YAML = """
code: tiny-ledger
name: Tiny ledger
version: "1"
description: One check for the tests.
checks:
  - code: unbalanced-moves
    name: Unbalanced journal entries
    kind: sql
    source_kind: sqlite
    layer: business
    module: gl
    severity: critical
    condition: rows_empty
    schedule: "0 6 * * *"
    query: |
      SELECT move, SUM(debit) AS debit, SUM(credit) AS credit FROM move_line
      GROUP BY move HAVING SUM(debit) <> SUM(credit) ORDER BY move
    why: Unbalanced entries make the trial balance wrong.
    remedy: Find the program that wrote them; correct with an adjusting entry.
    reference: https://example.org/double-entry
"""
READERS = ["eric", "xu", "mona", "adam", "audra"]
NOT_READERS = ["alice", "bob", "lina", "vera"]


def signed_in(user: Any) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


@pytest.fixture
def erp_file(tmp_path: Path) -> Path:
    return helpers.erp_sqlite(tmp_path / "erp.sqlite")


@pytest.fixture
def assigned(cast: Cast, erp_file: Path) -> InstanceCheck:
    source = helpers.sqlite_source(cast.acme_erp, erp_file)
    return helpers.assign(source, helpers.check())


def source_post(**kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "ERP PRD", "kind": "postgresql", "host": "127.0.0.1", "port": "54330",
        "database": "erp", "username": "inspector", "password": SECRET, "url": "",
        "options": "", "statement_timeout_ms": "5000", "max_rows": "100",
    }  # fmt: skip
    data.update(kw)
    return data


def pages_of(cast: Cast, assignment: InstanceCheck) -> list[str]:
    instance = cast.acme_erp.pk
    return [
        reverse("inspections:overview"),
        reverse("inspections:instance", args=[instance]),
        reverse("inspections:sources", args=[instance]),
        reverse("inspections:runs", args=[instance]),
        reverse("inspections:report", args=[instance]),
        reverse("inspections:packs"),
        reverse("inspections:pack", args=[assignment.check_ref.pack.code]),
        reverse("inspections:pack_export", args=[assignment.check_ref.pack.code]),
    ]


# ---------------------------------------------------------------------------
# Who may open the pages
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", NOT_READERS)
def test_customers_and_l1_agents_get_404_everywhere(
    cast: Cast, assigned: InstanceCheck, who: str
) -> None:
    client = signed_in(getattr(cast, who))
    run = run_checks([assigned])
    for url in [*pages_of(cast, assigned), reverse("inspections:run", args=[run.pk])]:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("inspections:run_now", args=[cast.acme_erp.pk])).status_code == 404
    assert InspectionRun.objects.count() == 1
    if who in ("lina", "vera"):
        assert 'data-testid="nav-inspections"' not in client.get("/desk/").content.decode()


@pytest.mark.parametrize("who", READERS)
def test_readers_see_every_page_and_the_nav_item(
    cast: Cast, assigned: InstanceCheck, who: str
) -> None:
    client = signed_in(getattr(cast, who))
    for url in pages_of(cast, assigned):
        assert client.get(url).status_code == 200, url
    assert 'data-testid="nav-inspections"' in client.get("/desk/").content.decode()


@pytest.mark.parametrize("who", ["eric", "xu", "audra"])
def test_only_managers_and_admins_change_settings(
    cast: Cast, assigned: InstanceCheck, who: str
) -> None:
    client = signed_in(getattr(cast, who))
    instance, source = cast.acme_erp.pk, assigned.data_source
    pack = assigned.check_ref.pack
    refused = [
        ("get", reverse("inspections:source_new", args=[instance]), {}),
        ("post", reverse("inspections:source_new", args=[instance]), source_post()),
        ("get", reverse("inspections:source", args=[instance, source.pk]), {}),
        ("post", reverse("inspections:source_test", args=[instance, source.pk]), {}),
        ("post", reverse("inspections:source_active", args=[instance, source.pk]), {}),
        ("post", reverse("inspections:assignment", args=[instance, assigned.pk]), {}),
        ("post", reverse("inspections:pack_import"), {"text": PACK_YAML}),
        ("post", reverse("inspections:pack_apply", args=[pack.code]), {"source": source.pk}),
    ]
    for method, url, data in refused:
        assert getattr(client, method)(url, data).status_code == 404, url
    assert DataSource.objects.count() == 1
    assert DataSource.objects.get().is_active
    assert not CheckPack.objects.filter(code="tiny-ledger").exists()
    assert InstanceCheck.objects.get().is_active
    page = client.get(reverse("inspections:sources", args=[instance])).content.decode()
    assert 'data-testid="source-new"' not in page


def test_an_engineer_sees_only_the_customers_his_team_serves(cast: Cast, erp_file: Path) -> None:
    team = Team.objects.create(code="l2-acme", name="Acme L2", tier=2, serves_all_customers=False)
    team.customers.add(cast.acme)
    ivan = create_user(
        email="ivan@erpcare.example", display_name="Ivan", role_code="l2_engineer",
        password=PASSWORD,
    )  # fmt: skip
    add_team_member(team=team, user=ivan)
    globex_source = helpers.sqlite_source(cast.globex_erp, erp_file)
    globex_check = helpers.assign(globex_source, helpers.check())
    globex_run = run_checks([globex_check])
    client = signed_in(ivan)
    overview = client.get(reverse("inspections:overview")).content.decode()
    assert cast.acme_erp.name in overview
    assert cast.globex_erp.name not in overview
    for name in ("instance", "sources", "runs", "report"):
        assert (
            client.get(reverse(f"inspections:{name}", args=[cast.globex_erp.pk])).status_code == 404
        )
    assert client.get(reverse("inspections:run", args=[globex_run.pk])).status_code == 404
    assert client.post(reverse("inspections:run_now", args=[cast.globex_erp.pk])).status_code == 404
    assert InspectionRun.objects.count() == 1
    assert client.get(reverse("inspections:instance", args=[999_999])).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(cast: Cast) -> None:
    response = Client().get(reverse("inspections:overview"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# ---------------------------------------------------------------------------
# Overview
# ---------------------------------------------------------------------------


def test_the_overview_shows_each_instance_s_latest_rating_and_failing_checks(
    cast: Cast, assigned: InstanceCheck, erp_file: Path
) -> None:
    client = signed_in(cast.mona)
    page = client.get(reverse("inspections:overview")).content.decode()
    assert 'data-rating=""' in page  # not inspected yet
    helpers.unbalance(erp_file)
    run = run_checks([assigned])
    assert run.rating == "red"
    page = client.get(reverse("inspections:overview")).content.decode()
    assert f'href="{reverse("inspections:run", args=[run.pk])}"' in page
    assert 'data-rating="red"' in page
    assert ">1 / 1<" in page.replace("\n", "")
    only_globex = client.get(reverse("inspections:overview"), {"customer": "globex"})
    assert cast.acme_erp.name not in only_globex.content.decode()
    assert cast.globex_erp.name in only_globex.content.decode()
    bad = client.get(reverse("inspections:overview"), {"customer": "no-such-customer"})
    assert bad.status_code == 400
    assert 'data-testid="field-error-customer"' in bad.content.decode()


# ---------------------------------------------------------------------------
# Data sources
# ---------------------------------------------------------------------------


def test_a_manager_adds_a_source_whose_password_never_comes_back(cast: Cast) -> None:
    client = signed_in(cast.mona)
    url = reverse("inspections:source_new", args=[cast.acme_erp.pk])
    response = client.post(url, source_post(), follow=True)
    assert response.status_code == 200
    source = DataSource.objects.get()
    assert (source.kind, source.host, source.port, source.username) == (
        "postgresql", "127.0.0.1", 54330, "inspector",
    )  # fmt: skip
    assert source.password == SECRET
    assert response["Cache-Control"] == "no-store"
    pages = [
        response.content.decode(),
        client.get(reverse("inspections:source", args=[cast.acme_erp.pk, source.pk])).content,
        client.get(reverse("inspections:sources", args=[cast.acme_erp.pk])).content,
    ]
    for page in pages:
        text = page if isinstance(page, str) else page.decode()
        assert SECRET not in text
        assert SECRET[-4:] not in text  # not even its end, as a masked secret would show
    edit = pages[1].decode()  # type: ignore[union-attr]
    assert 'name="password"' in edit
    assert "A password is stored" in edit
    entry = AuditEntry.objects.get(action="inspections.source_created")
    assert entry.data["password_set"] is True
    assert SECRET not in str(AuditEntry.objects.values_list("data", flat=True)[::1])


def test_editing_keeps_changes_or_clears_the_password(cast: Cast) -> None:
    client = signed_in(cast.mona)
    client.post(reverse("inspections:source_new", args=[cast.acme_erp.pk]), source_post())
    source = DataSource.objects.get()
    url = reverse("inspections:source", args=[cast.acme_erp.pk, source.pk])

    response = client.post(url, source_post(name="ERP PRD (ro)", password=""))
    assert response.status_code == 302
    source.refresh_from_db()
    assert (source.name, source.password) == ("ERP PRD (ro)", SECRET)

    client.post(url, source_post(password="a-new-one-42"))
    source.refresh_from_db()
    assert source.password == "a-new-one-42"

    both = client.post(url, source_post(password="x", clear_password="on"))
    assert both.status_code == 400
    assert "not both" in both.content.decode()
    client.post(url, source_post(password="", clear_password="on"))
    source.refresh_from_db()
    assert source.password == ""
    assert "No password is stored" in client.get(url).content.decode()
    notes = list(
        AuditEntry.objects.filter(action="inspections.source_changed")
        .order_by("id")
        .values_list("data", flat=True)
    )
    assert [n["password"] for n in notes] == ["", "changed", "cleared"]
    assert "a-new-one-42" not in str(notes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": " "}, "This field is required."),
        ({"host": ""}, "host name"),
        ({"database": ""}, "database name"),
        ({"kind": "sqlite", "database": "relative/erp.db"}, "absolute path"),
        ({"kind": "http", "url": "ftp://example.org/"}, "http:// or https://"),
        ({"kind": "prometheus", "url": ""}, "http:// or https://"),
        ({"statement_timeout_ms": "5"}, "greater than or equal to 100"),
        ({"options": "[1, 2]"}, "JSON object"),
        ({"options": "{not json"}, "not valid JSON"),
        ({"kind": "oracle"}, "Select a valid choice"),
    ],
)
def test_bad_source_settings_get_a_clear_error_and_change_nothing(
    cast: Cast, changes: dict[str, str], message: str
) -> None:
    client = signed_in(cast.mona)
    response = client.post(
        reverse("inspections:source_new", args=[cast.acme_erp.pk]), source_post(**changes)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert SECRET not in response.content.decode()
    assert not DataSource.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="inspections.").exists()


def test_a_second_source_with_the_same_name_is_refused(cast: Cast, erp_file: Path) -> None:
    helpers.sqlite_source(cast.acme_erp, erp_file, name="ERP PRD")
    client = signed_in(cast.mona)
    response = client.post(
        reverse("inspections:source_new", args=[cast.acme_erp.pk]), source_post()
    )
    assert response.status_code == 400
    assert "already has a data source called" in response.content.decode()
    assert DataSource.objects.count() == 1


def test_test_connection_shows_the_server_s_answer_and_records_it(
    cast: Cast, erp_file: Path
) -> None:
    source = helpers.sqlite_source(cast.acme_erp, erp_file)
    client = signed_in(cast.mona)
    url = reverse("inspections:source_test", args=[cast.acme_erp.pk, source.pk])
    page = client.post(url, follow=True).content.decode()
    assert "Connected:" in page
    assert sqlite3.sqlite_version in page
    source.refresh_from_db()
    assert source.last_test_ok is True
    assert sqlite3.sqlite_version in source.last_test_message
    assert AuditEntry.objects.filter(action="inspections.source_tested").count() == 1


def test_test_connection_explains_a_failure_without_the_password(cast: Cast) -> None:
    client = signed_in(cast.mona)
    # A port nobody listens on: the connection is refused at once.
    client.post(
        reverse("inspections:source_new", args=[cast.acme_erp.pk]),
        source_post(port="9", statement_timeout_ms="2000"),
    )
    source = DataSource.objects.get()
    url = reverse("inspections:source_test", args=[cast.acme_erp.pk, source.pk])
    page = client.post(url, follow=True).content.decode()
    assert "The connection failed:" in page
    assert SECRET not in page
    source.refresh_from_db()
    assert source.last_test_ok is False
    assert source.last_test_message
    assert SECRET not in source.last_test_message


def test_a_deactivated_source_s_checks_stop_and_come_back(
    cast: Cast, assigned: InstanceCheck
) -> None:
    client = signed_in(cast.adam)
    source = assigned.data_source
    url = reverse("inspections:source_active", args=[cast.acme_erp.pk, source.pk])
    assert client.post(url, {"active": "0"}).status_code == 302
    source.refresh_from_db()
    assert not source.is_active
    response = client.post(reverse("inspections:run_now", args=[cast.acme_erp.pk]), follow=True)
    assert "No checks are assigned" in response.content.decode()
    assert not InspectionRun.objects.exists()
    client.post(url, {"active": "1"})
    source.refresh_from_db()
    assert source.is_active


def test_a_source_of_another_instance_is_not_reachable_through_this_one(
    cast: Cast, erp_file: Path
) -> None:
    globex_source = helpers.sqlite_source(cast.globex_erp, erp_file)
    client = signed_in(cast.mona)
    url = reverse("inspections:source", args=[cast.acme_erp.pk, globex_source.pk])
    assert client.get(url).status_code == 404


# ---------------------------------------------------------------------------
# Assigned checks
# ---------------------------------------------------------------------------


def test_an_assigned_check_gets_a_schedule_and_is_switched_off(
    cast: Cast, assigned: InstanceCheck
) -> None:
    client = signed_in(cast.mona)
    url = reverse("inspections:assignment", args=[cast.acme_erp.pk, assigned.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"schedule": "*/30   8-18 * * 1-5"})
    assert response.status_code == 302
    assigned.refresh_from_db()
    assert (assigned.schedule, assigned.is_active) == ("*/30 8-18 * * 1-5", False)
    page = client.get(reverse("inspections:instance", args=[cast.acme_erp.pk])).content.decode()
    assert "*/30 8-18 * * 1-5" in page
    assert 'data-testid="assignment-off"' in page


@pytest.mark.parametrize("cron", ["every day", "61 * * * *", "* * * *", "0 6 * * * *"])
def test_a_bad_cron_is_refused_and_changes_nothing(
    cast: Cast, assigned: InstanceCheck, cron: str
) -> None:
    client = signed_in(cast.mona)
    url = reverse("inspections:assignment", args=[cast.acme_erp.pk, assigned.pk])
    response = client.post(url, {"schedule": cron, "is_active": "on"})
    assert response.status_code == 400
    assert "is not a cron schedule" in response.content.decode()
    assigned.refresh_from_db()
    assert (assigned.schedule, assigned.is_active) == ("", True)
    assert not AuditEntry.objects.filter(action="inspections.assignment_changed").exists()


# ---------------------------------------------------------------------------
# Packs
# ---------------------------------------------------------------------------


def test_a_pasted_pack_is_imported_shown_exported_and_applied(cast: Cast, erp_file: Path) -> None:
    source = helpers.sqlite_source(cast.acme_erp, erp_file)
    client = signed_in(cast.mona)
    response = client.post(reverse("inspections:pack_import"), {"text": PACK_YAML}, follow=True)
    assert response.status_code == 200
    pack = CheckPack.objects.get(code="tiny-ledger")
    assert not pack.shipped
    page = response.content.decode()
    assert "Unbalanced entries make the trial balance wrong." in page
    assert "https://example.org/double-entry" in page

    listing = client.get(reverse("inspections:packs")).content.decode()
    assert 'data-pack="tiny-ledger"' in listing

    exported = client.get(reverse("inspections:pack_export", args=["tiny-ledger"]))
    assert exported["Content-Disposition"] == 'attachment; filename="tiny-ledger.yaml"'
    assert "code: unbalanced-moves" in exported.content.decode()

    applied = client.post(
        reverse("inspections:pack_apply", args=["tiny-ledger"]), {"source": source.pk}
    )
    assert applied.status_code == 302
    assignment = InstanceCheck.objects.get()
    assert (assignment.data_source, assignment.check_ref.code) == (source, "unbalanced-moves")
    client.post(reverse("inspections:pack_apply", args=["tiny-ledger"]), {"source": source.pk})
    assert InstanceCheck.objects.count() == 1


def test_an_uploaded_pack_file_is_imported(cast: Cast) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = signed_in(cast.adam)
    upload = SimpleUploadedFile("tiny.yaml", PACK_YAML.encode(), content_type="application/yaml")
    response = client.post(reverse("inspections:pack_import"), {"file": upload})
    assert response.status_code == 302
    assert CheckPack.objects.filter(code="tiny-ledger").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Upload a YAML file or paste the pack"),
        ("code: [unclosed", "YAML"),
        (PACK_YAML.replace("condition: rows_empty", "condition: sometimes"), "condition"),
        (PACK_YAML.replace("    why: Unbalanced", "    whyy: Unbalanced"), "whyy"),
    ],
)
def test_a_bad_pack_is_refused_with_the_loader_s_message(
    cast: Cast, text: str, message: str
) -> None:
    client = signed_in(cast.mona)
    response = client.post(reverse("inspections:pack_import"), {"text": text})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="form-error"' in body
    assert message in body
    assert not CheckPack.objects.exists()
    assert not AuditEntry.objects.filter(action="inspections.pack_imported").exists()


def test_applying_a_pack_to_a_source_it_has_no_checks_for_is_refused(cast: Cast) -> None:
    client = signed_in(cast.mona)
    client.post(reverse("inspections:pack_import"), {"text": PACK_YAML})
    client.post(
        reverse("inspections:source_new", args=[cast.acme_erp.pk]),
        source_post(kind="http", url="http://127.0.0.1:9/health"),
    )
    source = DataSource.objects.get()
    response = client.post(
        reverse("inspections:pack_apply", args=["tiny-ledger"]), {"source": source.pk}
    )
    assert response.status_code == 400
    assert "No check of" in response.content.decode()
    assert not InstanceCheck.objects.exists()
    unknown = client.post(reverse("inspections:pack_apply", args=["tiny-ledger"]), {"source": 99})
    assert unknown.status_code == 400
    assert not InstanceCheck.objects.exists()


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------


def test_run_now_queues_a_run_the_task_carries_out_and_the_page_shows(
    cast: Cast, assigned: InstanceCheck, erp_file: Path
) -> None:
    helpers.unbalance(erp_file)
    client = signed_in(cast.eric)
    response = client.post(reverse("inspections:run_now", args=[cast.acme_erp.pk]))
    run = InspectionRun.objects.get()
    assert response["Location"] == reverse("inspections:run", args=[run.pk])
    assert (run.status, run.trigger, run.requested_by) == ("queued", "manual", cast.eric)

    page = client.get(response["Location"]).content.decode()
    assert 'data-status="queued"' in page
    assert "hx-trigger=" in page  # the page follows the run by itself

    run_queued.call(run.pk, [assigned.pk])
    run.refresh_from_db()
    assert run.status == RunStatus.DONE

    fragment = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment
    assert 'data-rating="red"' in fragment
    assert "hx-trigger=" not in fragment  # done: polling stops
    assert 'data-testid="finding-row"' in fragment
    assert "<td>2</td><td>57.0</td><td>50.0</td>" in fragment.replace("\n", "")
    assert "1 shown, 1 in all" in fragment

    runs = client.get(reverse("inspections:runs", args=[cast.acme_erp.pk])).content.decode()
    assert runs.count('data-testid="run-row"') == 1
    assert 'data-testid="run-rating"' in runs


@pytest.mark.parametrize("who", ["audra"])
def test_auditors_read_runs_but_cannot_start_one(
    cast: Cast, assigned: InstanceCheck, who: str
) -> None:
    client = signed_in(getattr(cast, who))
    assert client.post(reverse("inspections:run_now", args=[cast.acme_erp.pk])).status_code == 404
    assert not InspectionRun.objects.exists()
    page = client.get(reverse("inspections:instance", args=[cast.acme_erp.pk])).content.decode()
    assert 'data-testid="run-now"' not in page


def test_run_now_without_assigned_checks_says_what_to_do(cast: Cast) -> None:
    client = signed_in(cast.mona)
    response = client.post(reverse("inspections:run_now", args=[cast.acme_erp.pk]), follow=True)
    assert "apply a pack to one of its data sources" in response.content.decode()
    assert not InspectionRun.objects.exists()


def test_runs_are_paged(cast: Cast, assigned: InstanceCheck) -> None:
    for _ in range(26):
        run_checks([assigned])
    client = signed_in(cast.eric)
    url = reverse("inspections:runs", args=[cast.acme_erp.pk])
    first = client.get(url).content.decode()
    assert first.count('data-testid="run-row"') == 25
    assert 'data-testid="page-next"' in first
    second = client.get(url, {"page": "2"}).content.decode()
    assert second.count('data-testid="run-row"') == 1


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def test_the_report_rates_layers_and_lists_findings_with_their_remedy(
    cast: Cast, assigned: InstanceCheck, erp_file: Path
) -> None:
    run_checks([assigned])
    helpers.unbalance(erp_file)
    run_checks([assigned])
    client = signed_in(cast.audra)
    page = client.get(reverse("inspections:report", args=[cast.acme_erp.pk])).content.decode()
    assert 'data-testid="report-rating" data-rating="red"' in page
    assert 'data-layer="business"' in page
    assert "correct with an adjusting entry" in page
    assert 'data-testid="report-change"' in page  # OK → Critical since the previous run
    assert 'data-testid="trend-day" data-rating="red"' in page
    assert "@media print" in page


@pytest.mark.parametrize(
    "query",
    [{"start": "2026-12-01", "end": "2026-11-01"}, {"start": "yesterday"}, {"start": "2020-01-01"}],
)
def test_a_bad_report_period_is_a_form_error(
    cast: Cast, assigned: InstanceCheck, query: dict[str, str]
) -> None:
    client = signed_in(cast.mona)
    response = client.get(reverse("inspections:report", args=[cast.acme_erp.pk]), query)
    assert response.status_code == 400
    assert 'data-testid="report"' not in response.content.decode()


def test_an_empty_period_says_no_check_ran(cast: Cast, assigned: InstanceCheck) -> None:
    run_checks([assigned])
    client = signed_in(cast.mona)
    page = client.get(
        reverse("inspections:report", args=[cast.acme_erp.pk]),
        {"start": "2020-01-01", "end": "2020-01-31"},
    ).content.decode()
    assert 'data-testid="report-empty"' in page
    assert 'data-rating="grey"' in page


# ---------------------------------------------------------------------------
# The diagnosis panel on a desk ticket
# ---------------------------------------------------------------------------


def _ticket(cast: Cast, **kw: Any) -> Any:
    values: dict[str, Any] = {
        "title": "Trial balance does not balance",
        "organization": cast.acme,
        "erp_instance": cast.acme_erp,
    }
    values.update(kw)
    return actions.create_ticket(cast.mona, **values)


def test_an_engineer_runs_a_diagnosis_from_the_ticket(
    cast: Cast, assigned: InstanceCheck, erp_file: Path
) -> None:
    helpers.unbalance(erp_file)
    ticket = _ticket(cast)
    client = signed_in(cast.eric)
    page = client.get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    assert 'data-testid="diagnosis-panel"' in page
    panel_url = reverse("inspections:ticket_diagnosis", args=[ticket.number])
    panel = client.get(panel_url).content.decode()
    assert 'data-testid="run-diagnosis"' in panel
    assert 'data-testid="diagnosis-none"' in panel

    response = client.post(
        reverse("inspections:ticket_diagnose", args=[ticket.number]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    run = InspectionRun.objects.get()
    assert (run.ticket, run.trigger) == (ticket, "ticket")
    assert 'data-testid="diagnosis-latest"' in response.content.decode()
    run_queued.call(run.pk, [assigned.pk])
    panel = client.get(panel_url).content.decode()
    assert 'data-testid="diagnosis-rating" data-rating="red"' in panel
    assert reverse("inspections:run", args=[run.pk]) in panel
    note = Comment.objects.filter(ticket=ticket, is_internal=True).latest("id")
    assert "Unbalanced journal entries" in note.body


def test_the_panel_offers_no_button_to_auditors_nor_without_checks(
    cast: Cast, erp_file: Path
) -> None:
    ticket = _ticket(cast)
    panel_url = reverse("inspections:ticket_diagnosis", args=[ticket.number])
    eric = signed_in(cast.eric)
    assert 'data-testid="diagnosis-no-checks"' in eric.get(panel_url).content.decode()
    assert 'data-testid="run-diagnosis"' not in eric.get(panel_url).content.decode()
    response = eric.post(
        reverse("inspections:ticket_diagnose", args=[ticket.number]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "No checks are assigned" in response.content.decode()

    helpers.assign(helpers.sqlite_source(cast.acme_erp, erp_file), helpers.check())
    audra = signed_in(cast.audra)
    assert 'data-testid="run-diagnosis"' not in audra.get(panel_url).content.decode()
    diagnose = reverse("inspections:ticket_diagnose", args=[ticket.number])
    assert audra.post(diagnose).status_code == 404
    assert not InspectionRun.objects.exists()


def test_the_panel_is_absent_without_an_erp_instance_and_hidden_from_l1(
    cast: Cast, assigned: InstanceCheck
) -> None:
    plain = _ticket(cast, erp_instance=None)
    eric = signed_in(cast.eric)
    page = eric.get(reverse("desk:ticket", args=[plain.number])).content.decode()
    assert 'data-testid="diagnosis-panel"' not in page
    ticket = _ticket(cast)
    lina = signed_in(cast.lina)
    page = lina.get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    assert 'data-testid="diagnosis-panel"' not in page
    assert (
        lina.get(reverse("inspections:ticket_diagnosis", args=[ticket.number])).status_code == 404
    )


def test_a_ticket_the_reader_cannot_see_is_404(cast: Cast, assigned: InstanceCheck) -> None:
    ticket = _ticket(cast)
    team = Team.objects.create(
        code="l2-globex", name="Globex L2", tier=2, serves_all_customers=False
    )
    team.customers.add(cast.globex)
    gus = create_user(
        email="gus@erpcare.example", display_name="Gus", role_code="l2_engineer",
        password=PASSWORD,
    )  # fmt: skip
    add_team_member(team=team, user=gus)
    client = signed_in(gus)
    assert (
        client.get(reverse("inspections:ticket_diagnosis", args=[ticket.number])).status_code == 404
    )
    diagnose = reverse("inspections:ticket_diagnose", args=[ticket.number])
    assert client.post(diagnose, HTTP_HX_REQUEST="true").status_code == 404
    assert not InspectionRun.objects.exists()


def test_the_overview_reads_many_instances_in_a_fixed_number_of_queries(
    cast: Cast, assigned: InstanceCheck, erp_file: Path, django_assert_max_num_queries: Any
) -> None:
    from erpcare.customers.models import ErpInstance

    for n in range(12):
        instance = ErpInstance.objects.create(
            organization=cast.globex, name=f"Globex {n}", product="odoo"
        )
        source = helpers.sqlite_source(instance, erp_file)
        run_checks([helpers.assign(source, assigned.check_ref)])
    client = signed_in(cast.mona)
    with django_assert_max_num_queries(6):
        page = client.get(reverse("inspections:overview")).content.decode()
    assert page.count('data-testid="overview-row"') == 14
