"""Parsing, decoding, trimming and loop rules on their own (no database, no server)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from erpcare.channels.email.inbound.charsets import codec_for, decode_bytes, decode_header_value
from erpcare.channels.email.inbound.html import html_to_markdown
from erpcare.channels.email.inbound.parse import ParseError, parse_message
from erpcare.channels.email.inbound.trim import trim_reply

MAIL = Path(__file__).parent / "mail"


def test_gb2312_declared_text_is_decoded_as_gb18030() -> None:
    # 镕 and 喆 are outside GB2312; real "GB2312" mail carries them anyway.
    data = "朱镕基 陶喆 凭证".encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("gb2312")
    assert decode_bytes(data, "gb2312") == "朱镕基 陶喆 凭证"
    assert codec_for("GBK") == codec_for("x-gbk") == "gb18030"


def test_big5_uses_hkscs_and_falls_back_to_cp950() -> None:
    assert decode_bytes("憑證無法儲存".encode("big5"), "big5") == "憑證無法儲存"
    assert decode_bytes("𨋢".encode("big5hkscs"), "big5") == "𨋢"  # an HKSCS character
    # 0xF9F9 is in cp950 (a box-drawing extension) but not in Big5-HKSCS's mapping of it.
    assert decode_bytes(b"\xf9\xf9", "big5") == b"\xf9\xf9".decode("cp950")


def test_undeclared_or_unknown_charsets_do_not_raise() -> None:
    assert decode_bytes("月结".encode("gb18030"), None) == "月结"
    assert decode_bytes("月结".encode(), "x-unknown-charset") == "月结"
    assert decode_bytes(b"ok \xff\xff", "ascii") == "ok \ufffd\ufffd"


def test_encoded_word_headers_in_several_charsets() -> None:
    gbk = base64.b64encode("库存结转".encode("gbk")).decode()
    big5 = base64.b64encode("月結".encode("big5")).decode()
    value = f"=?gb2312?B?{gbk}?= =?big5?B?{big5}?= [INC-2026-000123]"
    assert decode_header_value(value) == "库存结转月結 [INC-2026-000123]"
    assert decode_header_value("=?utf-8?Q?=E5=87=AD=E8=AF=81?=") == "凭证"
    assert decode_header_value("=?broken") == "=?broken"


def test_raw_8bit_headers_are_decoded() -> None:
    raw = "From: 王 <a@b.example>\r\nSubject: 凭证无法保存\r\n\r\nx\r\n".encode("gb18030")
    parsed = parse_message(raw)
    assert parsed.subject == "凭证无法保存"
    assert parsed.from_name == "王"


def test_rfc2231_and_encoded_word_filenames() -> None:
    parsed = parse_message((MAIL / "attachments.eml").read_bytes())
    assert [a.filename for a in parsed.attachments] == ["库存结转.csv", "月结报表.pdf", "setup.exe"]


def test_rfc2231_filename_in_gbk() -> None:
    quoted = "".join(f"%{b:02X}" for b in "月结.xlsx".encode("gbk"))
    raw = (
        "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
        "Content-Type: text/plain\r\n\r\nhi\r\n--x\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Disposition: attachment; filename*=gbk''{quoted}\r\n\r\nDATA\r\n--x--\r\n"
    ).encode()
    assert parse_message(raw).attachments[0].filename == "月结.xlsx"


def test_threading_headers() -> None:
    raw = (
        b"From: a@b.example\r\nMessage-ID: <m3@x>\r\nIn-Reply-To: <m2@x>\r\n"
        b"References: <m0@x> <m1@x>\r\n <m2@x>\r\n\r\nhi\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.thread_ids == ["<m2@x>", "<m1@x>", "<m0@x>"]


def test_a_message_without_a_sender_or_with_a_broken_structure_is_an_error() -> None:
    with pytest.raises(ParseError):
        parse_message(b"Subject: nobody\r\n\r\nhi\r\n")
    with pytest.raises(ParseError, match="MIME"):
        parse_message((MAIL / "malformed.eml").read_bytes())


def test_html_to_markdown_is_sanitised_and_fetches_no_remote_images() -> None:
    html = (
        '<p onmouseover="x()">库存 <b>结转</b></p><script>alert(1)</script>'
        '<a href="javascript:alert(1)">bad</a> <a href="https://erp.example/a">ok</a>'
        '<img src="https://tracker.example/p.gif" alt="logo"><img src="cid:i1">'
        "<iframe src='https://evil.example'></iframe><style>p{}</style>"
    )
    text = html_to_markdown(html, {"i1": "截图.png"})
    assert "库存 **结转**" in text
    assert "[ok](https://erp.example/a)" in text
    assert "[截图.png]" in text
    for bad in ("javascript", "alert", "tracker.example", "evil.example", "onmouseover", "p{}"):
        assert bad not in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("收到\n\n-----原始邮件-----\n发件人: 支持\n旧", "收到"),
        ("收到\n\n-----Original Message-----\nFrom: x\n旧", "收到"),
        ("收到\n------------------ 原始邮件 ------------------\n旧", "收到"),
        ("收到\n\n发件人: 支持\n发送时间: 2026年11月3日\n主题: x\n旧", "收到"),
        ("收到\n\n在 2026年11月3日 周二 10:12，张三 <z@x> 写道：\n> 旧", "收到"),
        ("OK\n\nOn Tue, Nov 3, 2026 at 10:12 AM Zhang San <z@x> wrote:\n> old", "OK"),
        ("OK\n\nOn Tue, Nov 3, 2026 at 10:12 AM Zhang San <z@x>\nwrote:\n> old", "OK"),
        ("OK\n________________________________\nFrom: x\nSent: y\nold", "OK"),
        ("OK\n\nFrom: Support <s@x>\nSent: Tuesday\nTo: me\nold", "OK"),
        ("OK\n-- \nZhang San\nFinance", "OK"),
        ("OK\n\n发自我的iPhone", "OK"),
        ("first\n> quoted\n> lines", "first"),
    ],
)
def test_trim_cuts_quotes_and_signatures(text: str, expected: str) -> None:
    assert trim_reply(text) == expected


def test_trim_keeps_a_from_line_that_is_not_a_quote_header() -> None:
    text = "From: the warehouse, the stock count differs.\nPlease check."
    assert trim_reply(text) == text


def test_trim_keeps_text_when_everything_would_go() -> None:
    text = "> only a quote"
    assert trim_reply(text) == "> only a quote"
