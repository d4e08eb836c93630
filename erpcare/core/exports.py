"""Tables to files: CSV (streamed) and XLSX, for any list or KPI table.

    csv_response(filename, header, rows)                 -> StreamingHttpResponse
    xlsx_response(filename, header, rows, sheet=...)     -> FileResponse
    table_response(fmt, basename, header, rows, ...)     -> either, by ``fmt`` ("csv"/"xlsx")
    check_format(value)                                  -> "csv" | "xlsx", or ActionError (400)

``header`` is a sequence of column titles (lazy translations are resolved at once, in the
caller's language); ``rows`` any iterable of sequences — pass a queryset's
``.values_list(...).iterator()`` so that nothing holds the whole table.

Cells: ``None`` is empty; ``datetime`` is shown in the viewer's time zone (the one active
when the response is made: a streamed body is written after the request's middleware
has finished, so the zone is taken up front); ``date``, numbers and ``bool`` keep their
type in XLSX; anything else is text.

- **CSV** is UTF-8 with a byte-order mark (Excel otherwise reads Chinese as mojibake),
  CRLF line ends, written in chunks as the rows come. A text cell starting with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'`` so that a
  spreadsheet shows it as text instead of running it as a formula (CSV injection).
- **XLSX** is written by ``xlsxwriter`` in ``constant_memory`` mode (one row in memory at
  a time) to a temporary file that is unlinked as soon as it is open, then sent with
  ``FileResponse``. Text is always written as text (never a formula); dates and times are
  real Excel dates (naive, in the viewer's time zone, which the header of a date column
  cannot say — put it in the column title or the file name if it matters).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.http import FileResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from erpcare.core.errors import ActionError

FORMATS = ("csv", "xlsx")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"
# Rows per chunk of a streamed CSV body.
CSV_CHUNK_ROWS = 500
# What a spreadsheet would take as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
XLSX_DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
XLSX_DATE_FORMAT = "yyyy-mm-dd"
# Excel's limit on a sheet name.
SHEET_NAME_MAX = 31


def check_format(value: str | None) -> str:
    """``"csv"`` or ``"xlsx"`` (case-insensitive); anything else is a 400 naming both."""
    fmt = (value or "").strip().lower()
    if fmt not in FORMATS:
        raise ActionError(
            _("Unknown export format %(value)s: use csv or xlsx.") % {"value": repr(value or "")}
        )
    return fmt


def safe_text(text: str) -> str:
    """``text``, prefixed with ``'`` when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _local(value: datetime, tz: tzinfo) -> datetime:
    return timezone.localtime(value, tz) if timezone.is_aware(value) else value


def _csv_cell(value: Any, tz: tzinfo) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _local(value, tz).strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return value
    return safe_text(str(value))


class _Line:
    """A file-like object whose ``write`` returns what was written, for ``csv.writer``."""

    def write(self, text: str) -> str:
        return text


def _csv_chunks(header: list[str], rows: Iterable[Sequence[Any]], tz: tzinfo) -> Iterator[bytes]:
    writer = csv.writer(_Line())
    yield (BOM + writer.writerow([safe_text(title) for title in header])).encode()
    chunk: list[str] = []
    for row in rows:
        chunk.append(writer.writerow([_csv_cell(value, tz) for value in row]))
        if len(chunk) >= CSV_CHUNK_ROWS:
            yield "".join(chunk).encode()
            chunk = []
    if chunk:
        yield "".join(chunk).encode()


def _filename(name: str, ext: str) -> str:
    name = name.replace("/", "-").replace("\\", "-").strip() or "export"
    return name if name.lower().endswith(f".{ext}") else f"{name}.{ext}"


def csv_response(
    filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """A streamed CSV download of ``header`` and ``rows`` (see the module's notes)."""
    tz = timezone.get_current_timezone()
    titles = [str(title) for title in header]
    response = StreamingHttpResponse(_csv_chunks(titles, rows, tz), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=_filename(filename, "csv")
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _sheet_name(sheet: str) -> str:
    for char in "[]:*?/\\":
        sheet = sheet.replace(char, " ")
    return sheet.strip().strip("'")[:SHEET_NAME_MAX] or "Sheet1"


def write_xlsx(
    path: str, header: Sequence[Any], rows: Iterable[Sequence[Any]], *, sheet: str = "Sheet1"
) -> int:
    """Write an XLSX file at ``path``; returns the number of data rows written."""
    tz = timezone.get_current_timezone()
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
    try:
        worksheet = workbook.add_worksheet(_sheet_name(str(sheet)))
        bold = workbook.add_format({"bold": True})
        datetime_format = workbook.add_format({"num_format": XLSX_DATETIME_FORMAT})
        date_format = workbook.add_format({"num_format": XLSX_DATE_FORMAT})
        titles = [str(title) for title in header]
        worksheet.freeze_panes(1, 0)
        for col, title in enumerate(titles):
            worksheet.write_string(0, col, title, bold)
        count = 0
        for row in rows:
            count += 1
            for col, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, bool):
                    worksheet.write_boolean(count, col, value)
                elif isinstance(value, datetime):
                    naive = _local(value, tz).replace(tzinfo=None)
                    worksheet.write_datetime(count, col, naive, datetime_format)
                elif isinstance(value, date):
                    worksheet.write_datetime(count, col, value, date_format)
                elif isinstance(value, int | float | Decimal):
                    worksheet.write_number(count, col, float(value))
                else:
                    worksheet.write_string(count, col, str(value))
        if titles:
            worksheet.autofilter(0, 0, count, len(titles) - 1)
    finally:
        workbook.close()
    return count


def xlsx_response(
    filename: str,
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    sheet: str = "Sheet1",
) -> FileResponse:
    """An XLSX download of ``header`` and ``rows`` on one sheet (see the module's notes)."""
    fd, path = tempfile.mkstemp(prefix="erpcare-export-", suffix=".xlsx")
    os.close(fd)
    try:
        write_xlsx(path, header, rows, sheet=sheet)
        handle = open(path, "rb")  # noqa: SIM115  (FileResponse closes it)
    finally:
        # Unlinked at once: the open handle keeps the bytes until the response is sent.
        os.unlink(path)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=_filename(filename, "xlsx"),
        content_type=XLSX_CONTENT_TYPE,
    )
    response["Cache-Control"] = "no-store"
    return response


def table_response(
    fmt: str,
    basename: str,
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    sheet: str = "Sheet1",
) -> HttpResponseBase:
    """``csv_response`` or ``xlsx_response`` by ``fmt`` (checked: ActionError otherwise);
    ``basename`` gets the matching extension."""
    fmt = check_format(fmt)
    if fmt == "csv":
        return csv_response(basename, header, rows)
    return xlsx_response(basename, header, rows, sheet=sheet)
