"""WeCom (企业微信) group robot.

https://developer.work.weixin.qq.com/document/path/91770 — POST JSON
``{"msgtype": "markdown", "markdown": {"content": …}}`` to the robot URL
(``…/cgi-bin/webhook/send?key=…``); the content is at most 4096 bytes of UTF-8; the
answer is HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}``, any other errcode is a
refusal (45009: over the robot's 20 messages a minute, worth a retry later).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.utils.translation import gettext as _

from erpcare.channels.robots import cards
from erpcare.channels.robots.base import RobotTransport, json_answer, vendor_error
from erpcare.channels.transports import SendResult, register

CONTENT_BYTES = 4096
RETRYABLE = {-1, 45009}  # -1: system busy; 45009: rate limit


class WeComRobot(RobotTransport):
    channel = "wecom"

    def message(self, card: cards.Card) -> dict[str, Any]:
        # WeCom markdown colours text with <font color="warning|info|comment">.
        title = f'<font color="warning">{card.title}</font>' if card.severe else card.title
        text = cards.markdown(replace(card, title=title, url=""))
        # Cut the text, never the link: the link is what people act on.
        link = f"\n\n[{card.link_label}]({card.url})" if card.url else ""
        room = CONTENT_BYTES - len(link.encode("utf-8"))
        return {
            "msgtype": "markdown",
            "markdown": {"content": cards.truncate_utf8(text, room) + link},
        }

    def answer(self, result: SendResult) -> SendResult:
        data = json_answer(result)
        if data is None or "errcode" not in data:
            return SendResult(
                ok=False,
                status_code=result.status_code,
                response=result.response,
                error=_("The robot's answer was not understood."),
            )
        if data["errcode"] != 0:
            return vendor_error(
                result, data["errcode"], data.get("errmsg"), retryable=data["errcode"] in RETRYABLE
            )
        return result


transport = register(WeComRobot())
