"""Test fixtures for inspections: a real Tryton ERP database built with Tryton's own tools.

``tryton_build`` runs in a subprocess (Tryton's global configuration and pool must never
enter Django's process); ``tryton`` is what tests import.
"""
