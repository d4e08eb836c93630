"""Feishu / Lark (飞书) custom bot.

https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot — with a signing
secret the JSON body carries ``"timestamp"`` (seconds, as a string) and ``"sign"`` =
base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")), made at send time (Feishu
refuses timestamps more than an hour off, code 19021). The message is an interactive
card (``msg_type: "interactive"``: a header, ``lark_md`` text, a button to the ticket).
Success is ``{"code": 0}``; older endpoints answer ``{"StatusCode": 0}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from erpcare.channels.robots import cards
from erpcare.channels.robots.base import RobotTransport, dumps, json_answer, vendor_error
from erpcare.channels.transports import SendResult, register

if TYPE_CHECKING:
    from erpcare.channels.models import Destination

RETRYABLE = {9499, 11232}  # too many requests; frequency limited


def signature(secret: str, timestamp: str) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


class FeishuRobot(RobotTransport):
    channel = "feishu"

    def message(self, card: cards.Card) -> dict[str, Any]:
        lines = [f"**{card.heading}**", ""] + [
            f"**{label}**: {value}" for label, value in card.facts
        ]
        elements: list[dict[str, Any]] = [
            {"tag": "div", "text": {"tag": "lark_md", "content": "\n".join(lines)}}
        ]
        if card.text:
            elements.append({"tag": "hr"})
            elements.append({"tag": "div", "text": {"tag": "lark_md", "content": card.text}})
        if card.url:
            elements.append(
                {
                    "tag": "action",
                    "actions": [
                        {
                            "tag": "button",
                            "text": {"tag": "plain_text", "content": card.link_label},
                            "type": "primary",
                            "url": card.url,
                        }
                    ],
                }
            )
        return {
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": True},
                "header": {
                    "title": {"tag": "plain_text", "content": card.title},
                    "template": "red" if card.severe else "blue",
                },
                "elements": elements,
            },
        }

    def sign(self, destination: Destination, url: str, body: str) -> tuple[str, str]:
        if not destination.secret:
            return url, body
        timestamp = str(int(time.time()))
        message = json.loads(body)
        signed = {
            "timestamp": timestamp,
            "sign": signature(destination.secret, timestamp),
            **message,
        }
        return url, dumps(signed)

    def answer(self, result: SendResult) -> SendResult:
        data = json_answer(result)
        if data is None or ("code" not in data and "StatusCode" not in data):
            return SendResult(
                ok=False,
                status_code=result.status_code,
                response=result.response,
                error=_("The robot's answer was not understood."),
            )
        code = data.get("code", data.get("StatusCode"))
        if code != 0:
            return vendor_error(
                result,
                code,
                data.get("msg") or data.get("StatusMessage"),
                retryable=code in RETRYABLE,
            )
        return result


transport = register(FeishuRobot())
