import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_customer_creates_ticket_and_agent_sees_it(cast):
    client = Client()
    token = cast.token(cast.alice)
    response = client.post(
        "/api/v1/tickets",
        {"title": "凭证无法保存", "description": "点击保存报错", "urgency": 1, "impact": 2},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("INC-")
    assert body["priority"] == "P1"
    lina = cast.token(cast.lina)
    listing = client.get("/api/v1/tickets?status=open", headers={"Authorization": f"Bearer {lina}"})
    assert listing.status_code == 200
    assert [t["number"] for t in listing.json()["items"]] == [body["number"]]
