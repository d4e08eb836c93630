"""Backups: making them (``backup``), proving them (``verify``), keeping the right ones
(``backup.prune``) and watching their age (``health``)."""
