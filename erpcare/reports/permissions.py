"""Who sees which dashboard: the service dashboard (every customer's figures) is for
managers, administrators and auditors; each agent has their own; operations is for staff
who read inspections; customers see their own organization's in the portal."""

from __future__ import annotations

from erpcare.accounts.models import User


def can_see_service_dashboard(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.sees_all_tickets)


def can_see_agent_dashboard(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_support_staff)


def can_see_operations_dashboard(user: User) -> bool:
    from erpcare.inspections.permissions import can_read_inspections

    return bool(user.is_authenticated and user.is_active and can_read_inspections(user))


def can_see_customer_dashboard(user: User) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_customer
        and user.organization_id is not None
    )
