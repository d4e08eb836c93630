"""Ticket lists as files: the desk queue, the portal list and ``GET /api/v1/tickets/export``.

Scoped by ``visible_to`` (customer B never gets A's tickets, counts included), the
same filters as on screen, one audit entry per export, customers without internal
columns, formula cells neutralised, bad formats refused with the reason, 5,000 tickets
streamed in chunks."""

from __future__ import annotations

import csv
import io
import tracemalloc
import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
import pytest
from django.http import FileResponse, StreamingHttpResponse
from django.test import Client

from erpcare.accounts.services import create_api_token
from erpcare.audit.models import AuditEntry
from erpcare.conftest import PASSWORD, Cast
from erpcare.core.tests.ticket_rows import add_tickets
from erpcare.tickets.models import (
    Category,
    Channel,
    Comment,
    Priority,
    SlaState,
    Status,
    Ticket,
    TicketType,
)

pytestmark = pytest.mark.django_db

CREATED = datetime(2026, 10, 31, 16, 30, tzinfo=UTC)  # 2026-11-01 00:30 in Shanghai
STAFF_HEADER = [
    "Number", "Title", "Type", "Priority", "Status", "Customer", "ERP instance", "ERP module",
    "Category", "Channel", "Team", "Assignee", "Support tier", "Created", "First response",
    "Resolved", "Closed", "SLA", "Reopened",
]  # fmt: skip
CUSTOMER_HEADER = [h for h in STAFF_HEADER if h not in ("Team", "Assignee", "Support tier")]


def signed_in(user: Any) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


def api(user: Any) -> Client:
    _token, raw = create_api_token(user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def read_csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def read_xlsx(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.content
    assert isinstance(response, FileResponse)
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [[cell.value for cell in row] for row in book.active.iter_rows()]


def exported(action_count: int = 1) -> list[AuditEntry]:
    entries = list(AuditEntry.objects.filter(action="tickets.exported").order_by("id"))
    assert len(entries) == action_count
    return entries


@pytest.fixture
def tickets(cast: Cast) -> dict[str, Ticket]:
    """Acme: a Chinese P1 with everything set, a formula-looking P2, three closed P3.
    Globex: two open P1s. Plus an internal note on the Acme P1."""
    (p1,) = add_tickets(
        cast.acme, title="总账月结凭证无法过账（财务）", type=TicketType.INCIDENT,
        priority=Priority.P1, status=Status.RESOLVED, erp_instance=cast.acme_erp, module="gl",
        category=Category.DATA_ISSUE, channel=Channel.EMAIL, team=cast.l2_platform,
        assignee=cast.eric, tier=2, created_at=CREATED,
        first_response_at=CREATED + timedelta(minutes=20),
        resolved_at=CREATED + timedelta(hours=5), sla_state=SlaState.MET, reopen_count=1,
    )  # fmt: skip
    (formula,) = add_tickets(
        cast.acme, title="=HYPERLINK(\"http://evil.example\",\"报表\")", priority=Priority.P2,
        status=Status.OPEN, type=TicketType.REQUEST, created_at=CREATED,
    )  # fmt: skip
    add_tickets(cast.acme, 3, priority=Priority.P3, status=Status.CLOSED, created_at=CREATED)
    add_tickets(
        cast.globex, 2, title="Globex ticket {n}", priority=Priority.P1, status=Status.OPEN,
        created_at=CREATED,
    )  # fmt: skip
    Comment.objects.create(
        ticket=p1, author=cast.eric, body="INTERNAL: 客户数据库密码在保险柜", is_internal=True,
        created_at=CREATED,
    )  # fmt: skip
    return {"p1": p1, "formula": formula}


def test_desk_export_csv_has_the_columns_and_the_queue_filters(
    cast: Cast, tickets: dict[str, Ticket]
) -> None:
    client = signed_in(cast.mona)
    rows = read_csv(
        client.get("/desk/export", {"queue": "all", "customer": "acme", "format": "csv"})
    )
    assert rows[0] == STAFF_HEADER
    assert len(rows) == 1 + 5
    by_number = {row[0]: row for row in rows[1:]}
    assert by_number[tickets["p1"].number] == [
        tickets["p1"].number, "总账月结凭证无法过账（财务）", "Incident", "P1", "Resolved",
        "Acme 制造", "Acme SAP PRD", "General ledger", "Data issue", "E-mail", "平台组",
        "Eric Liu", "2", "2026-11-01 00:30:00", "2026-11-01 00:50:00", "2026-11-01 05:30:00",
        "", "Met", "1",
    ]  # fmt: skip
    assert by_number[tickets["formula"].number][1] == '\'=HYPERLINK("http://evil.example","报表")'
    assert "INTERNAL" not in str(rows)
    (entry,) = exported()
    assert entry.actor == cast.mona
    assert entry.data == {
        "format": "csv", "rows": 5, "queue": "all",
        "filters": {"customer": "acme", "ordering": "-created"},
    }  # fmt: skip


def test_desk_export_follows_the_default_queue_filters(
    cast: Cast, tickets: dict[str, Ticket]
) -> None:
    # The default queue is "All open": the resolved and closed tickets are not in it.
    rows = read_csv(signed_in(cast.mona).get("/desk/export", {"format": "csv"}))
    assert sorted(row[0] for row in rows[1:]) == sorted(
        Ticket.objects.filter(status=Status.OPEN).values_list("number", flat=True)
    )
    assert exported()[0].data["filters"]["status"] == "open"


def test_desk_export_xlsx_has_real_dates_in_the_viewer_zone(
    cast: Cast, tickets: dict[str, Ticket]
) -> None:
    cast.mona.time_zone = "Europe/Berlin"
    cast.mona.save(update_fields=["time_zone"])
    rows = read_xlsx(
        signed_in(cast.mona).get("/desk/export", {"queue": "all", "q": "总账", "format": "xlsx"})
    )
    assert rows[0] == STAFF_HEADER
    assert len(rows) == 2
    row = dict(zip(STAFF_HEADER, rows[1], strict=True))
    berlin = CREATED.astimezone(zoneinfo.ZoneInfo("Europe/Berlin")).replace(tzinfo=None)
    assert row["Created"] == berlin == datetime(2026, 10, 31, 17, 30)
    assert row["Title"] == "总账月结凭证无法过账（财务）"
    assert row["Support tier"] == 2
    assert row["Reopened"] == 1
    assert row["Closed"] is None
    assert exported()[0].data["rows"] == 1


def test_customer_b_cannot_export_customer_a_tickets(
    cast: Cast, tickets: dict[str, Ticket]
) -> None:
    client = signed_in(cast.bob)
    rows = read_csv(client.get("/portal/export", {"state": "all", "format": "csv"}))
    assert rows[0] == CUSTOMER_HEADER
    assert [row[5] for row in rows[1:]] == ["Globex Retail", "Globex Retail"]
    assert exported()[0].data["rows"] == 2
    # Asking the API for Acme's tickets by name gives nothing, and says so in the count.
    rows = read_csv(
        api(cast.bob).get("/api/v1/tickets/export", {"customer": "acme", "format": "csv"})
    )
    assert rows == [CUSTOMER_HEADER]
    assert exported(2)[1].data["rows"] == 0
    # Nor does a search for one of Acme's titles.
    rows = read_xlsx(client.get("/portal/export", {"state": "all", "q": "总账", "format": "xlsx"}))
    assert rows == [CUSTOMER_HEADER]


def test_customer_export_has_no_internal_columns_or_notes(
    cast: Cast, tickets: dict[str, Ticket]
) -> None:
    rows = read_csv(signed_in(cast.alice).get("/portal/export", {"state": "all", "format": "csv"}))
    assert rows[0] == CUSTOMER_HEADER
    assert len(rows) == 1 + 5
    text = str(rows)
    assert "INTERNAL" not in text
    assert "Eric Liu" not in text
    assert "平台组" not in text


def test_portal_export_keeps_the_state_and_search(cast: Cast, tickets: dict[str, Ticket]) -> None:
    client = signed_in(cast.alice)
    rows = read_csv(client.get("/portal/export", {"format": "csv"}))  # default: open
    assert [row[0] for row in rows[1:]] == [tickets["formula"].number]
    rows = read_csv(client.get("/portal/export", {"state": "closed", "format": "csv"}))
    assert len(rows) == 1 + 4


def test_api_export_filters_like_the_list(cast: Cast, tickets: dict[str, Ticket]) -> None:
    client = api(cast.lina)
    listed = client.get("/api/v1/tickets", {"priority": "P1", "page_size": 100}).json()
    rows = read_xlsx(client.get("/api/v1/tickets/export", {"priority": "P1", "format": "xlsx"}))
    assert sorted(row[0] for row in rows[1:]) == sorted(t["number"] for t in listed["items"])
    assert len(rows) == 1 + 3
    entry = exported()[0]
    assert entry.channel == "api"
    assert entry.data == {
        "format": "xlsx",
        "rows": 3,
        "filters": {"priority": "P1", "ordering": "-created"},
    }


@pytest.mark.parametrize("fmt", ["pdf", "", "xls"])
def test_a_bad_format_is_a_400_with_the_reason(
    cast: Cast, tickets: dict[str, Ticket], fmt: str
) -> None:
    response = api(cast.mona).get("/api/v1/tickets/export", {"format": fmt})
    assert response.status_code == 400
    assert "use csv or xlsx" in response.json()["detail"]
    response = signed_in(cast.mona).get("/desk/export", {"format": fmt})
    assert response.status_code == 400
    assert "use csv or xlsx" in response.content.decode()
    response = signed_in(cast.alice).get("/portal/export", {"format": fmt})
    assert response.status_code == 400
    assert "use csv or xlsx" in response.content.decode()
    assert not AuditEntry.objects.filter(action="tickets.exported").exists()


def test_a_bad_filter_is_a_400_too(cast: Cast, tickets: dict[str, Ticket]) -> None:
    response = api(cast.mona).get("/api/v1/tickets/export", {"format": "csv", "priority": "P9"})
    assert response.status_code == 400
    assert "P9" in response.json()["detail"]
    response = signed_in(cast.mona).get("/desk/export", {"format": "csv", "module": "nope"})
    assert response.status_code == 400
    assert "nope" in response.content.decode()


def test_who_reaches_which_export(cast: Cast, tickets: dict[str, Ticket]) -> None:
    assert signed_in(cast.alice).get("/desk/export", {"format": "csv"}).status_code == 404
    response = signed_in(cast.mona).get("/portal/export", {"format": "csv"})
    assert response.status_code == 302
    assert response["Location"] == "/desk/export"
    anonymous = Client().get("/desk/export", {"format": "csv"})
    assert anonymous.status_code == 302
    assert "/login" in anonymous["Location"] or "next=" in anonymous["Location"]
    assert Client().get("/api/v1/tickets/export", {"format": "csv"}).status_code == 401


def test_the_lists_link_to_their_exports_with_the_filters(
    cast: Cast, tickets: dict[str, Ticket]
) -> None:
    page = signed_in(cast.mona).get("/desk/", {"queue": "p1", "q": "总账"}).content.decode()
    assert 'data-testid="export-csv"' in page
    assert (
        "/desk/export?queue=p1&amp;q=%E6%80%BB%E8%B4%A6&amp;status=open&amp;priority=P0" not in page
    )
    assert (
        "/desk/export?queue=p1&amp;q=%E6%80%BB%E8%B4%A6&amp;status=open&amp;priority=P1&amp;format=csv"
        in page
    )
    assert "priority=P1&amp;format=xlsx" in page
    page = signed_in(cast.alice).get("/portal/", {"state": "closed", "q": "x"}).content.decode()
    assert "/portal/export?state=closed&amp;q=x&amp;format=csv" in page
    assert "/portal/export?state=closed&amp;q=x&amp;format=xlsx" in page


def test_5000_tickets_are_streamed_in_chunks_with_little_memory(cast: Cast) -> None:
    add_tickets(cast.acme, 5000, title="批量工单 {n} =1+1", status=Status.OPEN, created_at=CREATED)
    client = api(cast.mona)
    # Warm up (imports, URL resolution, the token cache) outside the measurement.
    read_csv(client.get("/api/v1/tickets/export", {"format": "csv", "status": "closed"}))
    tracemalloc.start()
    try:
        response = client.get("/api/v1/tickets/export", {"format": "csv", "status": "open"})
        assert isinstance(response, StreamingHttpResponse)
        chunks = 0
        lines = 0
        tail = b""
        for chunk in response.streaming_content:
            chunks += 1
            data = tail + chunk
            lines += data.count(b"\r\n")
            tail = data[data.rfind(b"\r\n") + 2 :]
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == 1 + 5000
    assert chunks >= 10  # the header, then one chunk per 500 rows
    # The rows are never all in memory at once.
    # For scale: holding the same tickets as model instances at once.
    tracemalloc.start()
    try:
        held = list(Ticket.objects.filter(status=Status.OPEN))
        _current, held_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(held) == 5000
    assert peak < 8 * 1024 * 1024, peak
    assert peak < held_peak / 2, (peak, held_peak)
    assert exported(2)[1].data["rows"] == 5000
