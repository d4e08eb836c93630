"""Backups of ERP databases and of ERPCare itself, with verified restores."""
