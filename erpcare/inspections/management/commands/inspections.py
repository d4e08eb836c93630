"""``erpcare inspections …``: health inspections by hand.

- ``inspections packs install``: load (or update) the packs shipped with ERPCare;
- ``inspections packs import FILE.yaml`` / ``packs export CODE [--output FILE]``;
- ``inspections run --instance ID [--check CODE …]``: run an instance's assigned checks
  now, in this process, and print the rating and what failed (exit 1 when red);
- ``inspections schedule``: queue what is due now (what the leader does every minute).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from erpcare.inspections.models import InstanceCheck, Rating, ResultStatus, Trigger


class Command(BaseCommand):
    help = "Health inspections: install/import/export packs, run checks now, queue due checks."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        packs = sub.add_parser("packs", help="Check packs.")
        packs_sub = packs.add_subparsers(dest="packs_action", required=True)
        packs_sub.add_parser("install", help="Load or update the packs shipped with ERPCare.")
        imported = packs_sub.add_parser("import", help="Import a pack from a YAML file.")
        imported.add_argument("file", type=Path)
        exported = packs_sub.add_parser("export", help="Write a pack as YAML.")
        exported.add_argument("code")
        exported.add_argument(
            "--output", type=Path, help="File to write (default: standard output)"
        )
        run = sub.add_parser("run", help="Run an ERP instance's assigned checks now.")
        run.add_argument("--instance", type=int, required=True, metavar="ID")
        run.add_argument(
            "--check", action="append", metavar="CODE", help="Only this check (repeatable)."
        )
        sub.add_parser("schedule", help="Queue the checks that are due now.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "packs":
            self._packs(options)
        elif action == "run":
            self._run(options["instance"], options.get("check") or [])
        else:
            from erpcare.inspections.jobs import schedule_due

            done = schedule_due()
            self.stdout.write(" ".join(f"{k}={v}" for k, v in sorted(done.items())))

    def _packs(self, options: dict[str, Any]) -> None:
        from erpcare.inspections.models import CheckPack
        from erpcare.inspections.packs.loader import (
            MAX_PACK_BYTES,
            PackError,
            export_pack,
            import_pack,
            install_shipped_packs,
        )

        what = options["packs_action"]
        if what == "install":
            for pack in install_shipped_packs():
                self.stdout.write(f"{pack.code} {pack.version}: {pack.checks.count()} checks")
            return
        if what == "import":
            path: Path = options["file"]
            try:
                if path.stat().st_size > MAX_PACK_BYTES:
                    raise CommandError(f"{path} is larger than {MAX_PACK_BYTES:,} bytes.")
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise CommandError(f"cannot read {path}: {error}") from None
            try:
                imported = import_pack(text, origin=path.name)
            except PackError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(
                f"{imported.code} {imported.version}: {imported.checks.count()} checks"
            )
            return
        found = CheckPack.objects.filter(code=options["code"]).first()
        if found is None:
            raise CommandError(f"no pack {options['code']!r}")
        text = export_pack(found)
        if options.get("output"):
            options["output"].write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")

    def _run(self, instance_id: int, codes: list[str]) -> None:
        from erpcare.inspections.services.runs import run_checks

        assignments = InstanceCheck.objects.filter(
            erp_instance_id=instance_id,
            is_active=True,
            data_source__is_active=True,
            check_ref__is_active=True,
        ).select_related("check_ref__pack", "data_source", "erp_instance__organization")
        if codes:
            assignments = assignments.filter(check_ref__code__in=codes)
        chosen = list(assignments.order_by("check_ref__layer", "check_ref__code", "id"))
        if not chosen:
            raise CommandError(f"no active checks assigned to ERP instance {instance_id}")
        run = run_checks(chosen, trigger=Trigger.MANUAL)
        for result in run.results.select_related("instance_check__check_ref").order_by("id"):
            check = result.instance_check.check_ref
            line = f"{result.status:8} {check.code}"
            if result.status != ResultStatus.OK:
                line += f"  {result.message}"
            self.stdout.write(line)
        self.stdout.write(f"run {run.pk}: {run.rating} ({run.results.count()} checks)")
        if run.rating == Rating.RED:
            raise SystemExit(1)
