"""Outbound webhooks: the event as signed JSON, for systems that integrate with ERPCare.

The body is rendered once per delivery (so every retry sends the same bytes); the
timestamp and the signature are made at send time, so a retry carries a fresh timestamp
and receivers can refuse old ones. Receivers deduplicate on ``X-ERPCare-Delivery``.
See docs/integrations/webhooks.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from erpcare.channels import http
from erpcare.channels.models import EventName
from erpcare.channels.transports import SendResult, register

if TYPE_CHECKING:
    from erpcare.channels.models import Delivery

USER_AGENT = "ERPCare-Webhook/1"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(secret, f"{timestamp}." + body)>``."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


class WebhookTransport:
    channel = "webhook"

    def render(self, delivery: Delivery) -> dict[str, object]:
        event = delivery.event
        name = event.name if event is not None else EventName.TEST.value
        document = {
            "id": f"evt_{event.pk}" if event is not None else f"evt_test_{delivery.pk}",
            "event": name,
            "created_at": (event.created_at if event is not None else delivery.created_at)
            .isoformat()
            .replace("+00:00", "Z"),
            "delivery": delivery.pk,
            "data": event.data if event is not None else {},
        }
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-ERPCare-Event": name,
            "X-ERPCare-Delivery": str(delivery.pk),
        }
        return {"body": body, "headers": headers}

    def send(self, delivery: Delivery) -> SendResult:
        destination = delivery.destination
        if destination is None:
            return SendResult(
                ok=False, error=_("The delivery has no destination."), retryable=False
            )
        payload = delivery.payload if "body" in (delivery.payload or {}) else self.render(delivery)
        text, headers = http.payload_parts(payload)
        body = text.encode("utf-8")
        timestamp = str(int(time.time()))
        headers["X-ERPCare-Timestamp"] = timestamp
        if destination.secret:
            headers["X-ERPCare-Signature"] = signature(destination.secret, timestamp, body)
        return http.post(
            destination.url, body, headers, allow_private=destination.allow_private_network
        )


transport = register(WebhookTransport())
