"""Microsoft Teams incoming webhook (Workflows or the classic connector) with an
Adaptive Card.

https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
— POST ``{"type": "message", "attachments": [{"contentType":
"application/vnd.microsoft.card.adaptive", "content": {AdaptiveCard 1.4}}]}``; classic
connectors answer 200, Workflows (Power Automate) answer 202 Accepted.
"""

from __future__ import annotations

from typing import Any

from erpcare.channels.robots import cards
from erpcare.channels.robots.base import RobotTransport
from erpcare.channels.transports import register


class TeamsWebhook(RobotTransport):
    channel = "teams"

    def message(self, card: cards.Card) -> dict[str, Any]:
        body: list[dict[str, Any]] = [
            {
                "type": "TextBlock",
                "text": card.title,
                "weight": "Bolder",
                "size": "Medium",
                "color": "Attention" if card.severe else "Default",
                "wrap": True,
            },
            {"type": "TextBlock", "text": card.heading, "wrap": True},
        ]
        if card.facts:
            body.append(
                {
                    "type": "FactSet",
                    "facts": [{"title": label, "value": value} for label, value in card.facts],
                }
            )
        if card.text:
            body.append({"type": "TextBlock", "text": card.text, "wrap": True, "isSubtle": True})
        content: dict[str, Any] = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
            "actions": [],
        }
        if card.url:
            content["actions"] = [
                {"type": "Action.OpenUrl", "title": card.link_label, "url": card.url}
            ]
        return {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "content": content}
            ],
        }


transport = register(TeamsWebhook())
