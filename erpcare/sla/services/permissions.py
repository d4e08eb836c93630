from __future__ import annotations

from django.utils.translation import gettext as _

from erpcare.accounts.models import RoleCode, User
from erpcare.core.errors import NotAllowed


def can_manage_sla(user: User) -> bool:
    """Support managers and admins set SLA policies and calendars."""
    return bool(user.is_active and user.role_code in {RoleCode.MANAGER, RoleCode.ADMIN})


def require_sla_admin(user: User) -> None:
    if not can_manage_sla(user):
        raise NotAllowed(_("Only support managers and administrators can change SLA settings."))
