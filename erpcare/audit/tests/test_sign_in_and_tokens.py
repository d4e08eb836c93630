"""Sign-ins, failed sign-ins and API tokens are in the audit trail; secrets never are."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.test import Client

from erpcare.accounts.services import create_api_token, revoke_api_token
from erpcare.audit.models import AuditEntry
from erpcare.conftest import PASSWORD

pytestmark = pytest.mark.django_db

IP = "192.0.2.44"


def rows(action):
    return list(AuditEntry.objects.filter(action=action).order_by("pk"))


def test_sign_in_is_recorded(cast):
    client = Client()
    assert client.login(username="alice@acme.example", password=PASSWORD)
    (row,) = rows("auth.sign_in")
    assert (row.actor, row.actor_label, row.target_id) == (
        cast.alice,
        cast.alice.email,
        str(cast.alice.pk),
    )


def test_failed_sign_in_records_the_attempted_address_never_the_password(cast):
    assert authenticate(username="alice@acme.example", password="wrong password") is None
    assert authenticate(username="mallory@evil.example", password="guess") is None
    failed = rows("auth.sign_in_failed")
    assert [row.data for row in failed] == [
        {"email": "alice@acme.example"},
        {"email": "mallory@evil.example"},
    ]
    assert all(row.actor is None for row in failed)
    assert "wrong password" not in str([row.data for row in failed])
    assert rows("auth.sign_in") == []


def test_failed_client_login_is_recorded(cast):
    assert not Client().login(username="bob@globex.example", password="nope")
    assert [row.data for row in rows("auth.sign_in_failed")] == [{"email": "bob@globex.example"}]


def test_sign_in_page_records_address_and_channel(cast):
    client = Client(REMOTE_ADDR=IP)
    response = client.post("/accounts/login/", {"username": cast.bob.email, "password": PASSWORD})
    assert response.status_code == 302
    (row,) = rows("auth.sign_in")
    assert (row.actor, row.ip, row.channel) == (cast.bob, IP, "web")


def test_failed_sign_in_page_records_address(cast, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = Client(REMOTE_ADDR=IP)
    response = client.post("/accounts/login/", {"username": cast.bob.email, "password": "x"})
    assert response.status_code == 200
    (row,) = rows("auth.sign_in_failed")
    assert (row.ip, row.channel, row.data) == (IP, "web", {"email": cast.bob.email})


def test_token_creation_and_revocation_are_recorded_without_the_secret(cast):
    token, raw = create_api_token(user=cast.eric, name="monitoring")
    revoke_api_token(actor=cast.adam, token=token)
    (created,) = rows("token.created")
    (revoked,) = rows("token.revoked")
    assert (created.actor, created.target_type, created.target_id) == (
        cast.eric,
        "accounts.apitoken",
        str(token.pk),
    )
    assert (revoked.actor, revoked.data) == (cast.adam, {"user": cast.eric.email})
    secret = raw.split("_", 2)[2]
    for row in (created, revoked):
        assert secret not in str(row.data)
        assert token.digest not in str(row.data)


def test_tokens_page_records_the_address(cast, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = Client(REMOTE_ADDR=IP)
    client.force_login(cast.lina)
    response = client.post("/accounts/tokens/", {"name": "laptop", "days": 30})
    assert response.status_code == 200
    (row,) = rows("token.created")
    assert (row.actor, row.ip, row.channel) == (cast.lina, IP, "web")
