"""The reports app's periodic jobs (registered in ReportsConfig.ready)."""

from __future__ import annotations


def roll_up() -> dict[str, int]:
    """Recompute today's and yesterday's rollups, and record the working time of SLA clocks
    stopped before that was recorded (a few thousand at a time)."""
    from erpcare.reports.rollups import roll_up_recent
    from erpcare.sla.services.backfill import fill_elapsed

    result = roll_up_recent()
    result["clocks_filled"] = fill_elapsed()
    return result


def draft_monthly_reports() -> dict[str, int]:
    """Draft last month's service report for every customer under contract, once (hourly,
    so the 1st is caught in every customer's time zone)."""
    from erpcare.reports.monthly_service import draft_due_reports

    return draft_due_reports()
