"""The reports app's tables: daily rollups (``rollups``) and monthly service reports
(``monthly``)."""

from erpcare.reports.models.monthly import MonthlyReport, MonthlyReportStatus
from erpcare.reports.models.rollups import DailyRollup

__all__ = ["DailyRollup", "MonthlyReport", "MonthlyReportStatus"]
