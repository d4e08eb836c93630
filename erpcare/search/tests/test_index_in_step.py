"""The index follows every ticket action inside its transaction, and ``reindex`` rebuilds
it from scratch, removing what is stale."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from erpcare.core import clock
from erpcare.search import services
from erpcare.search.documents import Audience
from erpcare.search.models import SearchEntry
from erpcare.search.tests.conftest import ids
from erpcare.tickets import services as tickets
from erpcare.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def entry(ticket: Ticket) -> SearchEntry | None:
    return SearchEntry.objects.filter(kind="ticket", object_id=ticket.pk).first()


def found(user, query: str) -> list[int]:
    return ids(services.search(user, query, kinds=["ticket"]))


def fts_is_consistent() -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:  # raises "database disk image is malformed"
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")


def test_created_ticket_is_found_at_once(cast):
    ticket = tickets.create_ticket(
        cast.alice,
        title="物料需求计划运行报错",
        description="MRP run fails with ORA-01555",
        module="production",
    )
    row = entry(ticket)
    assert row is not None
    assert row.title == f"{ticket.number} 物料需求计划运行报错"
    assert row.audience == Audience.CUSTOMER
    assert row.organization_id == cast.acme.pk
    assert row.module == "production"
    assert row.doc_type == "incident"
    assert found(cast.alice, "ORA-01555") == [ticket.pk]
    assert found(cast.alice, ticket.number) == [ticket.pk]
    fts_is_consistent()


def test_updates_comments_and_resolution_are_indexed(cast):
    ticket = tickets.create_ticket(cast.alice, title="Printing fails")
    tickets.update_ticket(cast.lina, ticket, title="Invoice printing fails with blank pages")
    assert found(cast.alice, "blank pages") == [ticket.pk]
    tickets.add_comment(cast.alice, ticket, body="Only the Chinese fonts are missing: 方框")
    assert found(cast.alice, "方框") == [ticket.pk]
    tickets.transition_ticket(
        cast.lina, ticket, to="resolved", resolution_code="configuration",
        resolution="Installed fonts-noto-cjk on the print server",
    )  # fmt: skip
    assert found(cast.alice, "noto") == [ticket.pk]
    fts_is_consistent()


def test_internal_notes_are_not_indexed(cast):
    ticket = tickets.create_ticket(cast.alice, title="Stock count differences")
    tickets.add_comment(cast.lina, ticket, body="customer is difficult, wombatcase", internal=True)
    assert "wombatcase" not in entry(ticket).body_terms
    assert found(cast.adam, "wombatcase") == []


def test_a_rolled_back_action_leaves_no_entry(cast):
    inside: list[int] = []

    def request() -> None:
        with transaction.atomic():
            tickets.create_ticket(cast.alice, title="Rolled back pangolinword")
            inside.extend(found(cast.alice, "pangolinword"))
            raise RuntimeError("the request failed after the action")

    with pytest.raises(RuntimeError):
        request()
    assert len(inside) == 1  # inside the transaction it was there
    assert not SearchEntry.objects.filter(kind="ticket").exists()
    assert found(cast.alice, "pangolinword") == []
    fts_is_consistent()


def test_a_refused_action_changes_nothing(cast):
    ticket = tickets.create_ticket(cast.alice, title="Original title")
    before = list(SearchEntry.objects.values())
    with pytest.raises(Exception, match="required"):
        tickets.update_ticket(cast.lina, ticket, title="")
    assert list(SearchEntry.objects.values()) == before


def test_merge_removes_the_source_and_moves_its_words(cast):
    source = tickets.create_ticket(cast.alice, title="GR posting fails", description="okapiword")
    tickets.add_comment(cast.alice, source, body="Screenshot says narwhalword")
    target = tickets.create_ticket(cast.alice, title="Goods receipt posting fails")
    tickets.merge_tickets(cast.lina, source, target, reason="same issue")
    assert entry(source) is None
    assert found(cast.alice, "narwhalword") == [target.pk]  # the comment moved over
    assert found(cast.alice, "okapiword") == []  # the description stayed with the source
    fts_is_consistent()


def test_reindex_rebuilds_and_removes_stale_entries(cast):
    kept = tickets.create_ticket(cast.alice, title="Voucher numbering gaps")
    with clock.frozen_at(clock.now()):
        bulk = Ticket.objects.create(  # e.g. an importer writing with the ORM
            number="INC-2026-999999", title="Imported axolotlword ticket",
            organization=cast.globex, created_at=clock.now(), updated_at=clock.now(),
        )  # fmt: skip
    SearchEntry.objects.filter(object_id=kept.pk).delete()
    services.index("ticket", [kept.pk])  # back, then made stale by hand:
    SearchEntry.objects.create(
        kind="ticket", object_id=987654, audience=Audience.CUSTOMER, organization_id=cast.acme.pk,
        title="ghost", title_terms="ghost", updated_at=clock.now(),
    )  # fmt: skip
    SearchEntry.objects.create(
        kind="gone", object_id=1, audience=Audience.PUBLIC, title="x", title_terms="ghost",
        updated_at=clock.now(),
    )  # fmt: skip
    assert found(cast.adam, "axolotlword") == []
    counts = services.reindex()
    assert counts["ticket"] == 2
    assert set(SearchEntry.objects.values_list("kind", "object_id")) == {
        ("ticket", kept.pk),
        ("ticket", bulk.pk),
    }
    assert found(cast.bob, "axolotlword") == [bulk.pk]
    assert services.search(cast.adam, "ghost").hits == []
    fts_is_consistent()


def test_reindex_command(cast):
    tickets.create_ticket(cast.alice, title="Command test")
    SearchEntry.objects.all().delete()
    out = StringIO()
    call_command("search", "reindex", "--kind", "ticket", stdout=out)
    assert "ticket: 1" in out.getvalue()
    assert SearchEntry.objects.count() == 1
    call_command("search", "vocabulary", stdout=out)
    assert "Vocabulary:" in out.getvalue()
    with pytest.raises(CommandError, match="Unknown kind"):
        call_command("search", "reindex", "--kind", "nonsense")


def test_index_of_deleted_ids_removes_them(cast):
    ticket = tickets.create_ticket(cast.alice, title="To be removed")
    services.remove("ticket", [ticket.pk])
    assert entry(ticket) is None
    services.index("ticket", [ticket.pk])
    assert entry(ticket) is not None
    services.index("ticket", [ticket.pk + 1000])  # does not exist: nothing to add
    assert SearchEntry.objects.count() == 1
