"""Sign-in, the layout every page shares, and the API token page."""

from __future__ import annotations

import pytest
from django.test import Client

from erpcare.accounts.models import ApiToken
from erpcare.accounts.services import user_for_token
from erpcare.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    # Pages must render without collectstatic and without the vendored assets.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_sign_in_page_asks_for_email_and_password(db):
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body
    assert 'type="email"' in body
    assert 'name="password"' in body
    assert 'data-testid="login-submit"' in body
    assert 'data-testid="lang-zh-hans"' in body
    assert 'data-testid="sign-out"' not in body


def test_customer_signs_in_and_lands_in_the_portal(cast):
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "ALICE@acme.example", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/portal/"
    body = response.content.decode()
    assert 'data-testid="nav-portal"' in body
    assert 'data-testid="nav-desk"' not in body
    assert "Alice Wang" in body


def test_agent_signs_in_and_lands_on_the_desk(cast):
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "lina@erpcare.example", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/desk/"
    body = response.content.decode()
    assert 'data-testid="nav-desk"' in body
    assert 'data-testid="nav-desk-new"' in body
    assert 'href="/api/v1/docs"' in body


def test_auditor_sees_the_desk_but_no_new_ticket_link(cast):
    body = signed_in(cast.audra).get("/desk/").content.decode()
    assert 'data-testid="nav-desk"' in body
    assert 'data-testid="nav-desk-new"' not in body


def test_wrong_password_is_a_form_error(cast):
    response = Client().post(
        "/accounts/login/", {"username": "alice@acme.example", "password": "wrong password"}
    )
    assert response.status_code == 200
    assert "The e-mail address or password is not correct." in response.content.decode()


def test_sign_out_is_a_post(cast):
    client = signed_in(cast.alice)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/portal/").status_code == 302


def test_language_switcher_serves_chinese(cast):
    client = signed_in(cast.alice)
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/portal/"})
    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    body = client.get("/portal/").content.decode()
    assert '<html lang="zh-hans">' in body


def test_page_carries_the_csrf_token_for_htmx(cast):
    body = signed_in(cast.lina).get("/desk/").content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in body


def test_new_token_is_shown_once_with_a_warning(cast):
    client = signed_in(cast.lina)
    response = client.post("/accounts/tokens/", {"name": "nightly export", "days": "30"})
    assert response.status_code == 200
    raw = response.context["new_token"]
    body = response.content.decode()
    assert raw in body
    assert 'data-testid="new-token-alert"' in body
    assert user_for_token(raw) == cast.lina
    again = client.get("/accounts/tokens/").content.decode()
    assert raw not in again
    assert "nightly export" in again
    assert 'data-testid="revoke-token"' in again


def test_token_form_errors_are_shown(cast):
    response = signed_in(cast.lina).post("/accounts/tokens/", {"name": "", "days": "0"})
    assert response.status_code == 200
    assert not ApiToken.objects.filter(user=cast.lina).exists()
    assert "invalid-feedback" in response.content.decode()


def test_revoke_a_token(cast):
    raw = cast.token(cast.lina)
    token = ApiToken.objects.get(user=cast.lina)
    client = signed_in(cast.lina)
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/", follow=True)
    assert response.status_code == 200
    assert "The token was revoked." in response.content.decode()
    assert user_for_token(raw) is None
    assert 'data-testid="revoke-token"' not in response.content.decode()


def test_cannot_revoke_someone_elses_token(cast):
    cast.token(cast.eric)
    token = ApiToken.objects.get(user=cast.eric)
    response = signed_in(cast.lina).post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
