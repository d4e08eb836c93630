from django import template

from erpcare.accounts.models import User
from erpcare.reports import permissions

register = template.Library()


@register.filter
def can_see_service_dashboard(user: User) -> bool:
    return permissions.can_see_service_dashboard(user)


@register.filter
def can_see_agent_dashboard(user: User) -> bool:
    return permissions.can_see_agent_dashboard(user)


@register.filter
def can_see_operations_dashboard(user: User) -> bool:
    return permissions.can_see_operations_dashboard(user)


@register.filter
def can_see_customer_dashboard(user: User) -> bool:
    return permissions.can_see_customer_dashboard(user)
