"""Which checks run on which ERP instance: a pack applied to a data source."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.audit.services import record
from erpcare.core.errors import ActionError
from erpcare.inspections.models import CheckPack, DataSource, InstanceCheck
from erpcare.inspections.permissions import require_configure


def applicable_checks(pack: CheckPack, source: DataSource) -> list:
    """The pack's active checks that run on this kind of source and this ERP product."""
    product = source.erp_instance.product
    return [
        check
        for check in pack.checks.filter(is_active=True, source_kind=source.kind).order_by("code")
        if not check.erp_products or product in check.erp_products
    ]


@transaction.atomic
def apply_pack(actor: User, pack: CheckPack, source: DataSource) -> int:
    """Assign every applicable check of ``pack`` to ``source``'s instance (again: no
    duplicates, re-activates those switched off). Returns how many are now assigned."""
    require_configure(actor)
    checks = applicable_checks(pack, source)
    if not checks:
        raise ActionError(
            _("No check of “%(pack)s” runs on a %(kind)s source of a %(product)s instance.")
            % {
                "pack": pack.name,
                "kind": source.get_kind_display(),
                "product": source.erp_instance.get_product_display(),
            }
        )
    for check in checks:
        InstanceCheck.objects.update_or_create(
            erp_instance=source.erp_instance,
            check_ref=check,
            data_source=source,
            defaults={"is_active": True},
        )
    record(
        actor=actor,
        action="inspections.pack_applied",
        target=source,
        data={"pack": pack.code, "checks": len(checks)},
    )
    return len(checks)
