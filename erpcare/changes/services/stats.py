"""Figures for the KPI module and the monthly report: how the changes that ended in a
period ended (from the timeline, so a later review does not hide the outcome)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from erpcare.changes.models import ChangeEvent, ChangeState, ChangeType


@dataclass(frozen=True)
class Outcomes:
    completed: int
    rolled_back: int
    failed: int
    emergency: int  # of the above, emergency changes

    @property
    def total(self) -> int:
        return self.completed + self.rolled_back + self.failed

    @property
    def success_rate(self) -> float | None:
        """Completed ÷ ended; ``None`` when no change ended (never 0 for "no data")."""
        return self.completed / self.total if self.total else None


def outcomes(
    start: datetime, end: datetime, *, organization_ids: Iterable[int] | None = None
) -> Outcomes:
    """Changes whose work ended in ``[start, end)``: completed, rolled back or failed; with
    ``organization_ids``, only changes touching an ERP instance of those customers."""
    ended = ChangeEvent.objects.filter(
        at__gte=start,
        at__lt=end,
        to_state__in=[ChangeState.COMPLETED, ChangeState.ROLLED_BACK, ChangeState.FAILED],
    )
    if organization_ids is not None:
        ended = ended.filter(change__erp_instances__organization__in=list(organization_ids))
    rows = ended.values("change_id", "to_state", "change__type").distinct()
    counts: dict[str, int] = {}
    emergency = 0
    seen: set[int] = set()
    for row in rows:
        if row["change_id"] in seen:
            continue
        seen.add(row["change_id"])
        counts[row["to_state"]] = counts.get(row["to_state"], 0) + 1
        emergency += row["change__type"] == ChangeType.EMERGENCY
    return Outcomes(
        completed=counts.get(ChangeState.COMPLETED, 0),
        rolled_back=counts.get(ChangeState.ROLLED_BACK, 0),
        failed=counts.get(ChangeState.FAILED, 0),
        emergency=emergency,
    )
