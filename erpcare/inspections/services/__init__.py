"""Inspection services: data sources, evaluation of answers, runs, schedules, incidents."""
