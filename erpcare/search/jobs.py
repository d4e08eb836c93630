"""The search app's periodic job (registered in SearchConfig.ready)."""

from __future__ import annotations

from erpcare.search.services import refresh_vocabulary


def refresh() -> dict[str, int]:
    return {"terms": refresh_vocabulary()}
