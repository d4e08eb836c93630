"""``erpcare serve``: gunicorn on one box, or Django's autoreloading server with --dev."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve ERPCare (gunicorn; --dev for the autoreloading development server)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("ERPCARE_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("ERPCARE_WEB_WORKERS", "2"))
        )
        parser.add_argument("--dev", action="store_true", help="autoreload, DEBUG on")
        parser.add_argument(
            "--no-collectstatic", action="store_true", help="skip collecting static files"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bind: str = options["bind"]
        if options["dev"]:
            os.environ["ERPCARE_DEBUG"] = "true"
            os.execvp(  # noqa: S606 - replaces this process with the dev server
                sys.executable, [sys.executable, "-m", "erpcare", "runserver", bind]
            )
        if options["workers"] < 1:
            self.stderr.write("--workers must be at least 1")
            sys.exit(2)
        if not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"ERPCare listening on http://{bind}/ ({options['workers']} workers)")
        os.execvp(  # noqa: S606
            sys.executable,
            [
                sys.executable,
                "-m",
                "gunicorn",
                "erpcare.wsgi:application",
                "--bind",
                bind,
                "--workers",
                str(options["workers"]),
                "--timeout",
                os.environ.get("ERPCARE_WEB_TIMEOUT", "60"),
                "--graceful-timeout",
                "10",
                "--access-logfile",
                os.environ.get("ERPCARE_ACCESS_LOG", "-"),
            ],
        )
