"""Who may do what with backups.

Managers and administrators configure plans and restore for real (a plan holds a scratch
server login; a real restore writes a database); L2/L3 engineers, managers and
administrators start a backup or a restore test now and read results for the ERP instances
they can see (``customers.services.visible_erp_instances``); auditors read. Plans for
ERPCare's own database are for administrators only."""

from __future__ import annotations

from django.utils.translation import gettext as _

from erpcare.accounts.models import RoleCode, User
from erpcare.core.errors import NotAllowed

CONFIGURE = frozenset({RoleCode.MANAGER, RoleCode.ADMIN})
RUN = frozenset({RoleCode.L2_ENGINEER, RoleCode.L3_EXPERT, RoleCode.MANAGER, RoleCode.ADMIN})
READ = RUN | {RoleCode.AUDITOR}


def can_configure_backups(user: User) -> bool:
    return bool(user.is_active and user.role_code in CONFIGURE)


def can_run_backups(user: User) -> bool:
    return bool(user.is_active and user.role_code in RUN)


def can_read_backups(user: User) -> bool:
    return bool(user.is_active and user.role_code in READ)


def can_manage_own_database(user: User) -> bool:
    return bool(user.is_active and user.role_code == RoleCode.ADMIN)


def require_configure(user: User) -> None:
    if not can_configure_backups(user):
        raise NotAllowed(_("Only support managers and administrators can change backup plans."))


def require_run(user: User) -> None:
    if not can_run_backups(user):
        raise NotAllowed(_("Only L2/L3 engineers, managers and administrators can start backups."))
