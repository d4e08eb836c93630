"""The changes app's periodic jobs (registered in ChangesConfig.ready)."""

from __future__ import annotations


def announce() -> dict[str, int]:
    """Tell the affected customers of change windows starting within a day."""
    from erpcare.changes.services.notify import announce_due

    return announce_due()
