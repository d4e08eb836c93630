"""``erpcare.core.exports``: CSV and XLSX written and read back (csv module, openpyxl)."""

from __future__ import annotations

import csv
import io
import zoneinfo
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from erpcare.core import exports
from erpcare.core.errors import ActionError

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
# 16:30 UTC on 31 Oct is 00:30 on 1 Nov in Shanghai and 12:30 on 31 Oct in New York.
MOMENT = datetime(2026, 10, 31, 16, 30, 5, tzinfo=UTC)

HEADER = ["编号", "标题", "数量", "创建时间", "日期", "空", "是否"]
ROWS: list[list[Any]] = [
    ["INC-2026-000001", "总账月结凭证无法过账", 3, MOMENT, date(2026, 11, 1), None, True],
    ["INC-2026-000002", '=HYPERLINK("http://evil.example","点我")', -5, MOMENT, None, None, False],
    ["INC-2026-000003", "+86 21 5555 0000", Decimal("2.50"), None, None, None, None],
    ["INC-2026-000004", "-1+1", 0, None, None, None, None],
    ["INC-2026-000005", "@SUM(A1:A2)", 1.25, None, None, None, None],
    ["INC-2026-000006", "\t=1+1", 7, None, None, None, None],
    ["INC-2026-000007", 'a = b, "quoted"\nsecond line', 8, None, None, None, None],
]


def csv_rows(response: StreamingHttpResponse) -> tuple[bytes, list[list[str]]]:
    body = b"".join(response.streaming_content)  # type: ignore[arg-type]
    return body, list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_csv_is_streamed_utf8_with_bom_and_reads_back() -> None:
    with timezone.override(SHANGHAI):
        response = exports.csv_response("工单导出", HEADER, iter(ROWS))
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    # A non-ASCII file name is given in RFC 5987 form.
    assert (
        "filename*=utf-8''%E5%B7%A5%E5%8D%95%E5%AF%BC%E5%87%BA.csv"
        in response["Content-Disposition"]
    )
    body, rows = csv_rows(response)
    assert body.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in body
    assert rows[0] == HEADER
    assert rows[1] == [
        "INC-2026-000001", "总账月结凭证无法过账", "3",
        # The zone active when the response was made, though the body is written later.
        "2026-11-01 00:30:05", "2026-11-01", "", "true",
    ]  # fmt: skip
    assert rows[2][2] == "-5"  # a negative number stays a number


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (1, '\'=HYPERLINK("http://evil.example","点我")'),
        (2, "'+86 21 5555 0000"),
        (3, "'-1+1"),
        (4, "'@SUM(A1:A2)"),
        (5, "'\t=1+1"),
        (6, 'a = b, "quoted"\nsecond line'),
    ],
)
def test_csv_neutralises_formulas_and_keeps_other_text(row: int, expected: str) -> None:
    _body, rows = csv_rows(exports.csv_response("t", HEADER, ROWS))
    assert rows[row + 1][1] == expected


def test_csv_header_is_neutralised_too() -> None:
    _body, rows = csv_rows(exports.csv_response("t", ["=cmd|' /C calc'!A0", "ok"], []))
    assert rows == [["'=cmd|' /C calc'!A0", "ok"]]


def test_csv_comes_in_chunks_as_rows_come() -> None:
    pulled = 0

    def rows() -> Any:
        nonlocal pulled
        for i in range(exports.CSV_CHUNK_ROWS * 3 + 1):
            pulled += 1
            yield [i, f"行 {i}"]

    response = exports.csv_response("big", ["n", "text"], rows())
    assert pulled == 0  # nothing read before the body is sent
    chunks = iter(response.streaming_content)
    next(chunks)  # header
    next(chunks)
    assert pulled == exports.CSV_CHUNK_ROWS
    rest = list(chunks)
    assert len(rest) == 3  # two full chunks and the last row
    assert pulled == exports.CSV_CHUNK_ROWS * 3 + 1


def read_xlsx(response: FileResponse) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[arg-type]


def test_xlsx_reads_back_with_real_dates_in_the_viewer_zone() -> None:
    with timezone.override(NEW_YORK):
        response = exports.xlsx_response("工单", HEADER, iter(ROWS), sheet="Q3/2026 [工单]")
    assert isinstance(response, FileResponse)
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    assert "%E5%B7%A5%E5%8D%95.xlsx" in response["Content-Disposition"]
    workbook = read_xlsx(response)
    assert workbook.sheetnames == ["Q3 2026  工单"]
    sheet = workbook.active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == HEADER
    assert sheet["A1"].font.b
    assert values[1] == [
        "INC-2026-000001", "总账月结凭证无法过账", 3,
        datetime(2026, 10, 31, 12, 30, 5), datetime(2026, 11, 1), None, True,
    ]  # fmt: skip
    assert sheet["D2"].is_date
    assert sheet["D2"].number_format == exports.XLSX_DATETIME_FORMAT
    assert sheet["E2"].is_date
    assert sheet["E2"].number_format == exports.XLSX_DATE_FORMAT
    assert values[3][2] == 2.5
    assert values[5][2] == 1.25
    # Text that looks like a formula is stored as text, never as a formula.
    for row in range(3, 9):
        assert sheet.cell(row, 2).data_type == "s", sheet.cell(row, 2).value
    assert sheet["B3"].value == '=HYPERLINK("http://evil.example","点我")'
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G8"
    assert len(values) == len(ROWS) + 1


def test_xlsx_temporary_file_is_gone_once_the_response_is_made(
    tmp_path: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    response = exports.xlsx_response("t", ["a"], [[1]])
    assert list(tmp_path.iterdir()) == []
    assert read_xlsx(response).active["A2"].value == 1


def test_an_empty_table_is_a_header_only_file() -> None:
    sheet = read_xlsx(exports.xlsx_response("t", ["a", "b"], [])).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [["a", "b"]]
    assert csv_rows(exports.csv_response("t", ["a", "b"], []))[1] == [["a", "b"]]


@pytest.mark.parametrize(
    ("given", "expected"), [("csv", "csv"), ("XLSX", "xlsx"), (" csv ", "csv")]
)
def test_check_format_accepts_the_two_formats(given: str, expected: str) -> None:
    assert exports.check_format(given) == expected


@pytest.mark.parametrize("given", ["", None, "pdf", "xls", "csv;", "json"])
def test_check_format_names_the_bad_value_and_the_choices(given: str | None) -> None:
    with pytest.raises(ActionError) as caught:
        exports.check_format(given)
    assert caught.value.status_code == 400
    assert "use csv or xlsx" in caught.value.message
    assert repr(given or "") in caught.value.message


def test_table_response_picks_by_format() -> None:
    assert isinstance(exports.table_response("csv", "t", ["a"], []), StreamingHttpResponse)
    assert isinstance(exports.table_response("xlsx", "t", ["a"], []), FileResponse)
    with pytest.raises(ActionError):
        exports.table_response("ods", "t", ["a"], [])
