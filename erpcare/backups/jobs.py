"""The backups app's periodic jobs (registered in BackupsConfig.ready)."""

from __future__ import annotations

from erpcare.core import clock


def schedule_due() -> dict[str, int]:
    """Queue the backups and restore tests whose time has come."""
    from erpcare.backups.services.schedule import take_due
    from erpcare.backups.tasks import back_up, verify

    backups, verifies = take_due(clock.now())
    for plan_id in backups:
        back_up.enqueue(plan_id)
    for plan_id in verifies:
        verify.enqueue(plan_id)
    return {"backups": len(backups), "restore_tests": len(verifies)}


def watch() -> dict[str, int]:
    """Raise incidents for failed or stale backups and restore tests; resolve good ones."""
    from erpcare.backups.services.health import watch as watch_plans

    return watch_plans()
