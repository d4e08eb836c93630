"""Channel endpoints: the signed chat intake a team's bot posts to."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja import Status as HttpStatus

from erpcare.channels.chat import intake as chat
from erpcare.core.schemas import ERRORS

router = Router(tags=["intake"])


class ChatIntakeOut(Schema):
    state: str
    ticket: str | None = None
    reason: str | None = None
    error: str | None = None


CHAT_DESCRIPTION = f"""
A team's bot posts one chat message. No user sign-in: the request is signed with the
intake's shared secret —
`{chat.TIMESTAMP_HEADER}: <unix seconds>` and
`{chat.SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>`;
the timestamp must be within 5 minutes. Body (JSON, at most 256 KB):
`{{"message_id": str, "text": str, "sender": {{"email": str, "name": str, "id": str}},
"title"?: str, "ticket"?: "INC-…", "reply_to"?: "<earlier message_id>"}}`.

A new ticket answers 201, a reply (ticket number given, `[INC-…]` in the text, or
`reply_to` an earlier message) 200, a held or failed message 202 with its `state`.
Sending the same `message_id` again answers 200 with the first result and changes nothing.
"""


@router.post(
    "/chat/{slug}",
    auth=None,
    response={200: ChatIntakeOut, 201: ChatIntakeOut, 202: ChatIntakeOut, **ERRORS},
    exclude_none=True,
    summary="Post a chat message (signed)",
    description=CHAT_DESCRIPTION,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["message_id", "text", "sender"],
                        "properties": {
                            "message_id": {"type": "string", "maxLength": 200},
                            "text": {"type": "string"},
                            "sender": {
                                "type": "object",
                                "required": ["email"],
                                "properties": {
                                    "email": {"type": "string"},
                                    "name": {"type": "string"},
                                    "id": {"type": "string"},
                                },
                            },
                            "title": {"type": "string", "maxLength": 200},
                            "ticket": {"type": "string"},
                            "reply_to": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
)
def post_chat_message(request: HttpRequest, slug: str) -> HttpStatus[ChatIntakeOut] | HttpResponse:
    intake = chat.intake_for(slug)
    received = chat.receive(intake, request.body, request.headers)
    status, body = chat.answer(received)
    return HttpStatus(status, ChatIntakeOut(**body))
