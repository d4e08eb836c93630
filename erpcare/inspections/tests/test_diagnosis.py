"""Run now and one-click diagnosis from a ticket: who may, what is refused, the note."""

from __future__ import annotations

from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from erpcare.conftest import Cast
from erpcare.core.errors import ActionError, NotAllowed
from erpcare.inspections.models import InspectionRun, Rating, RunStatus, Trigger
from erpcare.inspections.services.diagnosis import diagnose, queue_run
from erpcare.inspections.tasks import run_queued
from erpcare.inspections.tests.helpers import assign, check, erp_sqlite, sqlite_source, unbalance
from erpcare.tickets import services as tickets
from erpcare.tickets.models import Comment


@pytest.fixture
def acme_checks(cast: Cast, tmp_path: Path) -> Path:
    path = erp_sqlite(tmp_path / "erp.sqlite3")
    source = sqlite_source(cast.acme_erp, path)
    assign(source, check())
    assign(source, check("stock", name="Stock rows", query="SELECT * FROM stock WHERE qty < 0"))
    return path


def run_the_queued_task() -> InspectionRun:
    (queued,) = DBTaskResult.objects.filter(task_path=run_queued.module_path)
    run_queued.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])
    return InspectionRun.objects.get()


@pytest.mark.django_db
def test_a_diagnosis_runs_the_instances_checks_and_notes_the_result(
    cast: Cast, acme_checks: Path
) -> None:
    unbalance(acme_checks)
    ticket = tickets.create_ticket(
        cast.alice, title="总账月结报错", erp_instance=cast.acme_erp, module="gl"
    )
    run = diagnose(cast.eric, ticket)
    assert (run.status, run.trigger, run.ticket) == (RunStatus.QUEUED, Trigger.TICKET, ticket)
    run = run_the_queued_task()
    assert run.status == RunStatus.DONE
    assert run.rating == Rating.RED
    (note,) = Comment.objects.filter(ticket=ticket, is_internal=True)
    assert note.author == cast.eric
    assert "1 of 2 checks need attention" in note.body
    assert "Unbalanced journal entries" in note.body
    assert "Stock rows" not in note.body  # passed


@pytest.mark.django_db
def test_who_may_run_checks_now(cast: Cast, acme_checks: Path) -> None:
    for allowed in (cast.eric, cast.xu, cast.mona, cast.adam):
        assert queue_run(allowed, cast.acme_erp).status == RunStatus.QUEUED
    for refused in (cast.alice, cast.lina, cast.audra):
        with pytest.raises(NotAllowed):
            queue_run(refused, cast.acme_erp)


@pytest.mark.django_db
def test_what_cannot_be_diagnosed(cast: Cast, acme_checks: Path) -> None:
    without_instance = tickets.create_ticket(cast.alice, title="Where is my report?")
    with pytest.raises(ActionError, match="names no ERP instance"):
        diagnose(cast.eric, without_instance)
    globex_ticket = tickets.create_ticket(
        cast.bob, title="Posting fails", erp_instance=cast.globex_erp
    )
    with pytest.raises(ActionError, match="No checks are assigned"):
        diagnose(cast.eric, globex_ticket)
    assert not InspectionRun.objects.exists()
