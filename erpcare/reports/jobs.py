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
