"""Who may configure monitoring: integrations, routing and correlation rules, maintenance
windows, and who may look at the open alerts list."""

from __future__ import annotations

from django.utils.translation import gettext as _

from erpcare.accounts.models import RoleCode, User
from erpcare.core.errors import NotAllowed


def can_manage_monitoring(user: User) -> bool:
    """Support managers and administrators configure alert intake and routing."""
    return bool(user.is_active and user.role_code in {RoleCode.MANAGER, RoleCode.ADMIN})


def require_monitoring_admin(user: User) -> None:
    if not can_manage_monitoring(user):
        raise NotAllowed(
            _("Only support managers and administrators can change monitoring settings.")
        )
