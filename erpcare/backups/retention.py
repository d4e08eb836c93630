"""Grandfather-father-son retention, as a pure function of the backup points and a policy.

Rules, each applied independently to the **successful** points (a point may satisfy several,
and then carries several reasons):

- daily: the newest point of each of the ``keep_daily`` most recent days that have one;
- weekly: the newest point of each of the ``keep_weekly`` most recent ISO weeks (Monday to
  Sunday) that have one;
- monthly: the newest point of each of the ``keep_monthly`` most recent calendar months that
  have one;
- the newest successful point is always kept — which also means the only successful point is
  never deleted.

Days, weeks and months are those of the given time zone, so a point taken at 23:30 local time
belongs to that local day whatever its UTC date, and DST changes need no special case.

Failed points never count for a day, week or month, so a failure cannot push a successful
point out of the policy. A failed point older than the newest successful point is deleted: the
success supersedes it. Of the failed points newer than the newest successful point (or of all
of them, when nothing succeeded yet), the newest is kept — it is the evidence of the ongoing
failure — and the others are deleted. At most ``keep_daily + keep_weekly + keep_monthly + 1``
points are therefore kept.

Ties (equal ``taken_at``) are broken by id, so the result does not depend on input order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext as _

from erpcare.core.errors import ActionError


class RetentionError(ActionError):
    """The policy or the points cannot be used for retention."""


@dataclass(frozen=True)
class Point:
    """A backup taken at ``taken_at`` (timezone-aware); ``ok`` is False if it failed."""

    id: int | str
    taken_at: datetime
    ok: bool


@dataclass(frozen=True)
class RetentionPolicy:
    """How many daily, weekly and monthly points to keep; validated on creation."""

    keep_daily: int
    keep_weekly: int
    keep_monthly: int

    def __post_init__(self) -> None:
        for field in ("keep_daily", "keep_weekly", "keep_monthly"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int):
                raise RetentionError(
                    _("%(field)s must be a whole number, not %(value)r.")
                    % {"field": field, "value": value}
                )
            if value < 0:
                raise RetentionError(
                    _("%(field)s cannot be negative (%(value)s).")
                    % {"field": field, "value": value}
                )
        if self.keep_daily == self.keep_weekly == self.keep_monthly == 0:
            raise RetentionError(
                _(
                    "A retention policy must keep at least one daily, weekly or monthly "
                    "backup; with all three at 0 it would delete every backup."
                )
            )


class ReasonKind(StrEnum):
    NEWEST_SUCCESSFUL = "newest_successful"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    BEYOND_POLICY = "beyond_policy"
    FAILED_LATEST = "failed_latest"
    FAILED_SUPERSEDED = "failed_superseded"
    FAILED_OLDER = "failed_older"


@dataclass(frozen=True)
class Reason:
    """Why a point is kept or deleted; ``period`` is the day, ISO week or month concerned.

    ``str()`` gives a stable English sentence for logs; a UI translates from ``kind`` and
    ``period`` instead.
    """

    kind: ReasonKind
    period: str = ""

    def __str__(self) -> str:
        match self.kind:
            case ReasonKind.NEWEST_SUCCESSFUL:
                return "newest successful point"
            case ReasonKind.DAILY:
                return f"newest of day {self.period}"
            case ReasonKind.WEEKLY:
                return f"newest of ISO week {self.period}"
            case ReasonKind.MONTHLY:
                return f"newest of {self.period}"
            case ReasonKind.BEYOND_POLICY:
                return "beyond the policy"
            case ReasonKind.FAILED_LATEST:
                return "failed, newest attempt: kept until a backup succeeds"
            case ReasonKind.FAILED_SUPERSEDED:
                return "failed, superseded by a newer successful point"
            case ReasonKind.FAILED_OLDER:
                return "failed, not the newest attempt"
        raise AssertionError(self.kind)  # pragma: no cover


@dataclass(frozen=True)
class Decision:
    """The fate of one point, with every reason that applies (kept points may have several)."""

    point: Point
    keep: bool
    reasons: tuple[Reason, ...]

    @property
    def reason(self) -> str:
        return "; ".join(str(reason) for reason in self.reasons)


@dataclass(frozen=True)
class RetentionPlan:
    """The decisions, newest point first."""

    decisions: tuple[Decision, ...]

    @property
    def keep(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.keep)

    @property
    def delete(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if not d.keep)

    @property
    def keep_ids(self) -> set[int | str]:
        return {d.point.id for d in self.decisions if d.keep}

    @property
    def delete_ids(self) -> set[int | str]:
        return {d.point.id for d in self.decisions if not d.keep}

    def for_id(self, point_id: int | str) -> Decision:
        for decision in self.decisions:
            if decision.point.id == point_id:
                return decision
        raise KeyError(point_id)


def _zone(tz: tzinfo | str) -> tzinfo:
    if isinstance(tz, str):
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise RetentionError(_("Unknown time zone: %(tz)s") % {"tz": tz}) from None
    return tz


def _day(local: date) -> str:
    return local.isoformat()


def _week(local: date) -> str:
    year, week, _weekday = local.isocalendar()
    return f"{year}-W{week:02d}"


def _month(local: date) -> str:
    return f"{local.year}-{local.month:02d}"


def _newest_first_key(point: Point) -> tuple[datetime, str, int | str]:
    # The type name keeps int ids compared with ints and str ids with strs.
    return (point.taken_at, type(point.id).__name__, point.id)


def plan_retention(
    points: Iterable[Point], policy: RetentionPolicy, tz: tzinfo | str
) -> RetentionPlan:
    """Decide which points to keep and which to delete under ``policy`` in time zone ``tz``.

    Raises RetentionError for a naive ``taken_at``, a duplicate id or an unknown time zone.
    """
    zone = _zone(tz)
    points = list(points)
    seen: set[tuple[str, int | str]] = set()
    for point in points:
        if point.taken_at.tzinfo is None or point.taken_at.utcoffset() is None:
            raise RetentionError(
                _("Backup point %(id)s has a time without a time zone.") % {"id": point.id}
            )
        identity = (type(point.id).__name__, point.id)
        if identity in seen:
            raise RetentionError(_("Backup point %(id)s is listed twice.") % {"id": point.id})
        seen.add(identity)
    ordered = sorted(points, key=_newest_first_key, reverse=True)

    reasons: dict[int, list[Reason]] = {index: [] for index in range(len(ordered))}
    successful = [index for index, point in enumerate(ordered) if point.ok]
    rules = (
        (ReasonKind.DAILY, policy.keep_daily, _day),
        (ReasonKind.WEEKLY, policy.keep_weekly, _week),
        (ReasonKind.MONTHLY, policy.keep_monthly, _month),
    )
    for kind, count, period_of in rules:
        periods: set[str] = set()
        for index in successful:
            if len(periods) >= count:
                break
            period = period_of(ordered[index].taken_at.astimezone(zone).date())
            if period not in periods:
                periods.add(period)
                reasons[index].append(Reason(kind, period))

    newest_ok = successful[0] if successful else None
    if newest_ok is not None:
        reasons[newest_ok].insert(0, Reason(ReasonKind.NEWEST_SUCCESSFUL))
    failed_kept = False
    decisions = []
    for index, point in enumerate(ordered):
        if point.ok:
            keep = bool(reasons[index])
            if not keep:
                reasons[index].append(Reason(ReasonKind.BEYOND_POLICY))
        elif newest_ok is not None and index > newest_ok:
            keep = False
            reasons[index].append(Reason(ReasonKind.FAILED_SUPERSEDED))
        elif not failed_kept:
            keep = failed_kept = True
            reasons[index].append(Reason(ReasonKind.FAILED_LATEST))
        else:
            keep = False
            reasons[index].append(Reason(ReasonKind.FAILED_OLDER))
        decisions.append(Decision(point=point, keep=keep, reasons=tuple(reasons[index])))
    return RetentionPlan(decisions=tuple(decisions))
