"""A minimal webhook receiver for the README tour: verifies the Standard Webhooks signature
with hookline.verify (standard library only) and prints each event.

    python examples/receiver.py WHSEC_SECRET [PORT]
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from hookline.verify import VerificationError, verify

SECRET = sys.argv[1] if len(sys.argv) > 1 else ""
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 9000


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            verify("standard", body, dict(self.headers), SECRET)
        except VerificationError as exc:
            print(f"rejected: {exc}", flush=True)
            self.send_response(401)
            self.end_headers()
            return
        print(f"{self.headers['X-Hookline-Event-Type']}: {json.loads(body)}", flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    print(f"listening on http://127.0.0.1:{PORT}", flush=True)
    HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
