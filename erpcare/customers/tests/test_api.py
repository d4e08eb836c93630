"""GET /api/v1/customers and /api/v1/erp-instances."""

from __future__ import annotations

import pytest
from django.test import Client

from erpcare.customers.models import ErpInstance

pytestmark = pytest.mark.django_db


def client_for(cast, user):
    return Client(headers={"Authorization": f"Bearer {cast.token(user)}"})


def test_customer_list_shape_and_order(cast):
    body = client_for(cast, cast.mona).get("/api/v1/customers").json()["items"]
    assert body == [
        {"code": "acme", "name": "Acme 制造", "tier": "vip", "time_zone": "Asia/Shanghai",
         "is_active": True},
        {"code": "globex", "name": "Globex Retail", "tier": "standard",
         "time_zone": "Asia/Shanghai", "is_active": True},
    ]  # fmt: skip


def test_one_customer_by_code(cast):
    response = client_for(cast, cast.alice).get("/api/v1/customers/acme")
    assert response.status_code == 200
    assert response.json()["name"] == "Acme 制造"


@pytest.mark.parametrize(
    ("who", "code"), [("alice", "globex"), ("bob", "acme"), ("vera", "globex")]
)
def test_customer_out_of_scope_is_404(cast, who, code):
    response = client_for(cast, getattr(cast, who)).get(f"/api/v1/customers/{code}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Customer not found."}


@pytest.mark.parametrize("code", ["nobody", "ACME", "ac%00me"])
def test_unknown_customer_is_404(cast, code):
    response = client_for(cast, cast.mona).get(f"/api/v1/customers/{code}")
    assert response.status_code == 404
    assert response.json()["detail"] == "Customer not found."


def test_erp_instance_list_shape(cast):
    body = client_for(cast, cast.alice).get("/api/v1/erp-instances").json()["items"]
    assert body == [
        {
            "id": cast.acme_erp.pk,
            "name": "Acme SAP PRD",
            "customer": "acme",
            "product": "sap",
            "version": "S/4HANA 2023",
            "environment": "production",
            "modules": ["gl", "ap", "inventory", "production"],
            "is_active": True,
        }
    ]


def test_erp_instances_ordered_by_customer_then_name_and_filtered(cast):
    ErpInstance.objects.create(organization=cast.acme, name="Acme SAP QAS", product="sap",
                               environment="test")  # fmt: skip
    client = client_for(cast, cast.lina)
    names = [i["name"] for i in client.get("/api/v1/erp-instances").json()["items"]]
    assert names == ["Acme SAP PRD", "Acme SAP QAS", "Globex Odoo"]
    globex = client.get("/api/v1/erp-instances?customer=globex").json()["items"]
    assert [i["name"] for i in globex] == ["Globex Odoo"]
    assert client.get("/api/v1/erp-instances?customer=nobody").json()["items"] == []


def test_erp_instance_filter_with_nul_is_400(cast):
    response = client_for(cast, cast.lina).get("/api/v1/erp-instances?customer=a%00")
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_one_erp_instance(cast):
    response = client_for(cast, cast.bob).get(f"/api/v1/erp-instances/{cast.globex_erp.pk}")
    assert response.status_code == 200
    assert response.json()["customer"] == "globex"


@pytest.mark.parametrize("ref", ["999999", "99999999999999999999999"])
def test_unknown_erp_instance_is_404(cast, ref):
    response = client_for(cast, cast.mona).get(f"/api/v1/erp-instances/{ref}")
    assert response.status_code == 404
    assert response.json() == {"detail": "ERP instance not found."}


def test_erp_instance_id_must_be_a_number(cast):
    response = client_for(cast, cast.mona).get("/api/v1/erp-instances/prd")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.instance_id"


def test_erp_instance_out_of_scope_is_404(cast):
    response = client_for(cast, cast.alice).get(f"/api/v1/erp-instances/{cast.globex_erp.pk}")
    assert response.status_code == 404


def test_customer_lists_are_paged(cast):
    client = client_for(cast, cast.mona)
    first = client.get("/api/v1/customers?page_size=1").json()
    second = client.get("/api/v1/customers?page_size=1&page=2").json()
    assert ([c["code"] for c in first["items"]], first["has_next"]) == (["acme"], True)
    assert ([c["code"] for c in second["items"]], second["has_next"]) == (["globex"], False)
    assert client.get("/api/v1/customers?page_size=501").status_code == 422
    instances = client.get("/api/v1/erp-instances?page_size=1&page=2").json()
    assert (len(instances["items"]), instances["has_next"]) == (1, False)
