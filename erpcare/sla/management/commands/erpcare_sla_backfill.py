"""``erpcare erpcare_sla_backfill``: start the SLA clocks of tickets that have none."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from erpcare.sla.services.backfill import backfill_clocks, tickets_without_clocks
from erpcare.sla.services.evaluator import evaluate_due


class Command(BaseCommand):
    help = (
        "Start the SLA clocks of tickets without one (e.g. created before the SLA app), "
        "replaying their status history, then run one SLA pass."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        missing = tickets_without_clocks()
        if not missing:
            self.stdout.write("Every ticket has its SLA clocks.")
            return
        started = backfill_clocks()
        result = evaluate_due()
        self.stdout.write(
            f"Clocks started for {started} of {missing} tickets "
            f"({missing - started} have no applicable policy); "
            f"SLA pass: {result.breaches} breaches, {result.warnings} warnings recorded."
        )
