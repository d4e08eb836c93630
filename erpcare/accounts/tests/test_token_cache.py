"""A web process may trust a checked bearer token for a few seconds, never longer than
the token lives, and forgets it at once when it is revoked here."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from erpcare.accounts.models import ApiToken
from erpcare.accounts.services import (
    create_api_token,
    forget_cached_tokens,
    revoke_api_token,
    user_for_token,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cache_on(settings):
    settings.ERPCARE_API_AUTH_CACHE_SECONDS = 10
    forget_cached_tokens()
    yield
    forget_cached_tokens()


def queries(fn):
    with CaptureQueriesContext(connection) as captured:
        result = fn()
    return result, len(captured)


def test_a_checked_token_is_trusted_without_a_query_for_a_while(cast):
    _token, raw = create_api_token(user=cast.lina, name="script")
    first, first_queries = queries(lambda: user_for_token(raw))
    second, second_queries = queries(lambda: user_for_token(raw))
    assert first == second == cast.lina
    assert first_queries >= 1
    assert second_queries == 0


def test_a_wrong_secret_never_rides_on_a_cached_token(cast):
    _token, raw = create_api_token(user=cast.lina, name="script")
    assert user_for_token(raw) == cast.lina
    assert user_for_token(raw[:-2] + "xx") is None


def test_revoking_forgets_the_token_at_once(cast, django_capture_on_commit_callbacks):
    token, raw = create_api_token(user=cast.lina, name="script")
    assert user_for_token(raw) == cast.lina
    with django_capture_on_commit_callbacks(execute=True):
        revoke_api_token(actor=cast.lina, token=token)
    assert user_for_token(raw) is None


def test_a_cached_token_is_not_trusted_past_its_expiry(cast):
    token, raw = create_api_token(user=cast.lina, name="script", days=1)
    assert user_for_token(raw) == cast.lina
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        assert user_for_token(raw) is None
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_the_cache_expires(cast, settings):
    token, raw = create_api_token(user=cast.lina, name="script")
    assert user_for_token(raw) == cast.lina
    # Revoked elsewhere (another process): this process notices once the entry expires.
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert user_for_token(raw) == cast.lina
    settings.ERPCARE_API_AUTH_CACHE_SECONDS = 0
    assert user_for_token(raw) is None
