"""``erpcare worker``: run background tasks, the pollers (queues that drain within a
second, e.g. alerts) and, if elected leader, fire periodic jobs."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from erpcare.core import pollers
from erpcare.core.scheduler import Scheduler, default_worker_id


class Command(BaseCommand):
    help = "Run the django-tasks database worker plus the periodic job scheduler."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-scheduler", action="store_true", help="only run tasks")
        parser.add_argument("--no-pollers", action="store_true", help="do not run the pollers")
        parser.add_argument("--interval", type=float, default=1.0, help="task polling seconds")
        parser.add_argument("--batch", action="store_true", help="run queued tasks, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        worker_id = default_worker_id()
        stop = threading.Event()
        thread = None
        if not options["no_scheduler"] and not options["batch"]:
            scheduler = Scheduler(worker_id)
            thread = threading.Thread(
                target=scheduler.run_forever,
                args=(stop, float(settings.ERPCARE_WORKER_HEARTBEAT_SECONDS) / 3),
                name="erpcare-scheduler",
                daemon=True,
            )
            thread.start()
        poller_threads = []
        if not options["no_pollers"] and not options["batch"]:
            poller_threads = pollers.start_all(stop)
        try:
            worker_args = ["--queue-name", "*", "--interval", str(options["interval"])]
            worker_args += ["--worker-id", worker_id.replace(":", "-")[:64], "--no-reload"]
            if options["batch"]:
                worker_args.append("--batch")
            call_command("db_worker", *worker_args)
        finally:
            stop.set()
            if thread is not None:
                thread.join(timeout=5)
            for poller_thread in poller_threads:
                poller_thread.join(timeout=5)
