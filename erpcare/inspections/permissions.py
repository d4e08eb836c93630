"""Who may do what with inspections.

Managers and administrators configure them (data sources hold database credentials);
L2/L3 engineers, managers and administrators run checks now and read results for the ERP
instances they can see (``customers.services.visible_erp_instances``); auditors read."""

from __future__ import annotations

from django.utils.translation import gettext as _

from erpcare.accounts.models import RoleCode, User
from erpcare.core.errors import NotAllowed

CONFIGURE = frozenset({RoleCode.MANAGER, RoleCode.ADMIN})
RUN = frozenset({RoleCode.L2_ENGINEER, RoleCode.L3_EXPERT, RoleCode.MANAGER, RoleCode.ADMIN})
READ = RUN | {RoleCode.AUDITOR}


def can_configure_inspections(user: User) -> bool:
    return bool(user.is_active and user.role_code in CONFIGURE)


def can_run_inspections(user: User) -> bool:
    return bool(user.is_active and user.role_code in RUN)


def can_read_inspections(user: User) -> bool:
    return bool(user.is_active and user.role_code in READ)


def require_configure(user: User) -> None:
    if not can_configure_inspections(user):
        raise NotAllowed(
            _("Only support managers and administrators can change inspection settings.")
        )


def require_run(user: User) -> None:
    if not can_run_inspections(user):
        raise NotAllowed(_("Only L2/L3 engineers and managers can run inspections."))
