"""The short way for accepted alert posts (``monitoring.middleware``) answers exactly as the
API operation does, and every refusal still goes the long way."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from erpcare.monitoring import ingest
from erpcare.monitoring.middleware import AlertIntakeMiddleware
from erpcare.monitoring.models import AlertPayload
from erpcare.monitoring.tests.test_ingest import FIRING, KEY, PATH, SECRET, integration, raw

pytestmark = pytest.mark.django_db

URL = PATH.format(source="alertmanager", integration_key=KEY)
MIDDLEWARE_PATH = f"{AlertIntakeMiddleware.__module__}.{AlertIntakeMiddleware.__name__}"


@pytest.fixture(autouse=True)
def _fresh_cache():
    ingest.clear_cache()
    yield
    ingest.clear_cache()


@pytest.fixture
def receive_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = ingest.receive

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest, "receive", spy)
    return calls


def post(body: Any = FIRING, token: str = SECRET, **headers: str):
    sent = {"Authorization": f"Bearer {token}", **headers}
    return Client(headers=sent).post(URL, raw(body), content_type="application/json")


def test_the_middleware_is_first():
    assert settings.MIDDLEWARE[0] == MIDDLEWARE_PATH


def test_an_accepted_post_is_stored_once_and_answered_without_the_long_way(receive_calls):
    integration()
    response = post()
    assert response.status_code == 202
    payload = AlertPayload.objects.get()
    assert response.json() == {"accepted": True, "payload": payload.pk}
    assert receive_calls == [KEY]
    # LocaleMiddleware (further down) did not run: no Content-Language on this answer.
    assert "Content-Language" not in response.headers
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert int(response.headers["Content-Length"]) == len(response.content)


def test_both_ways_answer_and_store_the_same(settings):
    integration()
    short = post()
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE_PATH]
    long = post()
    assert short.status_code == long.status_code == 202
    first, second = AlertPayload.objects.order_by("id")
    assert short.json() == {"accepted": True, "payload": first.pk}
    assert long.json() == {"accepted": True, "payload": second.pk}
    assert (first.body, first.content_type, first.sha256, first.state) == (
        second.body,
        second.content_type,
        second.sha256,
        second.state,
    )
    for header in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
        assert short.headers[header] == long.headers[header]


def test_a_refusal_goes_the_long_way_with_the_documented_translated_error(receive_calls):
    integration()
    response = post(token="wrong", **{"Accept-Language": "zh-hans"})
    assert response.status_code == 401
    assert receive_calls == [KEY, KEY]  # tried here, answered by the API operation
    assert response.headers["Content-Language"] == "zh-hans"
    assert response.json()["detail"] != "The bearer token does not match the integration's secret."
    assert not AlertPayload.objects.exists()


@pytest.mark.parametrize(
    ("case", "status"),
    [("unknown key", 404), ("unreadable", 400), ("not json", 400)],
)
def test_other_refusals_answer_as_the_api_does(case, status, settings):
    integration()
    bodies = {"unknown key": FIRING, "unreadable": {"alerts": "x"}, "not json": b"{nope"}
    url = URL.replace(KEY, "no-such-key") if case == "unknown key" else URL
    sent = {"Authorization": f"Bearer {SECRET}"}
    short = Client(headers=sent).post(url, raw(bodies[case]), content_type="application/json")
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE_PATH]
    long = Client(headers=sent).post(url, raw(bodies[case]), content_type="application/json")
    assert short.status_code == long.status_code == status
    assert short.json() == long.json()
    assert not AlertPayload.objects.exists()


def test_a_host_that_is_not_allowed_is_refused_as_everywhere(receive_calls):
    integration()
    response = Client(headers={"Authorization": f"Bearer {SECRET}"}).post(
        URL, raw(FIRING), content_type="application/json", HTTP_HOST="evil.example"
    )
    assert response.status_code == 400
    assert receive_calls == []
    assert not AlertPayload.objects.exists()


def test_other_methods_and_paths_are_not_touched(receive_calls):
    integration()
    assert Client().get(URL).status_code == 405
    assert Client().post(URL + "/extra", b"{}", content_type="application/json").status_code == 404
    assert receive_calls == []
