"""The change calendar's data: changes and freeze periods overlapping a range of local
days (``ERPCARE_TIME_ZONE``), optionally for one customer or one ERP instance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.changes.models import Change, ChangeState, FreezePeriod
from erpcare.core.errors import ActionError, NotAllowed
from erpcare.customers.models import ErpInstance, Organization

MAX_DAYS = 366


@dataclass
class CalendarData:
    start: datetime
    end: datetime
    changes: list[Change]
    freezes: list[FreezePeriod]


def day_range(first: date, last: date) -> tuple[datetime, datetime]:
    """``[first 00:00, last + 1 day 00:00)`` in the service's time zone, as instants."""
    zone = timezone.get_default_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def calendar(
    user: User,
    first: date,
    last: date,
    *,
    organization: Organization | None = None,
    instance: ErpInstance | None = None,
) -> CalendarData:
    """Changes with a window overlapping the days (cancelled ones left out) and active
    freeze periods overlapping them that apply to the customer or instance (periods for
    every customer always apply)."""
    if not getattr(user, "is_authenticated", False) or user.is_customer:
        raise NotAllowed(_("Only support staff and auditors see the change calendar."))
    if not isinstance(first, date) or not isinstance(last, date):
        raise ActionError(_("The calendar range is two dates."))
    if last < first:
        raise ActionError(_("The calendar range ends before it starts."))
    if (last - first).days >= MAX_DAYS:
        raise ActionError(_("The calendar shows at most %(days)d days.") % {"days": MAX_DAYS})
    start, end = day_range(first, last)
    changes = (
        Change.objects.visible_to(user)
        .filter(planned_start__lt=end, planned_end__gt=start)
        .exclude(state=ChangeState.CANCELLED)
    )
    freezes = FreezePeriod.objects.filter(is_active=True, starts_at__lt=end, ends_at__gt=start)
    if instance is not None:
        changes = changes.filter(erp_instances=instance)
        freezes = freezes.filter(
            Q(organization__isnull=True)
            | Q(organization_id=instance.organization_id, erp_instances__isnull=True)
            | Q(erp_instances=instance)
        )
    elif organization is not None:
        changes = changes.filter(erp_instances__organization=organization)
        freezes = freezes.filter(Q(organization__isnull=True) | Q(organization=organization))
    return CalendarData(
        start=start,
        end=end,
        changes=list(
            changes.distinct()
            .select_related("owner")
            .prefetch_related("erp_instances__organization")
            .order_by("planned_start", "id")
        ),
        freezes=list(freezes.distinct().select_related("organization").order_by("starts_at", "id")),
    )
