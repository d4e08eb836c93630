"""``erpcare backup …``: backups by hand, in this process.

- ``backup run INSTANCE [--plan ID]`` or ``backup run --own``: back up now — every active
  plan of the ERP instance (by id or name), one plan, or ERPCare's own database; prints each
  point's status, size, checksum and duration (exit 1 when one failed);
- ``backup verify INSTANCE [--plan ID] [--point ID]`` or ``--own``: restore tests now — by
  default each plan's newest good point and one older one picked at random, as the worker
  does; prints every check, the measured RTO and RPO (exit 1 unless every test is usable);
- ``backup list [--instance INSTANCE]``: the plans, their health, the last good backup and
  the last restore test;
- ``backup prune [--plan ID] [--dry-run] [--show-kept]``: apply the retention of one plan
  or of every active plan; ``--dry-run`` only says what it would remove, and why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from erpcare.backups.models import (
    BackupKind,
    BackupPlan,
    BackupPoint,
    PointStatus,
    RestoreStatus,
    RestoreTest,
)
from erpcare.core.errors import ActionError
from erpcare.customers.models import ErpInstance


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def _hours(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 3600:.1f} h"


def _plan_label(plan: BackupPlan) -> str:
    target = plan.erp_instance.name if plan.erp_instance else _("ERPCare's own database")
    label = f"#{plan.pk} {plan.name} ({target}, {plan.kind})"
    return label if plan.is_active else label + " " + _("[inactive]")


class Command(BaseCommand):
    help = "Backups: run them now, restore-test them, list the plans' health, apply retention."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="Back up now.")
        verify = sub.add_parser("verify", help="Restore-test backup points now.")
        for command in (run, verify):
            command.add_argument(
                "instance", nargs="?", help="ERP instance, by id or name: its active plans."
            )
            command.add_argument("--plan", type=int, metavar="ID", help="Only this plan.")
            command.add_argument(
                "--own", action="store_true", help="The plans of ERPCare's own database."
            )
        verify.add_argument(
            "--point", type=int, metavar="ID", help="This point (default: as the worker picks)."
        )
        listed = sub.add_parser("list", help="The plans and their health.")
        listed.add_argument("--instance", help="Only this ERP instance (id or name).")
        pruned = sub.add_parser("prune", help="Apply the retention policy.")
        pruned.add_argument("--plan", type=int, metavar="ID", help="Only this plan.")
        pruned.add_argument(
            "--dry-run", action="store_true", help="Only say what would be removed, and why."
        )
        pruned.add_argument(
            "--show-kept", action="store_true", help="List the points kept too, with reasons."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "run":
                self._run(options)
            elif action == "verify":
                self._verify(options)
            elif action == "list":
                self._list(options.get("instance"))
            else:
                self._prune(options.get("plan"), options["dry_run"], options["show_kept"])
        except ActionError as error:
            raise CommandError(error.message) from None

    # -- choosing --------------------------------------------------------------------------

    def _instance(self, ref: str) -> ErpInstance:
        ref = ref.strip()
        instances = ErpInstance.objects.select_related("organization")
        if ref.isdigit():
            found = instances.filter(pk=int(ref)).first()
            if found is not None:
                return found
        matches = list(instances.filter(name=ref)[:2]) or list(
            instances.filter(name__iexact=ref)[:2]
        )
        if len(matches) > 1:
            raise CommandError(
                _("More than one ERP instance is named %(name)s; give its id.") % {"name": ref}
            )
        if not matches:
            raise CommandError(_("There is no ERP instance %(ref)s.") % {"ref": ref})
        return matches[0]

    def _plan(self, plan_id: int) -> BackupPlan:
        plan = (
            BackupPlan.objects.select_related("erp_instance__organization", "data_source")
            .filter(pk=plan_id)
            .first()
        )
        if plan is None:
            raise CommandError(_("There is no backup plan %(id)s.") % {"id": plan_id})
        return plan

    def _scope(self, options: dict[str, Any]) -> tuple[ErpInstance | None, bool]:
        instance = self._instance(options["instance"]) if options.get("instance") else None
        own = bool(options.get("own"))
        if instance is not None and own:
            raise CommandError(_("Name an ERP instance or --own, not both."))
        if instance is None and not own and not options.get("plan") and not options.get("point"):
            raise CommandError(_("Name an ERP instance (id or name), --plan ID or --own."))
        return instance, own

    def _check_plan_in_scope(
        self, plan: BackupPlan, instance: ErpInstance | None, own: bool
    ) -> None:
        if instance is not None and plan.erp_instance_id != instance.pk:
            raise CommandError(
                _("Backup plan %(plan)s is not a plan of ERP instance %(instance)s.")
                % {"plan": _plan_label(plan), "instance": f"#{instance.pk} {instance.name}"}
            )
        if own and plan.erp_instance_id is not None:
            raise CommandError(
                _("Backup plan %(plan)s is not a plan of ERPCare's own database.")
                % {"plan": _plan_label(plan)}
            )

    def _plans(self, options: dict[str, Any]) -> list[BackupPlan]:
        """The plan named by --plan (checked against the instance or --own), else the
        active plans of the instance or of ERPCare's own database."""
        instance, own = self._scope(options)
        if options.get("plan"):
            plan = self._plan(options["plan"])
            self._check_plan_in_scope(plan, instance, own)
            return [plan]
        plans = BackupPlan.objects.filter(is_active=True).select_related(
            "erp_instance__organization", "data_source"
        )
        if instance is not None:
            chosen = list(plans.filter(erp_instance=instance))
            if not chosen:
                raise CommandError(
                    _("ERP instance %(instance)s has no active backup plan.")
                    % {"instance": f"#{instance.pk} {instance.name}"}
                )
        else:
            chosen = list(plans.filter(erp_instance__isnull=True))
            if not chosen:
                raise CommandError(_("ERPCare's own database has no active backup plan."))
        return chosen

    # -- run -------------------------------------------------------------------------------

    def _run(self, options: dict[str, Any]) -> None:
        from erpcare.backups.services.backup import run_backup

        failed = 0
        for plan in self._plans(options):
            point = run_backup(plan)
            failed += point.status != PointStatus.OK
            self.stdout.write(self._point_line(plan, point))
        if failed:
            self.stderr.write(_("%(n)d backup(s) failed.") % {"n": failed})
            raise SystemExit(1)

    def _point_line(self, plan: BackupPlan, point: BackupPoint) -> str:
        duration = (
            (point.finished_at - point.started_at).total_seconds()
            if point.finished_at is not None
            else None
        )
        head = f"{_plan_label(plan)}: " + _("point %(id)s") % {"id": point.pk}
        if point.status != PointStatus.OK:
            return f"{head} {point.status} {_seconds(duration)}  {point.error}"
        parts = [
            head,
            point.status,
            _("%(size)s bytes") % {"size": f"{point.size:,}"},
            f"SHA-256 {point.sha256[:12]}…",
            _seconds(duration),
        ]
        if point.encrypted:
            parts.append(_("encrypted (key %(key)s)") % {"key": point.key_id})
        parts.append(point.artifact)
        return "  ".join(parts)

    # -- verify ----------------------------------------------------------------------------

    def _verify(self, options: dict[str, Any]) -> None:
        from erpcare.backups.services.verify import points_to_verify, verify_point

        if options.get("point"):
            chosen = [self._chosen_point(options)]
        else:
            chosen = []
            for plan in self._plans(options):
                if plan.kind == BackupKind.EXTERNAL:
                    self.stdout.write(
                        f"{_plan_label(plan)}: "
                        + _("external backups are watched, not restored by ERPCare.")
                    )
                    continue
                points = points_to_verify(plan)
                if not points:
                    self.stdout.write(
                        f"{_plan_label(plan)}: " + _("no successful backup point to restore.")
                    )
                chosen.extend(points)
            if not chosen:
                raise CommandError(_("Nothing to restore-test: no successful backup point."))
        unusable = 0
        for point in chosen:
            test = verify_point(point)
            unusable += test.status != RestoreStatus.OK
            self._print_test(point, test)
        if unusable:
            self.stderr.write(
                _("%(n)d of %(total)d restore test(s) did not pass.")
                % {"n": unusable, "total": len(chosen)}
            )
            raise SystemExit(1)

    def _chosen_point(self, options: dict[str, Any]) -> BackupPoint:
        instance, own = self._scope(options)
        point = (
            BackupPoint.objects.select_related(
                "plan__erp_instance__organization", "plan__data_source"
            )
            .filter(pk=options["point"])
            .first()
        )
        if point is None:
            raise CommandError(_("There is no backup point %(id)s.") % {"id": options["point"]})
        plan = point.plan
        if options.get("plan") and plan.pk != options["plan"]:
            self._plan(options["plan"])  # an unknown plan is told as such
            raise CommandError(
                _("Backup point %(point)s belongs to plan %(plan)s, not to plan #%(asked)s.")
                % {"point": point.pk, "plan": _plan_label(plan), "asked": options["plan"]}
            )
        self._check_plan_in_scope(plan, instance, own)
        if plan.kind == BackupKind.EXTERNAL:
            raise CommandError(
                _(
                    "Backup point %(point)s is an external backup: ERPCare watches it, it "
                    "cannot restore it."
                )
                % {"point": point.pk}
            )
        if point.status != PointStatus.OK:
            raise CommandError(
                _(
                    "Backup point %(point)s is %(status)s: only a successful point can be "
                    "restore-tested."
                )
                % {"point": point.pk, "status": point.get_status_display().lower()}
            )
        return point

    def _print_test(self, point: BackupPoint, test: RestoreTest) -> None:
        plan = point.plan
        self.stdout.write(
            f"{_plan_label(plan)}: "
            + _("point %(id)s of %(when)s") % {"id": point.pk, "when": _when(point.started_at)}
        )
        width = max([len(c["check"]) for c in test.checks] or [0])
        for check in test.checks:
            self.stdout.write(f"  {check['status']:8} {check['check']:{width}}  {check['detail']}")
        verdict = _("usable") if test.status == RestoreStatus.OK else test.status
        summary = [
            f"  {_('restore test')} {test.pk}: {verdict}",
            _("RTO %(rto)s (target %(target)d min)")
            % {"rto": _seconds(test.restore_seconds), "target": plan.rto_minutes},
            _("RPO %(rpo)s (target %(target)d h)")
            % {"rpo": _hours(test.rpo_seconds), "target": plan.rpo_hours},
        ]
        if test.scratch_name:
            summary.append(
                (
                    _("scratch %(name)s dropped")
                    if test.scratch_dropped
                    else _("scratch %(name)s LEFT")
                )
                % {"name": test.scratch_name}
            )
        self.stdout.write(" · ".join(summary))
        if test.status != RestoreStatus.OK and test.message:
            self.stdout.write(f"  {test.message}")

    # -- list ------------------------------------------------------------------------------

    def _list(self, instance_ref: str | None) -> None:
        from erpcare.backups.services.health import plan_health

        plans = BackupPlan.objects.select_related(
            "erp_instance__organization", "data_source"
        ).order_by("erp_instance__name", "name", "id")
        if instance_ref:
            instance = self._instance(instance_ref)
            plans = plans.filter(erp_instance=instance)
        if not plans.exists():
            self.stdout.write(_("No backup plans."))
            return
        for plan in plans:
            health = plan_health(plan)
            self.stdout.write(f"{health.rating:6} {_plan_label(plan)}")
            good = health.last_good_point
            last_good = (
                _("last good backup %(when)s (point %(id)s, %(size)s bytes)")
                % {"when": _when(good.started_at), "id": good.pk, "size": f"{good.size:,}"}
                if good is not None
                else _("no good backup")
            )
            self.stdout.write(f"       {_('backups')}: {health.backup.message} — {last_good}")
            last = health.last_test
            if last is not None:
                last_test = _("last restore test %(when)s: %(status)s, RTO %(rto)s") % {
                    "when": _when(last.started_at),
                    "status": last.status,
                    "rto": _seconds(last.restore_seconds),
                }
            else:
                last_test = _("no restore test")
            self.stdout.write(
                f"       {_('restore tests')}: {health.restore.message} — {last_test}"
            )

    # -- prune -----------------------------------------------------------------------------

    def _prune(self, plan_id: int | None, dry_run: bool, show_kept: bool) -> None:
        from erpcare.backups.services.backup import prune

        if plan_id:
            plan = self._plan(plan_id)
            if plan.kind == BackupKind.EXTERNAL:
                raise CommandError(
                    _("Backup plan %(plan)s is external: another tool keeps its files.")
                    % {"plan": _plan_label(plan)}
                )
            plans = [plan]
        else:
            plans = list(
                BackupPlan.objects.filter(is_active=True)
                .exclude(kind=BackupKind.EXTERNAL)
                .select_related("erp_instance__organization")
            )
            if not plans:
                raise CommandError(_("There is no active backup plan to prune."))
        for plan in plans:
            outcome = prune(plan, dry_run=dry_run)
            decisions = outcome.plan.decisions
            points = {p.pk: p for p in plan.points.filter(pk__in=[d.point.id for d in decisions])}
            verb = _("would remove") if dry_run else _("removed")
            self.stdout.write(
                f"{_plan_label(plan)}: "
                + _("%(verb)s %(n)d of %(total)d point(s)")
                % {"verb": verb, "n": len(outcome.plan.delete), "total": len(decisions)}
            )
            for decision in decisions:
                if decision.keep and not show_kept:
                    continue
                point = points[int(decision.point.id)]
                what = _("keep") if decision.keep else verb
                self.stdout.write(
                    f"  {what}: "
                    + _("point %(id)s") % {"id": point.pk}
                    + f" {_when(point.started_at)} {point.status} — {decision.reason}"
                )
