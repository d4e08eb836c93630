"""Decoding the character sets Chinese mail really uses.

Mail that declares GB2312 is routinely written in GBK or GB18030 (names, 镕, 喆 and many
other characters are outside GB2312), so the GB family is decoded as GB18030, the
superset. Big5 is decoded as Big5-HKSCS (a superset used by Hong Kong and Taiwan
clients), falling back to cp950. Nothing here raises: undecodable bytes become U+FFFD.
"""

from __future__ import annotations

import codecs
from email.header import decode_header

_ALIASES = {
    "gb2312": "gb18030",
    "gb_2312": "gb18030",
    "gb_2312-80": "gb18030",
    "euc-cn": "gb18030",
    "euccn": "gb18030",
    "x-euc-cn": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "gb18030": "gb18030",
    "big5": "big5hkscs",
    "big-5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "cp950": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
}
_FALLBACKS = {"big5hkscs": ("cp950",)}


def codec_for(charset: str | None) -> str:
    """The Python codec to use for a declared charset (utf-8 when unknown)."""
    name = (charset or "").strip().strip('"').lower()
    if not name:
        return "utf-8"
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode ``data`` declared as ``charset``; undeclared text that is not UTF-8 is
    tried as GB18030 before giving up (Chinese clients often omit the charset)."""
    codec = codec_for(charset)
    candidates = [codec, *_FALLBACKS.get(codec, ())]
    if not charset or codec in {"ascii", "utf-8"}:
        candidates += ["utf-8", "gb18030"]
    for candidate in dict.fromkeys(candidates):
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode(codec, errors="replace")


def decode_header_value(value: object) -> str:
    """A header as text: RFC 2047 encoded-words decoded with ``decode_bytes``, raw 8-bit
    headers (sent unencoded by some clients) tried as UTF-8 then GB18030."""
    if value is None:
        return ""
    text = str(value)
    if "=?" not in text:
        if any(0xDC80 <= ord(ch) <= 0xDCFF for ch in text):
            # The parser smuggles undecoded 8-bit header bytes as surrogates.
            return decode_bytes(text.encode("ascii", "surrogateescape"), None)
        return _unfold(text)
    try:
        parts = decode_header(text)
    except Exception:
        return _unfold(text)
    pieces: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            pieces.append(decode_bytes(chunk, charset))
        else:
            pieces.append(chunk)
    return _unfold("".join(pieces))


def _unfold(text: str) -> str:
    return " ".join(text.replace("\r", " ").replace("\n", " ").split())
