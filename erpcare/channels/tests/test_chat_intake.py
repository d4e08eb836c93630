"""Chat intake: a bot posts signed messages to /api/v1/intake/chat/<slug>; each becomes
a ticket or a reply once, unknown senders are held, and bad requests change nothing."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from django.test import Client
from jsonschema import Draft202012Validator, FormatChecker

from erpcare.audit.models import AuditEntry
from erpcare.channels.chat import intake as chat
from erpcare.channels.models import ChatIntake, ChatMessage, IntakeState
from erpcare.core import clock
from erpcare.core.errors import Conflict, NotAllowed
from erpcare.tickets.models import Comment, Ticket
from erpcare.tickets.services import create_ticket

pytestmark = pytest.mark.django_db

SECRET = "chat-shared-secret-9f2"
URL = "/api/v1/intake/chat/{slug}"
PATH = "/api/v1/intake/chat/{slug}"


@pytest.fixture
def intake(cast):
    return ChatIntake.objects.create(
        slug="finance-group",
        name="财务群机器人",
        secret=SECRET,
        organization=cast.acme,
        team=cast.l1_desk,
        created_at=clock.now(),
    )


@pytest.fixture
def spec(db) -> dict[str, Any]:
    return Client().get("/api/v1/openapi.json").json()


def documented(spec, response) -> Any:
    operation = spec["paths"][PATH]["post"]
    content = operation["responses"][str(response.status_code)]["content"]
    components = copy.deepcopy(spec["components"])
    for schema in components.get("schemas", {}).values():
        if "properties" in schema:
            schema.setdefault("additionalProperties", False)
    root = {**content["application/json"]["schema"], "components": components}
    Draft202012Validator(root, format_checker=FormatChecker()).validate(response.json())
    return response.json()


def message(
    message_id="m-1", text="总账凭证无法过账\n报错 F5 808", email="alice@acme.example", **extra
):
    return {
        "message_id": message_id,
        "text": text,
        "sender": {"email": email, "name": "Alice Wang", "id": "wx_alice"},
        **extra,
    }


def send(body: Any, *, slug="finance-group", secret=SECRET, timestamp=None, signature=None):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    if signature is None:
        digest = hmac.new(secret.encode(), f"{ts}.".encode() + raw, hashlib.sha256).hexdigest()
        signature = f"sha256={digest}"
    headers = {"X-ERPCare-Timestamp": ts, "X-ERPCare-Signature": signature}
    return Client().post(
        URL.format(slug=slug), raw, content_type="application/json", headers=headers
    )


def nothing_stored() -> bool:
    return not ChatMessage.objects.exists() and not Ticket.objects.exists()


def test_a_signed_message_opens_a_ticket_in_the_intakes_queue(cast, intake, spec):
    response = send(message())
    assert response.status_code == 201, response.content
    body = documented(spec, response)
    ticket = Ticket.objects.get()
    assert body == {"ticket": ticket.number, "state": "processed"}
    assert ticket.title == "总账凭证无法过账"
    assert ticket.description == "总账凭证无法过账\n报错 F5 808"
    assert (ticket.channel, ticket.organization, ticket.requester) == (
        "chat",
        cast.acme,
        cast.alice,
    )
    assert ticket.team == cast.l1_desk
    stored = ChatMessage.objects.get()
    assert (stored.state, stored.ticket, stored.sender) == (
        "processed",
        ticket,
        "alice@acme.example",
    )
    assert json.loads(stored.body) == message()
    intake.refresh_from_db()
    assert intake.last_received_at is not None


def test_the_title_field_wins_over_the_first_line(intake):
    assert send(message(title="月结无法关账")).status_code == 201
    assert Ticket.objects.get().title == "月结无法关账"


@pytest.mark.parametrize(
    ("options", "detail"),
    [
        ({"secret": "wrong secret"}, "signature does not match"),
        ({"signature": "sha256=00"}, "signature does not match"),
        ({"signature": ""}, "headers are required"),
        ({"timestamp": int(time.time()) - 301}, "more than 5 minutes"),
        ({"timestamp": int(time.time()) + 600}, "more than 5 minutes"),
    ],
)
def test_unsigned_badly_signed_or_stale_requests_get_401(intake, spec, options, detail):
    response = send(message(), **options)
    assert response.status_code == 401
    assert detail in documented(spec, response)["detail"]
    assert nothing_stored()
    intake.refresh_from_db()
    assert intake.last_received_at is None


def test_a_signature_over_other_bytes_is_refused(intake):
    raw = json.dumps(message()).encode()
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"{ts}.".encode() + raw, hashlib.sha256).hexdigest()
    tampered = raw.replace(b"alice", b"ann")
    response = send(tampered, timestamp=ts, signature=f"sha256={digest}")
    assert response.status_code == 401
    assert nothing_stored()


@pytest.mark.parametrize("slug", ["no-such-intake", "inactive"])
def test_unknown_or_inactive_intakes_answer_404(intake, spec, slug):
    ChatIntake.objects.create(
        slug="inactive", name="old", secret=SECRET, is_active=False, created_at=clock.now()
    )
    response = send(message(), slug=slug)
    assert response.status_code == 404
    assert slug in documented(spec, response)["detail"]
    assert nothing_stored()


def test_a_resent_message_id_answers_the_same_and_duplicates_nothing(intake, spec):
    first = send(message())
    again = send(message())
    assert first.status_code == 201
    assert again.status_code == 200
    assert documented(spec, again) == first.json()
    assert Ticket.objects.count() == 1
    assert ChatMessage.objects.count() == 1


def test_a_ticket_token_in_the_text_makes_a_reply(cast, intake, spec):
    ticket = create_ticket(cast.alice, title="Invoice posting fails")
    response = send(message("m-2", text=f"补充截图说明 [{ticket.number}]"))
    assert response.status_code == 200, response.content
    assert documented(spec, response) == {"ticket": ticket.number, "state": "processed"}
    comment = Comment.objects.get(ticket=ticket)
    assert (comment.author, comment.is_internal, comment.channel) == (cast.alice, False, "chat")
    assert comment.body == f"补充截图说明 [{ticket.number}]"
    assert Ticket.objects.count() == 1
    assert ChatMessage.objects.get().comment == comment


def test_the_ticket_field_makes_a_reply(cast, intake):
    ticket = create_ticket(cast.alice, title="Invoice posting fails")
    response = send(message("m-2", text="还是不行", ticket=ticket.number.lower()))
    assert response.status_code == 200
    assert Comment.objects.get(ticket=ticket).body == "还是不行"


def test_reply_to_an_earlier_message_lands_on_its_ticket(cast, intake):
    opened = send(message("m-1")).json()["ticket"]
    response = send(message("m-2", text="财务那边已经重启了", reply_to="m-1"))
    assert response.status_code == 200
    assert response.json()["ticket"] == opened
    assert Comment.objects.get(ticket__number=opened).body == "财务那边已经重启了"
    assert Ticket.objects.count() == 1


def test_an_unknown_sender_is_held_and_can_be_processed_later(cast, intake, spec):
    response = send(message(email="stranger@example.net"))
    assert response.status_code == 202
    assert documented(spec, response) == {"state": "held", "reason": "unknown_sender"}
    held = ChatMessage.objects.get()
    assert (held.state, held.reason) == (IntakeState.HELD, "unknown_sender")
    assert not Ticket.objects.exists()

    with pytest.raises(NotAllowed):
        chat.reprocess(cast.lina, held)
    cast.alice.email = "stranger@example.net"
    cast.alice.save(update_fields=["email"])
    done = chat.reprocess(cast.mona, held)
    assert done.state == IntakeState.PROCESSED
    assert done.ticket is not None
    assert AuditEntry.objects.filter(action="channels.chat_message.reprocessed").count() == 1
    with pytest.raises(Conflict):
        chat.reprocess(cast.mona, done)


def test_a_customer_of_another_company_is_held(cast, intake):
    response = send(message(email="bob@globex.example"))
    assert response.status_code == 202
    assert response.json() == {"state": "held", "reason": "other_customer"}
    assert not Ticket.objects.exists()


def test_staff_open_tickets_for_the_intakes_customer(cast, intake):
    response = send(message(email="lina@erpcare.example"))
    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert (ticket.organization, ticket.team, ticket.requester) == (cast.acme, cast.l1_desk, None)


def test_a_failure_in_processing_keeps_the_message_with_its_error(cast, intake, spec):
    response = send(message(ticket="INC-2026-999999"))
    assert response.status_code == 202
    body = documented(spec, response)
    assert body["state"] == "failed"
    assert "INC-2026-999999" in body["error"]
    failed = ChatMessage.objects.get()
    assert failed.state == IntakeState.FAILED
    assert "INC-2026-999999" in failed.error
    assert json.loads(failed.body)["ticket"] == "INC-2026-999999"
    assert not Ticket.objects.exists()


def test_an_oversized_body_gets_413(intake, spec):
    response = send(message(text="x" * (256 * 1024)))
    assert response.status_code == 413
    assert "256 KB" in documented(spec, response)["detail"]
    assert nothing_stored()


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (
            json.dumps({"message_id": "m", "sender": {"email": "alice@acme.example"}}).encode(),
            "text",
        ),
        (json.dumps({"message_id": "m", "text": "hi"}).encode(), "sender"),
        (json.dumps(message(message_id="")).encode(), "message_id"),
        ("\xff".encode("latin-1"), "not valid JSON"),
    ],
)
def test_invalid_bodies_get_400_with_the_reason(intake, spec, raw, detail):
    response = send(raw)
    assert response.status_code == 400
    assert detail in documented(spec, response)["detail"]
    assert nothing_stored()


def test_the_operation_is_documented_without_user_auth(spec):
    operation = spec["paths"][PATH]["post"]
    assert operation.get("security") in (None, [], [{}])
    assert {"200", "201", "202", "400", "401", "404", "413", "422"} <= set(operation["responses"])
    assert "X-ERPCare-Signature" in operation["description"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    Draft202012Validator(schema).validate(message(title="t", reply_to="m-0"))
