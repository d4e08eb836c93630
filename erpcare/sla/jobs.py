"""The SLA app's periodic job (registered in SlaConfig.ready)."""

from __future__ import annotations

from erpcare.sla.services.evaluator import evaluate_due


def evaluate() -> dict[str, int]:
    return evaluate_due().as_dict()
