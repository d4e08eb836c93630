"""DingTalk (钉钉) custom robot.

https://open.dingtalk.com/document/orgapp/customize-robot-security-settings — with a
signing secret, ``timestamp`` (milliseconds) and ``sign`` =
urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))) go into the
query string; the timestamp must be within an hour of DingTalk's clock, so both are made
at send time. https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages
— body ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``; success is
``{"errcode": 0}``; 130101 (over 20 messages a minute) is worth a retry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from django.utils.translation import gettext as _

from erpcare.channels.robots import cards
from erpcare.channels.robots.base import RobotTransport, json_answer, vendor_error
from erpcare.channels.transports import SendResult, register

if TYPE_CHECKING:
    from erpcare.channels.models import Destination

RETRYABLE = {-1, 130101, 90030}  # busy; too fast; over the daily/hourly webhook limit


def signature(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` parameter, already URL-encoded as DingTalk's sample does."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


class DingTalkRobot(RobotTransport):
    channel = "dingtalk"

    def message(self, card: cards.Card) -> dict[str, Any]:
        # The title is what the conversation list and the push notification show.
        return {
            "msgtype": "markdown",
            "markdown": {"title": cards.one_line(card.fallback, 100), "text": cards.markdown(card)},
        }

    def sign(self, destination: Destination, url: str, body: str) -> tuple[str, str]:
        if not destination.secret:
            return url, body
        timestamp = int(time.time() * 1000)
        joiner = "&" if "?" in url else "?"
        return (
            f"{url}{joiner}timestamp={timestamp}&sign={signature(destination.secret, timestamp)}",
            body,
        )

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


transport = register(DingTalkRobot())
