"""A/B of one outbound HTTP delivery's cost: a TLS context per POST vs one per process.

    .venv/bin/python bench/http_post.py [--posts 100] [--rounds 2]

Posts to a receiver on 127.0.0.1 through ``erpcare.channels.http.post`` (the robots' and
webhooks' transport, SSRF guard included). "fresh" clears the TLS context cache before every
POST (what every delivery paid before the context was cached); "shared" keeps it. Prints
ms per POST for both, interleaved per round, and the ratio.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, django_setup, say


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("ERPCARE_LOG_LEVEL", "WARNING")
    django_setup(str(ROOT))
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from erpcare.channels import http

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"

    def per_post(fresh: bool) -> float:
        started = time.perf_counter()
        for _ in range(args.posts):
            if fresh:
                http._tls_context.cache_clear()
            assert http.post(url, b"{}", {}, allow_private=True).ok
        return (time.perf_counter() - started) / args.posts * 1000

    try:
        for round_no in range(1, args.rounds + 1):
            fresh, shared = per_post(True), per_post(False)
            say(
                f"round {round_no}: fresh TLS context {fresh:.1f} ms/POST, "
                f"shared {shared:.1f} ms/POST, ratio {fresh / shared:.1f}x"
            )
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
