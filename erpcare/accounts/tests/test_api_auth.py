"""Authenticating to the API: bearer tokens and the browser session; GET /api/v1/me."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from erpcare.accounts.services import create_api_token, revoke_api_token
from erpcare.conftest import PASSWORD
from erpcare.core import clock
from erpcare.tickets import services

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"
PROTECTED = [
    ("get", "/api/v1/me"),
    ("get", "/api/v1/tickets"),
    ("post", "/api/v1/tickets"),
    ("get", "/api/v1/tickets/INC-2026-000001"),
    ("patch", "/api/v1/tickets/INC-2026-000001"),
    ("get", "/api/v1/tickets/INC-2026-000001/comments"),
    ("post", "/api/v1/tickets/INC-2026-000001/comments"),
    ("get", "/api/v1/tickets/INC-2026-000001/events"),
    ("get", "/api/v1/tickets/INC-2026-000001/attachments"),
    ("post", "/api/v1/tickets/INC-2026-000001/attachments"),
    ("get", "/api/v1/tickets/INC-2026-000001/attachments/1/download"),
    ("post", "/api/v1/tickets/INC-2026-000001/assign"),
    ("post", "/api/v1/tickets/INC-2026-000001/transition"),
    ("post", "/api/v1/tickets/INC-2026-000001/escalate"),
    ("post", "/api/v1/tickets/INC-2026-000001/links"),
    ("post", "/api/v1/tickets/INC-2026-000001/merge"),
    ("get", "/api/v1/customers"),
    ("get", "/api/v1/customers/acme"),
    ("get", "/api/v1/erp-instances"),
    ("get", "/api/v1/erp-instances/1"),
]


def assert_401(response):
    assert response.status_code == 401, response.content
    assert response.json() == {"detail": "Authentication required: send a valid API token."}


def bearer(raw):
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_every_endpoint_needs_authentication(cast, method, url):
    response = getattr(Client(), method)(url, {}, content_type="application/json")
    assert_401(response)


def test_valid_token_authenticates(cast):
    response = bearer(cast.token(cast.alice)).get(ME)
    assert response.status_code == 200
    assert response.json()["email"] == "alice@acme.example"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer not-a-token",
        "Bearer erc_0123456789ab_wrongsecret",
        "Basic YWxpY2U6c2VjcmV0",
        "Token {raw}",
        "Bearer {raw}x",
        "Bearer erc_zz\x00zz_x",
    ],
)
def test_invalid_tokens_get_401(cast, header):
    raw = cast.token(cast.alice)
    client = Client(headers={"Authorization": header.format(raw=raw)})
    assert_401(client.get(ME))


def test_expired_token_gets_401(cast):
    token, raw = create_api_token(user=cast.alice, name="short", days=1)
    assert bearer(raw).get(ME).status_code == 200
    with clock.frozen_at(token.expires_at + timedelta(seconds=1)):
        assert_401(bearer(raw).get(ME))


def test_revoked_token_gets_401(cast):
    token, raw = create_api_token(user=cast.alice, name="ci")
    revoke_api_token(actor=cast.alice, token=token)
    assert_401(bearer(raw).get(ME))


def test_token_of_a_deactivated_user_gets_401(cast):
    raw = cast.token(cast.alice)
    cast.alice.is_active = False
    cast.alice.save()
    assert_401(bearer(raw).get(ME))


def test_session_of_a_signed_in_user_authenticates(cast):
    client = Client()
    assert client.login(username="LINA@erpcare.example", password=PASSWORD)
    response = client.get(ME)
    assert response.status_code == 200
    assert response.json()["email"] == cast.lina.email


def test_session_writes_need_the_csrf_token(cast):
    ticket = services.create_ticket(cast.alice, title="x")
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.lina)
    url = f"/api/v1/tickets/{ticket.number}/comments"
    refused = client.post(url, {"body": "hi"}, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    # The UI's scripts send the csrftoken cookie back in the X-CSRFToken header.
    client.cookies["csrftoken"] = "a" * 32
    accepted = client.post(
        url, {"body": "hi"}, content_type="application/json", headers={"X-CSRFToken": "a" * 32}
    )
    assert accepted.status_code == 201, accepted.content


def test_session_of_a_deactivated_user_is_refused(cast):
    client = Client()
    client.force_login(cast.lina)
    cast.lina.is_active = False
    cast.lina.save()
    assert_401(client.get(ME))


def test_bearer_token_does_not_need_csrf(cast):
    ticket = services.create_ticket(cast.alice, title="x")
    client = Client(
        enforce_csrf_checks=True, headers={"Authorization": f"Bearer {cast.token(cast.lina)}"}
    )
    response = client.post(
        f"/api/v1/tickets/{ticket.number}/comments", {"body": "hi"}, content_type="application/json"
    )
    assert response.status_code == 201


def test_me_describes_a_customer(cast):
    body = bearer(cast.token(cast.alice)).get(ME).json()
    assert body["role"] == "customer"
    assert body["organization"] == "acme"
    assert body["teams"] == []
    assert body["time_zone"] == "Asia/Shanghai"


def test_me_describes_an_agent_with_teams(cast):
    body = bearer(cast.token(cast.vera)).get(ME).json()
    assert (body["role"], body["organization"]) == ("l1_agent", None)
    assert body["teams"] == [{"code": "l1-acme", "name": "Acme 驻场组", "tier": 1}]
