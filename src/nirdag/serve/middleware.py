"""One pure ASGI middleware in front of every route: the bearer token, the body-size cap and the metrics of each
request (a pure ASGI layer costs a function call, not a task per request as Starlette's BaseHTTPMiddleware)."""

from __future__ import annotations

import hmac
import json
import time
from typing import Any

from nirdag.serve.errors import PayloadTooLarge
from nirdag.serve.metrics import ServeMetrics

TOKEN_COOKIE = "nirdag_token"
# Reachable without the token: the liveness probe, the sign-in page and what it loads.
OPEN_PATHS = frozenset({"/health", "/login", "/static/app.js", "/static/app.css"})

Scope = dict[str, Any]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    for part in (_header(scope, b"cookie") or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def presented_token(scope: Scope) -> str | None:
    """The token a request carries: ``Authorization: Bearer <token>``, or the sign-in cookie of the pages."""
    auth = _header(scope, b"authorization") or ""
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return _cookie(scope, TOKEN_COOKIE)


async def _refuse(send, status: int, reason: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": reason}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """Refuses a request without the token (401; a page is sent to the sign-in page) or with a body over
    ``max_body`` bytes (413: by its Content-Length before reading, and while it streams), and records every
    request's route template, status and duration."""

    def __init__(self, app, *, token: str | None, max_body: int, metrics: ServeMetrics):
        self.app, self.token, self.max_body, self.metrics = app, token, max_body, metrics

    def _authorised(self, scope: Scope) -> bool:
        if self.token is None or scope["path"] in OPEN_PATHS:
            return True
        given = presented_token(scope)
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]

        async def send_and_note(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self._guarded(scope, receive, send_and_note)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(scope["method"], route, status[0], time.perf_counter() - started)

    async def _guarded(self, scope: Scope, receive, send) -> None:
        if not self._authorised(scope):
            wants_page = scope["method"] == "GET" and "text/html" in (_header(scope, b"accept") or "")
            if wants_page:
                await _refuse(send, 303, "sign in first", [(b"location", b"/login")])
            else:
                await _refuse(send, 401, "this server needs a bearer token: send 'Authorization: Bearer <token>'",
                              [(b"www-authenticate", b"Bearer")])
            return
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await _refuse(send, 413, f"request body of {int(length):,} bytes is over the limit of "
                                     f"{self.max_body:,} bytes")
            return
        await self.app(scope, self._capped(receive), send)

    def _capped(self, receive):
        seen = [0]

        async def capped() -> dict:
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > self.max_body:
                    raise PayloadTooLarge(f"request body is over the limit of {self.max_body:,} bytes")
            return message

        return capped
