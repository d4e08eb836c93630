from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from erpcare.core.errors import ActionError
from erpcare.core.pagination import MAX_PAGE, page_of
from erpcare.core.schemas import ERRORS
from erpcare.customers.services import (
    get_erp_instance_for,
    get_organization_for,
    visible_erp_instances,
    visible_organizations,
)

router = Router(tags=["customers"])


class OrganizationOut(Schema):
    code: str
    name: str
    tier: str
    time_zone: str
    is_active: bool


class ErpInstanceOut(Schema):
    id: int
    name: str
    customer: str
    product: str
    version: str
    environment: str
    modules: list[str]
    is_active: bool

    @staticmethod
    def resolve_customer(obj: object) -> str:
        return obj.organization.code  # type: ignore[attr-defined]


class OrganizationPageOut(Schema):
    items: list[OrganizationOut]
    page: int
    page_size: int
    has_next: bool


class ErpInstancePageOut(Schema):
    items: list[ErpInstanceOut]
    page: int
    page_size: int
    has_next: bool


@router.get("/customers", response={200: OrganizationPageOut, **ERRORS})
def list_customers(
    request: HttpRequest,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(100, ge=1, le=500),
) -> object:
    """Customers the caller may see (a customer user sees only their own), by name."""
    customers = visible_organizations(request.user).order_by("name", "id")  # type: ignore[arg-type]
    return page_of(customers, page, page_size)


@router.get("/customers/{code}", response={200: OrganizationOut, **ERRORS})
def get_customer(request: HttpRequest, code: str) -> object:
    return get_organization_for(request.user, code)  # type: ignore[arg-type]


@router.get("/erp-instances", response={200: ErpInstancePageOut, **ERRORS})
def list_erp_instances(
    request: HttpRequest,
    customer: str | None = None,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(100, ge=1, le=500),
) -> object:
    queryset = visible_erp_instances(request.user).select_related("organization")  # type: ignore[arg-type]
    if customer:
        if "\x00" in customer:
            raise ActionError(_("Filters cannot contain NUL characters."))
        queryset = queryset.filter(organization__code=customer)
    return page_of(queryset.order_by("organization__name", "name", "id"), page, page_size)


@router.get("/erp-instances/{instance_id}", response={200: ErpInstanceOut, **ERRORS})
def get_erp_instance(request: HttpRequest, instance_id: int) -> object:
    return get_erp_instance_for(request.user, instance_id)  # type: ignore[arg-type]
