"""Measuring the service: KPI definitions, dashboards, surveys' figures and monthly reports."""
