"""Chalice's local HTTP server, mounted under ``/api`` as API Gateway's stage ``api`` is on AWS."""
from __future__ import annotations

import json
from typing import Any

from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
    ThreadedHTTPServer,
)

PREFIX = "/api"


class ApiPrefixHandler(ChaliceRequestHandler):
    """Strip the stage prefix, and answer unknown paths with a JSON 404 as the API does."""

    path: str  # BaseHTTPRequestHandler's request path, rewritten below

    def _generic_handle(self) -> None:
        if self.path == PREFIX or self.path.startswith(PREFIX + "/") or self.path.startswith(PREFIX + "?"):
            self.path = self.path[len(PREFIX):] or "/"
            super()._generic_handle()
        else:
            self._not_found()

    # The base class binds do_GET & co. to its own _generic_handle; rebind to ours, and
    # route any other method (TRACE, PROPFIND...) there too, so it gets a JSON 405, not an HTML 501.
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    def _send_error_response(self, error: LocalGatewayException) -> None:
        # Chalice answers an unknown route with 403 "Missing Authentication Token" (API
        # Gateway's wording); a developer is better served by a plain 404. Chalice has read
        # the body by now: reading it again would wait forever for bytes already consumed.
        if error.CODE == 403:
            self._not_found(body_read=True)
        else:
            super()._send_error_response(error)

    def _not_found(self, body_read: bool = False) -> None:
        if not body_read:
            # Outside /api Chalice never saw the request: discard its body so the client
            # is not left sending into a connection nobody reads.
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
        body = json.dumps({"error": "not_found", "message": f"no route {self.command} {self.path}"})
        self._send_http_response(404, {"Content-Type": "application/json"}, body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        pass


class BurstTolerantServer(ThreadedHTTPServer):
    # socketserver's default listen backlog of 5 resets connections when a client opens
    # a few dozen at once; the load test does, and so do browsers and SDK retries.
    request_queue_size = 256


def make_server(app: Any, host: str, port: int) -> LocalDevServer:
    # As chalice.local.create_local_server does: a thread-local current_request, so
    # concurrent requests on the threaded server never see each other's request.
    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    config = Config.create(chalice_stage="local", app_name="klyph", lambda_timeout=30, lambda_memory_size=1024)
    return LocalDevServer(app, config, host, port, handler_cls=ApiPrefixHandler, server_cls=BurstTolerantServer)
