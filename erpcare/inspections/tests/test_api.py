"""The inspections API: runs of an instance, a run with its results, run now (202), the
report — per role and per customer, with bad input; and each response checked against
the OpenAPI document (``tickets/tests/test_openapi.py``'s closed-schema check)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from erpcare.accounts.models import Team
from erpcare.accounts.services import add_team_member, create_api_token, create_user
from erpcare.conftest import PASSWORD, Cast
from erpcare.inspections.models import InspectionRun, InstanceCheck
from erpcare.inspections.services.runs import run_checks
from erpcare.inspections.tasks import run_queued
from erpcare.inspections.tests import helpers
from erpcare.tickets.tests.test_openapi import check

pytestmark = pytest.mark.django_db

JSON = "application/json"
I = "/api/v1/inspections"  # noqa: E741


@pytest.fixture
def erp_file(tmp_path: Path) -> Path:
    return helpers.erp_sqlite(tmp_path / "erp.sqlite")


@pytest.fixture
def assigned(cast: Cast, erp_file: Path) -> InstanceCheck:
    source = helpers.sqlite_source(cast.acme_erp, erp_file)
    return helpers.assign(source, helpers.check())


@pytest.fixture
def spec(db: Any) -> dict[str, Any]:
    return Client().get("/api/v1/openapi.json").json()


def api(user: Any) -> Client:
    _token, raw = create_api_token(user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def documented(spec: dict[str, Any], path: str, method: str, status: int, response: Any) -> None:
    operation = spec["paths"][path][method]
    content = operation["responses"][str(status)]["content"][JSON]
    check(content["schema"], spec, response.json())


def test_every_inspections_operation_is_documented_with_its_rules(spec: dict[str, Any]) -> None:
    operations = {
        (method, path)
        for path, ops in spec["paths"].items()
        if path.startswith(I + "/")
        for method in ops
    }
    assert operations == {
        ("get", f"{I}/instances/{{instance_id}}/runs"),
        ("post", f"{I}/instances/{{instance_id}}/runs"),
        ("get", f"{I}/runs/{{run_id}}"),
        ("get", f"{I}/instances/{{instance_id}}/report"),
        ("get", f"{I}/instances/{{instance_id}}/report.pdf"),
    }
    for method, path in operations:
        operation = spec["paths"][path][method]
        assert "inspections" in operation["tags"]
        assert "L2/L3 engineer" in operation["description"], (method, path)
        for status in ("400", "401", "403", "404", "422"):
            assert status in operation["responses"], (method, path, status)


def test_an_engineer_runs_now_polls_the_run_and_reads_its_findings(
    cast: Cast, assigned: InstanceCheck, erp_file: Path, spec: dict[str, Any]
) -> None:
    helpers.unbalance(erp_file)
    client = api(cast.eric)
    queued = client.post(f"{I}/instances/{cast.acme_erp.pk}/runs")
    assert queued.status_code == 202, queued.content
    documented(spec, f"{I}/instances/{{instance_id}}/runs", "post", 202, queued)
    run_id = queued.json()["run"]
    assert queued.json()["status"] == "queued"

    waiting = client.get(f"{I}/runs/{run_id}")
    assert waiting.json()["status"] == "queued"
    assert waiting.json()["results"] == []

    run_queued.call(run_id, [assigned.pk])
    done = client.get(f"{I}/runs/{run_id}")
    assert done.status_code == 200
    documented(spec, f"{I}/runs/{{run_id}}", "get", 200, done)
    body = done.json()
    assert (body["status"], body["rating"], body["trigger"]) == ("done", "red", "manual")
    [result] = body["results"]
    assert (result["check"], result["status"], result["findings_total"]) == (
        "unbalanced-moves", "critical", 1,
    )  # fmt: skip
    assert result["findings"] == [{"move": 2, "debit": 57.0, "credit": 50.0}]

    listing = client.get(f"{I}/instances/{cast.acme_erp.pk}/runs")
    documented(spec, f"{I}/instances/{{instance_id}}/runs", "get", 200, listing)
    assert [r["id"] for r in listing.json()["items"]] == [run_id]


def test_runs_are_paged_newest_first(cast: Cast, assigned: InstanceCheck) -> None:
    ids = [run_checks([assigned]).pk for _ in range(3)]
    client = api(cast.audra)
    first = client.get(f"{I}/instances/{cast.acme_erp.pk}/runs?page_size=2").json()
    assert [r["id"] for r in first["items"]] == ids[::-1][:2]
    assert first["has_next"] is True
    second = client.get(f"{I}/instances/{cast.acme_erp.pk}/runs?page_size=2&page=2").json()
    assert [r["id"] for r in second["items"]] == [ids[0]]
    assert second["has_next"] is False
    bad = client.get(f"{I}/instances/{cast.acme_erp.pk}/runs?page_size=1000")
    assert bad.status_code == 422


def test_the_report_as_json(
    cast: Cast, assigned: InstanceCheck, erp_file: Path, spec: dict[str, Any]
) -> None:
    run_checks([assigned])
    helpers.unbalance(erp_file)
    run_checks([assigned])
    response = api(cast.mona).get(f"{I}/instances/{cast.acme_erp.pk}/report")
    assert response.status_code == 200
    documented(spec, f"{I}/instances/{{instance_id}}/report", "get", 200, response)
    body = response.json()
    assert (body["rating"], body["checks"]) == ("red", 1)
    assert body["layers"] == [
        {"layer": "business", "label": "Business data", "rating": "red", "failing": 1, "total": 1}
    ]
    [finding] = body["findings"]
    assert (finding["check"], finding["status"], finding["previous_status"]) == (
        "unbalanced-moves", "critical", "ok",
    )  # fmt: skip
    assert "adjusting entry" in finding["remedy"]
    assert [(c["previous_status"], c["status"]) for c in body["changes"]] == [("ok", "critical")]
    assert [t["rating"] for t in body["trend"]] == ["red"]

    old = api(cast.mona).get(
        f"{I}/instances/{cast.acme_erp.pk}/report?start=2020-01-01&end=2020-01-31"
    )
    assert (old.json()["rating"], old.json()["checks"], old.json()["trend"]) == ("grey", 0, [])


def test_the_report_as_pdf(
    cast: Cast, assigned: InstanceCheck, erp_file: Path, spec: dict[str, Any]
) -> None:
    run_checks([assigned])
    helpers.unbalance(erp_file)
    run_checks([assigned])
    url = f"{I}/instances/{cast.acme_erp.pk}/report.pdf?start=2026-01-01&end=2026-12-31"
    response = api(cast.mona).get(url)
    assert response.status_code == 200
    pdf_doc = spec["paths"][f"{I}/instances/{{instance_id}}/report.pdf"]["get"]["responses"]["200"]
    assert "application/pdf" in pdf_doc["content"]
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert "inspection-acme-sap-prd-20260101-20261231.pdf" in response["Content-Disposition"]
    backwards = api(cast.mona).get(
        f"{I}/instances/{cast.acme_erp.pk}/report.pdf?start=2026-12-01&end=2026-11-01"
    )
    assert backwards.status_code == 400
    assert "start before it ends" in backwards.json()["detail"]
    assert api(cast.alice).get(url).status_code == 404


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("?start=2026-12-01&end=2026-11-01", 400, "start before it ends"),
        ("?start=2020-01-01&end=2026-01-01", 400, "at most 366 days"),
        ("?start=yesterday", 422, "start"),
    ],
)
def test_a_bad_report_period_is_refused(
    cast: Cast, assigned: InstanceCheck, query: str, status: int, message: str
) -> None:
    response = api(cast.mona).get(f"{I}/instances/{cast.acme_erp.pk}/report{query}")
    assert response.status_code == status
    assert message in response.json()["detail"]


@pytest.mark.parametrize("who", ["alice", "bob", "lina", "vera"])
def test_customers_and_l1_agents_find_nothing(
    cast: Cast, assigned: InstanceCheck, who: str
) -> None:
    run = run_checks([assigned])
    client = api(getattr(cast, who))
    for url in (
        f"{I}/instances/{cast.acme_erp.pk}/runs",
        f"{I}/instances/{cast.acme_erp.pk}/report",
        f"{I}/runs/{run.pk}",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "detail" in response.json()
    assert client.post(f"{I}/instances/{cast.acme_erp.pk}/runs").status_code == 404
    assert InspectionRun.objects.count() == 1


def test_an_auditor_reads_but_may_not_run(cast: Cast, assigned: InstanceCheck) -> None:
    client = api(cast.audra)
    assert client.get(f"{I}/instances/{cast.acme_erp.pk}/runs").status_code == 200
    refused = client.post(f"{I}/instances/{cast.acme_erp.pk}/runs")
    assert refused.status_code == 403
    assert "L2/L3" in refused.json()["detail"]
    assert not InspectionRun.objects.exists()


def test_another_customer_s_instance_and_its_runs_are_404(
    cast: Cast, erp_file: Path, assigned: InstanceCheck
) -> None:
    team = Team.objects.create(code="l2-acme", name="Acme L2", tier=2, serves_all_customers=False)
    team.customers.add(cast.acme)
    ivan = create_user(
        email="ivan@erpcare.example", display_name="Ivan", role_code="l2_engineer",
        password=PASSWORD,
    )  # fmt: skip
    add_team_member(team=team, user=ivan)
    globex_source = helpers.sqlite_source(cast.globex_erp, erp_file)
    globex = helpers.assign(globex_source, assigned.check_ref)
    globex_run = run_checks([globex])
    client = api(ivan)
    assert client.get(f"{I}/instances/{cast.acme_erp.pk}/runs").status_code == 200
    assert client.get(f"{I}/instances/{cast.globex_erp.pk}/runs").status_code == 404
    assert client.get(f"{I}/instances/{cast.globex_erp.pk}/report").status_code == 404
    assert client.get(f"{I}/runs/{globex_run.pk}").status_code == 404
    assert client.post(f"{I}/instances/{cast.globex_erp.pk}/runs").status_code == 404
    assert client.get(f"{I}/instances/999999/runs").status_code == 404
    assert client.get(f"{I}/runs/999999").status_code == 404
    assert InspectionRun.objects.count() == 1


def test_run_now_without_checks_is_400_and_queues_nothing(cast: Cast) -> None:
    response = api(cast.mona).post(f"{I}/instances/{cast.acme_erp.pk}/runs")
    assert response.status_code == 400
    assert "No checks are assigned" in response.json()["detail"]
    assert not InspectionRun.objects.exists()


def test_without_a_token_the_api_answers_401(cast: Cast, assigned: InstanceCheck) -> None:
    response = Client().get(f"{I}/instances/{cast.acme_erp.pk}/runs")
    assert response.status_code == 401
    response = Client().post(f"{I}/instances/{cast.acme_erp.pk}/runs")
    assert response.status_code == 401
    assert not InspectionRun.objects.exists()
