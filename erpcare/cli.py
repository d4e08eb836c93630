"""The ``erpcare`` command: one entry point wrapping Django's management commands.

erpcare serve [--dev] [--bind 127.0.0.1:8000] [--workers 2]
erpcare demo [--no-serve]         seed the demo data set (idempotent) and serve it
erpcare worker                    background tasks plus the periodic scheduler
erpcare migrate | createadmin | check | assets
erpcare <any Django management command>
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erpcare.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    from django.core.management import execute_from_command_line

    # Our own commands have Django names with an erpcare_ prefix where they would clash.
    aliases = {"serve": "erpcare_serve", "demo": "erpcare_demo", "worker": "erpcare_worker"}
    command = aliases.get(args[0], args[0])
    execute_from_command_line(["erpcare", command, *args[1:]])
    return 0
