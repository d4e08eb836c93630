"""Audit entries are written once and never changed or removed through the ORM."""

from __future__ import annotations

import pytest
from django.db import transaction

from erpcare.accounts.services import create_user
from erpcare.audit.models import AuditEntry
from erpcare.audit.services import record
from erpcare.tickets import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(cast):
    services.create_ticket(cast.alice, title="x")
    return AuditEntry.objects.get(action="ticket.created")


def snapshot():
    return list(AuditEntry.objects.order_by("pk").values())


def test_an_entry_cannot_be_saved_again(entry):
    before = snapshot()
    entry.action = "ticket.nothing_happened"
    with pytest.raises(PermissionError, match="append-only"):
        entry.save()
    assert snapshot() == before


def test_an_entry_cannot_be_deleted(entry):
    before = snapshot()
    with pytest.raises(PermissionError, match="append-only"):
        entry.delete()
    assert snapshot() == before


@pytest.mark.parametrize(
    "attempt",
    [
        lambda: AuditEntry.objects.update(actor_label="nobody"),
        lambda: AuditEntry.objects.filter(action="ticket.created").update(ip="10.0.0.1"),
        lambda: AuditEntry.objects.all().delete(),
        lambda: AuditEntry.objects.filter(action="ticket.created").delete(),
    ],
)
def test_querysets_cannot_update_or_delete_entries(entry, attempt):
    before = snapshot()
    with pytest.raises(PermissionError, match="append-only"):
        attempt()
    assert snapshot() == before


def test_bulk_update_is_refused(entry):
    before = snapshot()
    entry.actor_label = "someone else"
    # bulk_update runs in its own atomic block without a savepoint; give it one here so
    # the test's transaction stays usable after the refusal.
    with pytest.raises(PermissionError, match="append-only"), transaction.atomic():
        AuditEntry.objects.bulk_update([entry], ["actor_label"])
    assert snapshot() == before


def test_new_entries_can_still_be_written(entry, cast):
    record(actor=cast.adam, action="test.appended", target=cast.acme, data={"k": 1})
    row = AuditEntry.objects.get(action="test.appended")
    assert (row.actor_label, row.target_type, row.target_id) == (
        cast.adam.email,
        "customers.organization",
        str(cast.acme.pk),
    )


def test_removing_the_actor_keeps_the_entry_and_its_label(cast):
    # Users are normally deactivated, not deleted; if one is deleted, the trail stays.
    user = create_user(email="temp@erpcare.example", display_name="Temp", role_code="l1_agent")
    record(actor=user, action="test.did_something")
    row_id = AuditEntry.objects.get(action="test.did_something").pk
    user.delete()
    row = AuditEntry.objects.get(pk=row_id)
    assert (row.actor, row.actor_label) == (None, "temp@erpcare.example")
