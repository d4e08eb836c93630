"""``POST /api/v1/alerts/<source>/<key>``: the integration's secret, raw storage, fast 202."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from jsonschema import Draft202012Validator, FormatChecker

from erpcare.core import clock
from erpcare.monitoring import ingest
from erpcare.monitoring.models import AlertPayload, AuthMode, Integration, PayloadState

pytestmark = pytest.mark.django_db

PATH = "/api/v1/alerts/{source}/{integration_key}"
SECRET = "am-secret-7c1e"
KEY = "k-prod-alertmanager"

FIRING = {
    "version": "4",
    "status": "firing",
    "receiver": "erpcare",
    "groupKey": '{}:{alertname="GLPostingSlow"}',
    "alerts": [
        {
            "status": "firing",
            "fingerprint": "c3a1f2e4b5d60718",
            "labels": {"alertname": "GLPostingSlow", "instance": "Acme SAP PRD"},
            "annotations": {"summary": "总账过账超过 30 秒", "description": "凭证积压 1,204 张"},
            "startsAt": "2026-11-20T08:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
        }
    ],
}


@pytest.fixture(autouse=True)
def _fresh_cache():
    ingest.clear_cache()
    yield
    ingest.clear_cache()


def integration(**fields: Any) -> Integration:
    values: dict[str, Any] = {
        "name": "Prometheus PRD",
        "source": "alertmanager",
        "key": KEY,
        "secret": SECRET,
        "auth_mode": AuthMode.BEARER,
        "created_at": clock.now(),
    }
    values.update(fields)
    return Integration.objects.create(**values)


@pytest.fixture
def bearer() -> Integration:
    return integration()


@pytest.fixture
def signed() -> Integration:
    return integration(name="Zabbix", source="zabbix", key="k-zabbix", auth_mode=AuthMode.HMAC)


SOURCES = Path(ingest.__file__).resolve().parent / "sources"


def fixture(kind: str, name: str) -> bytes:
    return (SOURCES / kind / "fixtures" / name).read_bytes()


def padded(size: int) -> bytes:
    """FIRING with a padded annotation, exactly ``size`` bytes long."""
    empty = raw({**FIRING, "commonAnnotations": {"pad": ""}})
    return raw({**FIRING, "commonAnnotations": {"pad": "x" * (size - len(empty))}})


def raw(body: Any) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()


def post(
    body: Any = FIRING,
    *,
    source: str = "alertmanager",
    key: str = KEY,
    token: str | None = SECRET,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
):
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    url = PATH.format(source=source, integration_key=key)
    return Client(headers=sent).post(url, raw(body), content_type=content_type)


def sign(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-ERPCare-Signature": f"sha256={digest}"}


@pytest.fixture
def spec(db) -> dict[str, Any]:
    return Client().get("/api/v1/openapi.json").json()


def documented(spec: dict[str, Any], response) -> Any:
    """The response body, validated against the document with every object closed."""
    operation = spec["paths"][PATH]["post"]
    content = operation["responses"][str(response.status_code)]["content"]
    components = copy.deepcopy(spec["components"])
    for schema in components.get("schemas", {}).values():
        if "properties" in schema:
            schema.setdefault("additionalProperties", False)
    root = {**content["application/json"]["schema"], "components": components}
    Draft202012Validator(root, format_checker=FormatChecker()).validate(response.json())
    return response.json()


# --- accepted -----------------------------------------------------------------------------


def test_a_bearer_request_is_stored_raw_and_answered_202(bearer, spec):
    response = post()
    assert response.status_code == 202, response.content
    body = documented(spec, response)
    payload = AlertPayload.objects.get()
    assert body == {"accepted": True, "payload": payload.pk}
    assert payload.integration == bearer
    assert payload.state == PayloadState.RECEIVED
    assert payload.attempts == 0
    assert payload.alerts_count == 0
    assert payload.content_type == "application/json"
    assert payload.sha256 == hashlib.sha256(raw(FIRING)).hexdigest()
    bearer.refresh_from_db()
    assert bearer.last_received_at == payload.received_at
    assert bearer.last_error == ""


def test_an_hmac_signed_request_is_accepted(signed, spec):
    body = fixture("zabbix", "problem.json")
    response = post(body, source="zabbix", key="k-zabbix", token=None, headers=sign(body))
    assert response.status_code == 202, response.content
    assert documented(spec, response)["accepted"] is True
    assert AlertPayload.objects.get().body.encode() == body


def test_the_body_is_stored_byte_exact_chinese_text_included(bearer):
    # Odd spacing, key order and non-ASCII as the sender wrote them: nothing re-encodes.
    body = (
        '{"version":"4",  "status":"firing", "alerts":[{"status":"firing", '
        '"labels":{"alertname":"GL","模块":"总账"},"fingerprint":"f",'
        '"startsAt":"2026-11-20T08:00:00Z"}],"x":1.50}\n'
    )
    response = post(body.encode("utf-8"))
    assert response.status_code == 202
    stored = AlertPayload.objects.get()
    assert stored.body.encode("utf-8") == body.encode("utf-8")
    assert stored.sha256 == hashlib.sha256(body.encode("utf-8")).hexdigest()


def test_a_replayed_duplicate_is_stored_twice(bearer):
    # Alertmanager HA: two replicas send the same notification; the pipeline dedupes.
    first, second = post(), post()
    assert first.status_code == second.status_code == 202
    assert first.json()["payload"] != second.json()["payload"]
    payloads = list(AlertPayload.objects.order_by("id"))
    assert len(payloads) == 2
    assert payloads[0].sha256 == payloads[1].sha256
    assert payloads[0].body == payloads[1].body


def test_a_body_of_exactly_1_mb_is_accepted(bearer, settings):
    settings.ERPCARE_MAX_REQUEST_BYTES = 2_000_000
    body = padded(ingest.MAX_BODY_BYTES)
    assert len(body) == ingest.MAX_BODY_BYTES
    assert post(body).status_code == 202


def test_a_payload_the_source_cannot_read_gets_400_with_the_parser_s_reason(bearer, spec):
    broken = {**FIRING, "alerts": [{**FIRING["alerts"][0], "status": 7}]}
    response = post(broken)
    assert response.status_code == 400
    assert "status" in documented(spec, response)["detail"]
    wrong_version = post({**FIRING, "version": "3"})
    assert wrong_version.status_code == 400
    assert not AlertPayload.objects.exists()


def test_a_cloudevents_batch_is_accepted_as_one_payload(db):
    integration(source="cloudevents", key="k-ce")
    response = post(fixture("cloudevents", "batch.json"), source="cloudevents", key="k-ce")
    assert response.status_code == 202, response.content
    assert AlertPayload.objects.count() == 1


# --- refused ------------------------------------------------------------------------------


def nothing_stored() -> bool:
    return not AlertPayload.objects.exists()


@pytest.mark.parametrize(
    ("token", "detail"),
    [("wrong-secret", "does not match"), (None, "Authorization: Bearer")],
)
def test_a_wrong_or_missing_bearer_secret_gets_401_and_is_noted(bearer, spec, token, detail):
    response = post(token=token)
    assert response.status_code == 401
    assert detail in documented(spec, response)["detail"]
    assert nothing_stored()
    bearer.refresh_from_db()
    assert detail in bearer.last_error
    assert bearer.last_error_at is not None
    assert bearer.last_received_at is None


def test_a_wrong_hmac_signature_gets_401(signed, spec):
    body = b'{"event_id": "4711"}'
    forged = sign(body, secret="not-the-secret")
    response = post(body, source="zabbix", key="k-zabbix", token=None, headers=forged)
    assert response.status_code == 401
    assert "signature does not match" in documented(spec, response)["detail"]
    # A signature of other bytes is refused too.
    other = sign(b'{"event_id": "4712"}')
    assert post(body, source="zabbix", key="k-zabbix", token=None, headers=other).status_code == 401
    # The secret as a bearer token does not authenticate an HMAC integration.
    response = post(body, source="zabbix", key="k-zabbix", token=SECRET)
    assert response.status_code == 401
    assert "X-ERPCare-Signature" in response.json()["detail"]
    assert nothing_stored()
    signed.refresh_from_db()
    assert signed.last_error_at is not None


def test_unknown_inactive_and_wrong_source_look_the_same(bearer, spec):
    integration(name="Old", key="k-retired", is_active=False)
    answers = [
        post(key="k-nobody"),
        post(key="k-retired"),
        post(source="grafana"),
        post(source="nagios"),
        post(key="k-nobody", token="anything"),
    ]
    assert {response.status_code for response in answers} == {404}
    assert len({response.content for response in answers}) == 1
    assert "no active alert integration" in documented(spec, answers[0])["detail"]
    assert nothing_stored()
    bearer.refresh_from_db()
    assert bearer.last_error == ""  # a wrong source is not a wrong secret


def test_1_mb_plus_one_byte_gets_413(bearer, spec, settings):
    # Even where the site-wide limit is higher, alerts keep their own 1 MB.
    settings.ERPCARE_MAX_REQUEST_BYTES = 5_000_000
    body = padded(ingest.MAX_BODY_BYTES + 1)
    assert len(body) == ingest.MAX_BODY_BYTES + 1
    response = post(body)
    assert response.status_code == 413
    assert f"{ingest.MAX_BODY_BYTES}" in documented(spec, response)["detail"]
    assert nothing_stored()


def test_an_oversized_body_is_refused_even_without_a_content_length(bearer):
    with pytest.raises(ingest.Refused) as refused:
        ingest.receive(KEY, "alertmanager", b"[" + b"1," * ingest.MAX_BODY_BYTES + b"1]", {})
    assert refused.value.status_code == 413
    assert nothing_stored()


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"{not json", "not valid JSON"),
        (b'{"alerts": [}', "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        ("\ufeff{}".encode(), "not valid JSON"),
    ],
)
def test_empty_or_not_json_gets_400_with_the_reason(bearer, spec, body, detail):
    response = post(body)
    assert response.status_code == 400
    assert detail in documented(spec, response)["detail"]
    assert nothing_stored()


def test_an_hmac_integration_refuses_a_body_that_is_not_json_after_checking_the_signature(
    signed,
):
    body = b"not json"
    unsigned = post(body, source="zabbix", key="k-zabbix", token=None)
    assert unsigned.status_code == 401  # nobody learns anything before authenticating
    ok_signature = post(body, source="zabbix", key="k-zabbix", token=None, headers=sign(body))
    assert ok_signature.status_code == 400


# --- the lookup cache and the write throttles -----------------------------------------------


def test_the_lookup_cache_keeps_an_integration_for_its_time_then_rereads_it(bearer, settings):
    settings.ERPCARE_ALERT_KEY_CACHE_SECONDS = 0.5
    assert post().status_code == 202
    # Changed behind the ORM's back (another process, a raw UPDATE): the cache holds.
    Integration.objects.filter(pk=bearer.pk).update(is_active=False)
    assert post().status_code == 202
    time.sleep(0.6)
    assert post().status_code == 404
    assert AlertPayload.objects.count() == 2


def test_a_rotated_secret_saved_in_this_process_takes_effect_at_once(bearer, settings):
    settings.ERPCARE_ALERT_KEY_CACHE_SECONDS = 60
    assert post().status_code == 202
    bearer.secret = "rotated-secret"
    bearer.save()
    assert post().status_code == 401
    assert post(token="rotated-secret").status_code == 202


def test_the_cache_can_be_cleared(bearer, settings):
    settings.ERPCARE_ALERT_KEY_CACHE_SECONDS = 60
    assert post().status_code == 202
    Integration.objects.filter(pk=bearer.pk).update(source="grafana")
    assert post().status_code == 202
    ingest.clear_cache()
    assert post().status_code == 404
    assert post(fixture("grafana", "firing.json"), source="grafana").status_code == 202


def test_an_integration_created_after_a_probe_of_its_key_works_at_once():
    assert post().status_code == 404
    integration()
    assert post().status_code == 202


def test_last_received_is_written_at_most_once_a_second(bearer):
    assert post().status_code == 202
    bearer.refresh_from_db()
    first = bearer.last_received_at
    assert first is not None
    Integration.objects.filter(pk=bearer.pk).update(last_received_at=None)
    assert post().status_code == 202
    bearer.refresh_from_db()
    assert bearer.last_received_at is None  # within the second: not written again
    time.sleep(1.05)
    assert post().status_code == 202
    bearer.refresh_from_db()
    assert bearer.last_received_at is not None
    assert bearer.last_received_at > first


# --- lag and the document -----------------------------------------------------------------


def test_pipeline_lag_is_the_age_of_the_oldest_waiting_payload(bearer):
    assert ingest.pipeline_lag_seconds() == 0.0
    now = clock.now()
    old = AlertPayload.objects.create(
        integration=bearer, received_at=now.replace(microsecond=0) - _seconds(90),
        body="{}", sha256="0" * 64,
    )  # fmt: skip
    AlertPayload.objects.create(
        integration=bearer, received_at=now - _seconds(10), body="{}", sha256="0" * 64,
        state=PayloadState.PROCESSING,
    )  # fmt: skip
    assert 90 <= ingest.pipeline_lag_seconds() < 100
    AlertPayload.objects.filter(pk=old.pk).update(state=PayloadState.PROCESSED)
    assert 10 <= ingest.pipeline_lag_seconds() < 20
    AlertPayload.objects.update(state=PayloadState.FAILED)
    assert ingest.pipeline_lag_seconds() == 0.0


def _seconds(n: int):
    from datetime import timedelta

    return timedelta(seconds=n)


def test_the_operation_is_documented_without_user_auth(spec):
    operation = spec["paths"][PATH]["post"]
    assert operation.get("security") in (None, [], [{}])
    assert {"202", "400", "401", "404", "413", "422"} <= set(operation["responses"])
    assert "X-ERPCare-Signature" in operation["description"]
    assert "Authorization: Bearer" in operation["description"]
    assert operation["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AcceptedOut"
    }


def test_the_hand_written_insert_covers_every_column(bearer):
    # ``ingest._insert`` names its columns; a new AlertPayload field must be added there.
    names = {f.name for f in AlertPayload._meta.concrete_fields}
    assert names == {"id", "processed_at", *ingest._STORED, *ingest._DEFAULTED}
    response = post()
    stored = AlertPayload.objects.get(pk=response.json()["payload"])
    assert (stored.state, stored.error, stored.attempts, stored.alerts_count) == (
        PayloadState.RECEIVED,
        "",
        0,
        0,
    )
    assert stored.processed_at is None
    assert stored.integration_id == bearer.pk
    assert stored.content_type == "application/json"
