"""Turn the references people and clients send (codes, e-mail addresses, ids) into
objects, with a clear error for each one that does not resolve."""

from __future__ import annotations

from django.utils.translation import gettext as _

from erpcare.accounts.models import RoleCode, Team, User
from erpcare.core.errors import ActionError, NotFound
from erpcare.customers.models import ErpInstance, Organization
from erpcare.customers.services import get_organization_for


def customer_for(actor: User, code: str | None) -> Organization | None:
    if not code:
        return actor.organization if actor.is_customer else None
    return get_organization_for(actor, code)


def team_by_code(code: str | None) -> Team | None:
    if not code:
        return None
    team = Team.objects.filter(code=code).first()
    if team is None:
        raise ActionError(_("There is no team %(code)s.") % {"code": code})
    return team


def staff_by_email(email: str | None) -> User | None:
    if not email:
        return None
    user = User.objects.select_related("role").filter(email__iexact=email.strip()).first()
    if user is None or not user.is_support_staff:
        raise ActionError(_("%(email)s is not a support staff member.") % {"email": email})
    return user


def requester_by_email(organization: Organization, email: str | None) -> User | None:
    if not email:
        return None
    user = (
        User.objects.select_related("role")
        .filter(
            email__iexact=email.strip(), organization=organization, role__code=RoleCode.CUSTOMER
        )
        .first()
    )
    if user is None:
        raise ActionError(
            _("%(email)s is not a user of %(customer)s.")
            % {"email": email, "customer": organization.name}
        )
    return user


def erp_instance_for(organization: Organization, instance_id: int | None) -> ErpInstance | None:
    if instance_id is None:
        return None
    instance = ErpInstance.objects.filter(pk=instance_id, organization=organization).first()
    if instance is None:
        raise NotFound(_("ERP instance not found."))
    return instance
