"""The executemany writers store exactly what the ORM would."""

from __future__ import annotations

from datetime import UTC, datetime

from erpcare.channels.models import Notification
from erpcare.core.bulk import insert_rows, update_rows


def test_insert_then_update_rows_round_trip(cast):
    when = datetime(2026, 11, 23, 1, 2, 3, 456789, tzinfo=UTC)
    rows = [
        Notification(recipient=cast.lina, kind="sla_warning", title="凭证 1", created_at=when),
        Notification(recipient=cast.eric, kind="sla_breach", title="x" * 300, created_at=when),
    ]
    insert_rows(Notification, ("recipient", "kind", "title", "body", "ticket", "created_at"), rows)
    stored = list(Notification.objects.order_by("id"))
    assert [(n.recipient_id, n.kind, n.title, n.created_at) for n in stored] == [
        (cast.lina.pk, "sla_warning", "凭证 1", when),
        (cast.eric.pk, "sla_breach", "x" * 300, when),
    ]
    stored[0].read_at = when
    stored[1].title = "新标题"
    update_rows(Notification, ("read_at", "title"), stored)
    assert list(Notification.objects.order_by("id").values_list("read_at", "title")) == [
        (when, "凭证 1"),
        (None, "新标题"),
    ]
    update_rows(Notification, ("title",), [])  # nothing to do is fine
