"""MIME bytes → ``ParsedMessage``: decoded headers, the text (or HTML turned into
Markdown), attachments and inline images. Parsing never touches the database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email import errors as email_errors
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime

from django.utils.translation import gettext as _

from erpcare.channels.email.inbound.charsets import decode_bytes, decode_header_value
from erpcare.channels.email.inbound.html import html_to_markdown

_MSGID = re.compile(r"<[^<>\s]+>")
_FATAL_DEFECTS = (
    email_errors.NoBoundaryInMultipartDefect,
    email_errors.StartBoundaryNotFoundDefect,
    email_errors.MultipartInvariantViolationDefect,
)


class ParseError(Exception):
    """The message cannot be understood; it stays stored for a re-run after a fix."""


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str = ""
    inline: bool = False


@dataclass
class ParsedMessage:
    message_id: str
    in_reply_to: list[str]
    references: list[str]
    from_address: str
    from_name: str
    subject: str
    date: datetime | None
    text: str
    html: str
    attachments: list[ParsedAttachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain"
    report_type: str = ""

    @property
    def thread_ids(self) -> list[str]:
        """Every Message-ID this one answers, nearest first."""
        seen = dict.fromkeys([*self.in_reply_to, *reversed(self.references)])
        return [mid for mid in seen if mid != self.message_id]

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def body(self) -> str:
        """The visible text: plain text when the sender wrote one, else the HTML as
        sanitised Markdown."""
        if self.text.strip():
            return self.text
        if self.html.strip():
            return html_to_markdown(self.html, self.inline_names)
        return ""

    @property
    def inline_names(self) -> dict[str, str]:
        return {a.content_id: a.filename for a in self.attachments if a.content_id}


def message_ids(value: str) -> list[str]:
    return _MSGID.findall(value or "")[:100]


def _clip(text: str, limit: int) -> str:
    return text[:limit]


def parse_headers_only(raw: bytes) -> tuple[str, str, str]:
    """(Message-ID, From address, subject) for the intake list, without parsing bodies."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    msg = message_from_bytes(head + b"\r\n\r\n", policy=compat32)
    headers: dict[str, str] = {}
    for name, value in msg.raw_items():
        headers.setdefault(name.lower(), decode_header_value(value))
    ids = message_ids(headers.get("message-id", ""))
    addresses = getaddresses([headers.get("from", "")])
    address = addresses[0][1] if addresses else ""
    return (
        _clip(ids[0] if ids else "", 255),
        _clip(address.lower(), 254),
        _clip(headers.get("subject", ""), 300),
    )


def parse_message(raw: bytes) -> ParsedMessage:
    msg = message_from_bytes(raw, policy=compat32)
    headers: dict[str, str] = {}
    # raw_items: 8-bit header bytes stay as surrogates for decode_header_value to read.
    for name, value in msg.raw_items():
        key = name.lower()
        if key not in headers:
            headers[key] = decode_header_value(value)
    addresses = [pair for pair in getaddresses([headers.get("from", "")]) if "@" in pair[1]]
    if not addresses:
        raise ParseError(_("The message has no sender address."))
    from_name, from_address = addresses[0]
    date: datetime | None = None
    try:
        date = parsedate_to_datetime(headers.get("date", "")) if headers.get("date") else None
    except (TypeError, ValueError, IndexError):
        date = None
    ids = message_ids(headers.get("message-id", ""))
    parsed = ParsedMessage(
        message_id=ids[0] if ids else "",
        in_reply_to=message_ids(headers.get("in-reply-to", "")),
        references=message_ids(headers.get("references", "")),
        from_address=from_address.strip().lower(),
        from_name=from_name.strip(),
        subject=headers.get("subject", ""),
        date=date,
        text="",
        html="",
        headers=headers,
        content_type=msg.get_content_type(),
        report_type=str(msg.get_param("report-type") or ""),
    )
    texts: list[str] = []
    htmls: list[str] = []
    _walk(msg, parsed, texts, htmls)
    parsed.text = "\n\n".join(t for t in texts if t.strip())
    parsed.html = "\n".join(htmls)
    return parsed


def _walk(part: Message, parsed: ParsedMessage, texts: list[str], htmls: list[str]) -> None:
    defects = [d for d in part.defects if isinstance(d, _FATAL_DEFECTS)]
    if defects:
        raise ParseError(
            _("The MIME structure is broken: %(defect)s") % {"defect": type(defects[0]).__name__}
        )
    ctype = part.get_content_type()
    if part.is_multipart() and ctype != "message/rfc822":
        if ctype == "multipart/alternative":
            # Prefer the plain text of an alternative; keep its HTML only when there is none.
            alt_texts: list[str] = []
            alt_htmls: list[str] = []
            for sub in _parts(part):
                _walk(sub, parsed, alt_texts, alt_htmls)
            texts.extend(alt_texts)
            if not any(t.strip() for t in alt_texts):
                htmls.extend(alt_htmls)
            return
        for sub in _parts(part):
            _walk(sub, parsed, texts, htmls)
        return
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    filename = _filename(part)
    if ctype == "message/rfc822":
        inner_parts = _parts(part)
        inner_msg = inner_parts[0] if inner_parts else None
        data = inner_msg.as_bytes() if isinstance(inner_msg, Message) else b""
        subject = decode_header_value(inner_msg.get("Subject")) if inner_msg else ""
        name = filename or f"{_safe_name(subject) or 'message'}.eml"
        parsed.attachments.append(ParsedAttachment(name, "message/rfc822", data))
        return
    is_body_text = (
        ctype in {"text/plain", "text/html"} and disposition != "attachment" and not filename
    )
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    if is_body_text:
        text = decode_bytes(data, part.get_content_charset()).replace("\r\n", "\n")
        (texts if ctype == "text/plain" else htmls).append(text)
        return
    if ctype in {
        "message/delivery-status",
        "message/disposition-notification",
        "text/rfc822-headers",
    }:
        return
    content_id = (part.get("Content-ID") or "").strip().strip("<>")
    inline = disposition == "inline" or (bool(content_id) and disposition != "attachment")
    name = filename or _default_name(ctype, len(parsed.attachments) + 1)
    parsed.attachments.append(
        ParsedAttachment(name, ctype, data, content_id=content_id, inline=inline)
    )


def _parts(part: Message) -> list[Message]:
    payload = part.get_payload()
    if not isinstance(payload, list):
        return []
    return [sub for sub in payload if isinstance(sub, Message)]


def _filename(part: Message) -> str:
    value = part.get_param("filename", header="content-disposition")
    if value is None:
        value = part.get_param("name")
    if value is None:
        return ""
    if isinstance(value, tuple):
        # RFC 2231: (charset, language, percent-decoded text kept as latin-1 code points).
        charset, _lang, text = value
        name = decode_bytes(text.encode("raw-unicode-escape"), charset or None)
    else:
        name = str(value).strip('"')
        if any(0xDC80 <= ord(ch) <= 0xDCFF for ch in name):
            name = decode_bytes(name.encode("ascii", "surrogateescape"), None)
    # Outlook and Foxmail put RFC 2047 encoded-words into parameters (against the RFC).
    return _safe_name(decode_header_value(name))


def _safe_name(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().strip(".")
    return name[:200]


def _default_name(ctype: str, index: int) -> str:
    import mimetypes

    ext = mimetypes.guess_extension(ctype) or ".bin"
    return f"attachment-{index}{ext}"
