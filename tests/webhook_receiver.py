"""A webhook receiver on 127.0.0.1 for the tests: it answers as scripted and keeps what it got."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """An HTTP receiver on 127.0.0.1 answering each POST with the next of ``answers`` (the last
    one repeats); it keeps what it got with the time it arrived."""

    def __init__(self, answers=(200,), location: str | None = None):
        self.answers, self.location = list(answers), location
        self.got: list[tuple[float, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.got.append((time.time(), {k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/klyph"

    def wait_for(self, count: int, timeout: float = 30) -> list[tuple[float, dict[str, str], bytes]]:
        deadline = time.time() + timeout
        while len(self.got) < count and time.time() < deadline:
            time.sleep(0.05)
        assert len(self.got) >= count, f"got {len(self.got)} of {count} deliveries"
        return self.got

    def close(self):
        self.server.shutdown()
        self.server.server_close()
