"""What every JSON-over-HTTPS robot transport shares: render once, sign at send time,
post through the SSRF guard, read the vendor's answer."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from erpcare.channels import http
from erpcare.channels.robots import cards
from erpcare.channels.transports import SendResult

if TYPE_CHECKING:
    from erpcare.channels.models import Delivery, Destination

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


class RobotTransport:
    """Subclasses set ``channel`` and write ``message`` (and, if the vendor needs it,
    ``sign`` and ``answer``)."""

    channel = ""

    def message(self, card: cards.Card) -> dict[str, Any]:
        raise NotImplementedError

    def render(self, delivery: Delivery) -> dict[str, object]:
        card = cards.for_delivery(delivery)
        return {"body": dumps(self.message(card)), "headers": dict(JSON_HEADERS)}

    def sign(self, destination: Destination, url: str, body: str) -> tuple[str, str]:
        """The URL and body to send now; signatures carry a fresh timestamp on every try."""
        return url, body

    def answer(self, result: SendResult) -> SendResult:
        """Turn a 2xx into a failure when the vendor's body says the message was refused."""
        return result

    def send(self, delivery: Delivery) -> SendResult:
        destination = delivery.destination
        if destination is None:
            return SendResult(
                ok=False, error=_("The delivery has no destination."), retryable=False
            )
        # A payload without a body (empty, or a dispatcher's instructions) is rendered now.
        payload = delivery.payload if "body" in (delivery.payload or {}) else self.render(delivery)
        text, headers = http.payload_parts(payload)
        url, body = self.sign(destination, destination.url, text)
        result = http.post(
            url,
            body.encode("utf-8"),
            headers,
            allow_private=destination.allow_private_network,
        )
        return self.answer(result) if result.ok else result


def vendor_error(
    result: SendResult, code: object, message: object, *, retryable: bool
) -> SendResult:
    return SendResult(
        ok=False,
        status_code=result.status_code,
        response=result.response,
        error=_("The robot refused the message: error %(code)s, %(message)s")
        % {"code": code, "message": message or "-"},
        retryable=retryable,
    )


def json_answer(result: SendResult) -> dict[str, Any] | None:
    try:
        data = json.loads(result.response)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
