"""Slack incoming webhook.

https://api.slack.com/messaging/webhooks — POST ``{"text": fallback, "blocks": […]}``;
``text`` is what notifications show. Success is HTTP 200 with the body ``ok``; errors
come as 4xx with a short reason (``invalid_payload``, ``no_text``) and 429 when rate
limited.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from erpcare.channels.robots import cards
from erpcare.channels.robots.base import RobotTransport
from erpcare.channels.transports import SendResult, register


def _escape(text: str) -> str:
    # Slack's mrkdwn treats &, < and > as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackWebhook(RobotTransport):
    channel = "slack"

    def message(self, card: cards.Card) -> dict[str, Any]:
        blocks: list[dict[str, Any]] = [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": cards.one_line(card.title, 150)},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_escape(card.heading)}*"}},
        ]
        if card.facts:
            blocks.append(
                {
                    "type": "section",
                    # Slack allows at most 10 fields per section.
                    "fields": [
                        {"type": "mrkdwn", "text": f"*{_escape(label)}*\n{_escape(value)}"}
                        for label, value in card.facts[:10]
                    ],
                }
            )
        if card.text:
            blocks.append(
                {"type": "section", "text": {"type": "mrkdwn", "text": _escape(card.text)[:2900]}}
            )
        if card.url:
            blocks.append(
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": card.link_label},
                            "url": card.url,
                        }
                    ],
                }
            )
        return {"text": card.fallback, "blocks": blocks}

    def answer(self, result: SendResult) -> SendResult:
        if result.response.strip() != "ok":
            return SendResult(
                ok=False,
                status_code=result.status_code,
                response=result.response,
                error=_("The robot's answer was not understood."),
            )
        return result


transport = register(SlackWebhook())
