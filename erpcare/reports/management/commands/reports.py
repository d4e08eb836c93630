"""``erpcare reports …``: the KPIs and rollups from the command line.

- ``reports kpis [--month YYYY-MM] [--customer CODE]``: every KPI of the month (default:
  the last whole month) for all customers or one, as a table;
- ``reports rollup --since YYYY-MM-DD [--until YYYY-MM-DD]``: recompute the daily rollups of
  those days (after an upgrade, or when tickets were imported).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from erpcare.core import clock
from erpcare.core.errors import ActionError
from erpcare.customers.models import Organization
from erpcare.reports import kpis
from erpcare.reports.periods import Period
from erpcare.reports.rollups import local_today, roll_up_range


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = value.total_seconds() / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def _ratio(value: Any) -> str:
    if isinstance(value, kpis.NotAvailable):
        return _("not available: %(reason)s") % {"reason": value.reason}
    if isinstance(value, kpis.Ratio):
        percent = value.percent
        shown = "—" if percent is None else f"{percent:.1f} %"
        return f"{shown} ({value.numerator}/{value.denominator})"
    return str(value)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(_("Give dates as YYYY-MM-DD (got %(text)s).") % {"text": text}) from exc


class Command(BaseCommand):
    help = "KPIs of a month, and recomputing the daily rollups."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("kpis", help="every KPI of a month")
        show.add_argument("--month", help="YYYY-MM (default: last month)")
        show.add_argument("--customer", help="an organization code (default: all)")
        roll = sub.add_parser("rollup", help="recompute daily rollups")
        roll.add_argument("--since", required=True, help="first day, YYYY-MM-DD")
        roll.add_argument("--until", help="last day, YYYY-MM-DD (default: today)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "rollup":
                self._rollup(options)
            else:
                self._kpis(options)
        except ActionError as exc:
            raise CommandError(exc.message) from exc

    def _rollup(self, options: dict[str, Any]) -> None:
        first = _date(options["since"])
        last = _date(options["until"]) if options.get("until") else local_today()
        if last < first:
            raise CommandError(_("--until is before --since."))
        if (last - first).days > 3660:
            raise CommandError(_("Roll up at most ten years at a time."))
        rows = roll_up_range(first, last)
        days = (last - first).days + 1
        message = _("%(days)d days rolled up, %(rows)d rows.") % {"days": days, "rows": rows}
        self.stdout.write(message)

    def _kpis(self, options: dict[str, Any]) -> None:
        organization = None
        if options.get("customer"):
            organization = Organization.objects.filter(code=options["customer"]).first()
            if organization is None:
                raise CommandError(
                    _("No customer with the code %(code)s.") % {"code": options["customer"]}
                )
        zone = organization.time_zone if organization else None
        if options.get("month"):
            period = Period.parse_month(options["month"], zone)
        else:
            period = Period.parse_month(local_today().strftime("%Y-%m"), zone).previous()
        scope = kpis.Scope(
            period=period,
            organization_ids=frozenset({organization.pk}) if organization else None,
            now=clock.now(),
        )
        first = kpis.first_response(scope)
        resolved = kpis.resolution(scope)
        mttr = kpis.mttr(scope)
        backlog = kpis.backlog(scope)
        rows = [
            (_("Tickets created"), str(sum(kpis.volume(scope, "type").values()))),
            (_("First response, median (business hours)"), _duration(first.business.median)),
            (_("First response, median (wall-clock)"), _duration(first.wall_clock.median)),
            (_("Resolution, median (business hours)"), _duration(resolved.business.median)),
            (_("Resolution, p90 (wall-clock)"), _duration(resolved.wall_clock.p90)),
            (_("MTTR (incidents)"), _duration(mttr.wall_clock.mean)),
            (_("SLA first response met"), _ratio(kpis.sla_compliance(scope, "response").overall)),
            (_("SLA resolution met"), _ratio(kpis.sla_compliance(scope, "resolution").overall)),
            (_("Backlog at the end"), str(backlog.count)),
            (_("Reopen rate"), _ratio(kpis.reopen_rate(scope))),
            (_("First-contact resolution"), _ratio(kpis.first_contact_resolution(scope))),
            (_("Resolved at L1"), _ratio(kpis.l1_resolution_share(scope))),
            (_("Escalation rate"), _ratio(kpis.escalation_rate(scope))),
            (_("Knowledge-base deflection"), _ratio(kpis.kb_deflection(scope))),
            (_("Change success rate"), _ratio(kpis.change_success_rate(scope))),
        ]
        title = organization.name if organization else _("All customers")
        self.stdout.write(f"{title} — {period.first:%Y-%m} ({period.time_zone})")
        width = max(len(label) for label, _value in rows)
        for label, value in rows:
            self.stdout.write(f"  {label.ljust(width)}  {value}")
        for item in kpis.availability(scope):
            if item.incidents or organization:
                shown = "—" if item.percent is None else f"{item.percent:.3f} %"
                self.stdout.write(f"  {_('Availability')} {item.name}: {shown}")
