"""Scoping for customer data: which organizations and ERP instances a user may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from erpcare.accounts.models import Team, User
from erpcare.core.errors import NotFound
from erpcare.customers.models import ErpInstance, Organization


def visible_organizations(user: User) -> QuerySet[Organization]:
    if not user.is_authenticated or not user.is_active:
        return Organization.objects.none()
    if user.sees_all_tickets:
        return Organization.objects.all()
    if user.is_customer:
        if user.organization_id is None:
            return Organization.objects.none()
        return Organization.objects.filter(pk=user.organization_id)
    if user.is_agent:
        from erpcare.tickets.models.ticket import agent_team_scope

        team_ids, serves_all = agent_team_scope(user)
        if serves_all:
            return Organization.objects.all()
        served = Team.customers.through.objects.filter(team_id__in=team_ids).values(
            "organization_id"
        )
        return Organization.objects.filter(Q(pk__in=served))
    return Organization.objects.none()


def get_organization_for(user: User, code: str) -> Organization:
    if "\x00" in code:
        raise NotFound(_("Customer not found."))
    try:
        return visible_organizations(user).get(code=code)
    except Organization.DoesNotExist:
        raise NotFound(_("Customer not found.")) from None


def visible_erp_instances(user: User) -> QuerySet[ErpInstance]:
    return ErpInstance.objects.filter(organization__in=visible_organizations(user))


def get_erp_instance_for(user: User, instance_id: int) -> ErpInstance:
    try:
        return visible_erp_instances(user).select_related("organization").get(pk=instance_id)
    except ErpInstance.DoesNotExist:
        raise NotFound(_("ERP instance not found.")) from None
