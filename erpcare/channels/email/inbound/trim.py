"""Trim quoted history and signatures from a reply, so the comment shows what was written.

A small explicit rule list for the clients our users have: Outlook (zh/en), Foxmail,
QQ Mail, NetEase, Gmail and Apple Mail. ``mail-parser-reply`` was considered; its Chinese
rules miss QQ Mail's "------------------ 原始邮件 ------------------" and Foxmail's
"发件人: … 发送时间: …" blocks, and a rule list we can read and extend is easier to trust.
When trimming would leave nothing, the text is kept as it was: losing words is worse
than showing a quote.
"""

from __future__ import annotations

import re

# A line that starts the quoted original on its own.
_SEPARATORS = [
    re.compile(r"^\s*-{2,}\s*(原始邮件|原始郵件|Original Message|Original)\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*-{2,}\s*(回复的原邮件|回覆的原郵件)\s*-{2,}\s*$"),
    re.compile(r"^\s*在\s*.{4,120}(写道|寫道)\s*[:：]\s*$"),
    re.compile(r"^\s*On\s.{4,200}\swrote:\s*$"),
    re.compile(r"^\s*Le\s.{4,200}\sa écrit\s*:\s*$"),
    re.compile(r"^\s*Am\s.{4,200}\sschrieb\s.{0,100}:\s*$"),
]
# Gmail wraps a long attribution line: "On Tue, … <x@y>\nwrote:".
_WRAPPED_ATTRIBUTION = [
    re.compile(r"^\s*On\s.{4,300}\swrote:\s*$", re.S),
    re.compile(r"^\s*在\s*.{4,200}(写道|寫道)\s*[:：]\s*$", re.S),
]
# Outlook/Foxmail header blocks: a "From:" line followed closely by "Sent:"/"Date:"…
_BLOCK_START = re.compile(r"^\s*\**\s*(From|发件人|寄件者|發件人)\s*\**\s*[:：]", re.I)
_BLOCK_NEXT = re.compile(
    r"^\s*\**\s*(Sent|Date|To|Subject|发送时间|发件时间|日期|时间|收件人|主题|寄件日期|傳送時間|收件者|主旨)"
    r"\s*\**\s*[:：]",
    re.I,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_FORWARD_MARKERS = re.compile(
    r"^\s*-{2,}\s*(Forwarded message|转发的邮件|轉寄的郵件|Begin forwarded message)", re.I
)
_RULE = re.compile(r"^\s*([-_*])\1{2,}\s*$")
_SIGNATURE = re.compile(r"^-- ?$")
_MOBILE_FOOTERS = re.compile(
    r"^\s*(发自我的\s?(iPhone|iPad|手机|华为手机|小米手机)|Sent from my \w+|"
    r"发自网易邮箱大师|Get Outlook for (iOS|Android)|从我的\s?iPhone\s?发送)\s*$",
    re.I,
)


def is_forward(subject: str) -> bool:
    return bool(re.match(r"^\s*(fwd?|转发|轉寄|转)\s*[:：]", subject or "", re.I))


def trim_reply(text: str) -> str:
    """The new part of a reply: everything above the first quote header, without the
    signature and the trailing "> " quoted lines."""
    original = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    lines = original.split("\n")
    cut = _quote_start(lines)
    kept = lines[:cut]
    kept = _strip_signature(kept)
    while kept and (
        not kept[-1].strip() or kept[-1].lstrip().startswith(">") or _RULE.match(kept[-1])
    ):
        kept.pop()
    result = "\n".join(kept).strip()
    return result or original.strip()


def _quote_start(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if _FORWARD_MARKERS.match(line):
            return len(lines)  # a forward's content is the point: keep it all
        if any(p.match(line) for p in _SEPARATORS):
            return index
        if index + 1 < len(lines) and line.lstrip().startswith(("On ", "在")):
            joined = line + " " + lines[index + 1]
            if any(p.match(joined) for p in _WRAPPED_ATTRIBUTION):
                return index
        if (
            _UNDERSCORES.match(line)
            and index + 1 < len(lines)
            and _BLOCK_START.match(lines[index + 1])
        ):
            return index
        if _BLOCK_START.match(line) and any(
            _BLOCK_NEXT.match(following) for following in lines[index + 1 : index + 4]
        ):
            return index
    return len(lines)


def _strip_signature(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if _SIGNATURE.match(line):
            return lines[:index]
    return [line for line in lines if not _MOBILE_FOOTERS.match(line)]
