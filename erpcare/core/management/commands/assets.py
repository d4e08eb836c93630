"""``erpcare assets``: copy the pinned front-end packages from node_modules into static/vendor.

The packages come from the npm registry through package-lock.json (``npm ci``); nothing
third-party is committed and nothing is fetched from a CDN at run time.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

# (directory under node_modules, file under it, directory under static/vendor)
VENDOR_FILES = [
    ("bootstrap/dist", "css/bootstrap.min.css", "bootstrap"),
    ("bootstrap/dist", "css/bootstrap.min.css.map", "bootstrap"),
    ("bootstrap/dist", "js/bootstrap.bundle.min.js", "bootstrap"),
    ("bootstrap/dist", "js/bootstrap.bundle.min.js.map", "bootstrap"),
    ("bootstrap-icons", "font/bootstrap-icons.min.css", "bootstrap-icons"),
    ("bootstrap-icons", "font/fonts/bootstrap-icons.woff2", "bootstrap-icons"),
    ("bootstrap-icons", "font/fonts/bootstrap-icons.woff", "bootstrap-icons"),
    ("htmx.org/dist", "htmx.min.js", "htmx"),
    ("echarts/dist", "echarts.min.js", "echarts"),
]


class Command(BaseCommand):
    help = "Copy front-end assets from node_modules (run `npm ci` first) into static/vendor."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--node-modules", default=str(settings.BASE_DIR / "node_modules"))

    def handle(self, *args: Any, **options: Any) -> None:
        source_root = Path(options["node_modules"])
        target_root = settings.PACKAGE_DIR / "static" / "vendor"
        missing = [
            f"{package}/{name}"
            for package, name, _dst in VENDOR_FILES
            if not (source_root / package / name).is_file()
        ]
        if missing:
            raise CommandError("missing in node_modules (run `npm ci`): " + ", ".join(missing))
        for package, name, destination in VENDOR_FILES:
            target = target_root / destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source_root / package / name, target)
        self.stdout.write(f"copied {len(VENDOR_FILES)} files into {target_root}")
