"""The edge's ingress guard: one pure ASGI middleware in front of every route.

In this order, before a request reaches a route:

1. Headers: a request line plus headers past NEXTMODEL_MAX_HEADER_BYTES gets 431. (uvicorn with
   httptools sets no limit of its own; server.py also stops a header block that keeps growing.)
   A path or query string with a percent-encoded control character gets 400: no parameter may
   hold one (PostgreSQL refuses NUL in text; limits.py).
2. Failed authentication: a client address that got NEXTMODEL_AUTH_FAILURE_LIMIT 401 answers within
   NEXTMODEL_AUTH_FAILURE_WINDOW_SECONDS gets 429 with Retry-After, not forwarded, until a window
   has passed. Counted in memory: it is a per-replica guard at the ingress.
3. Body size: a Content-Length past NEXTMODEL_MAX_BODY_BYTES gets 413 before any byte is read; a
   body without one (chunked) is counted while it is read and cut off at the limit with 413.
4. Overload: past NEXTMODEL_EDGE_MAX_IN_FLIGHT requests in flight the edge answers 503 with
   Retry-After at once instead of queueing. /healthz, /readyz and /dashboard/ are never shed
   (nor slowed by step 2).

Every refusal has OpenAI's error shape. The work per request is a pass over the header list,
a dict lookup and a counter; nothing is read or parsed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from nextmodel_common import limits
from nextmodel_common.errors import GatewayError
from nextmodel_edge.config import EdgeSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

NEVER_GUARDED = frozenset({"/healthz", "/readyz", "/dashboard"})
DASHBOARD_PREFIX = "/dashboard/"
SHED_RETRY_AFTER_SECONDS = 1


def error_body(status: int, message: str, code: str) -> bytes:
    return orjson.dumps(GatewayError(status, message, code=code).to_openai())


def headers_too_large_body(limit: int) -> bytes:
    return error_body(431, f"The request line and headers are larger than {limit} bytes.",
                      "request_header_fields_too_large")


def body_too_large_body(limit: int) -> bytes:
    return error_body(413, f"The request body is larger than {limit} bytes.", "request_too_large")


CONTROL_IN_URL = error_body(400, "The path or query string holds a control character (such as %00).",
                            "invalid_url")
OVERLOADED = error_body(503, "The gateway is at capacity. Retry the request shortly.", "overloaded")
TOO_MANY_AUTH_FAILURES = error_body(
    429, "Too many requests with a missing or invalid API key came from this address. "
         "Wait for the time in Retry-After, then retry with a valid key.", "too_many_failed_authentications")


class BodyTooLarge(Exception):
    """Raised from receive() when a body without Content-Length passes the limit."""


class FailedAuthGuard:
    """401 answers per client address in a fixed window that starts at the first failure.

    At `limit` failures within `window` seconds the address is blocked for `window` seconds.
    At most `max_sources` addresses are remembered; the oldest is dropped first, and one stale
    entry is dropped on each failure, so the table never outgrows its bound and costs O(1).
    """

    def __init__(self, limit: int, window: float, max_sources: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.max_sources = max(1, max_sources)
        self.clock = clock
        # address -> [window start, failures, blocked until]; insertion order is window-start order.
        self._sources: dict[str, list] = {}

    def __len__(self) -> int:
        return len(self._sources)

    def blocked_for(self, source: str) -> float:
        """Seconds this address is still blocked (0.0 when it is not)."""
        entry = self._sources.get(source)
        if entry is None:
            return 0.0
        left = entry[2] - self.clock()
        return left if left > 0 else 0.0

    def failed(self, source: str) -> None:
        now = self.clock()
        entry = self._sources.get(source)
        if entry is not None and now - entry[0] >= self.window and now >= entry[2]:
            del self._sources[source]  # its window is over: start a new one (at the end of the order)
            entry = None
        if entry is None:
            if len(self._sources) >= self.max_sources:
                del self._sources[next(iter(self._sources))]
            entry = self._sources[source] = [now, 0, 0.0]
        entry[1] += 1
        if entry[1] >= self.limit:
            entry[2] = now + self.window
        self._drop_one_stale(now)

    def _drop_one_stale(self, now: float) -> None:
        oldest = next(iter(self._sources), None)
        if oldest is not None:
            start, _, blocked_until = self._sources[oldest]
            if now - start >= self.window and now >= blocked_until:
                del self._sources[oldest]


async def _answer(send: Send, status: int, body: bytes, *extra: tuple[bytes, bytes]) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class EdgeGuard:
    def __init__(self, app: ASGIApp, settings: EdgeSettings) -> None:
        self.app = app
        self.max_in_flight = settings.edge_max_in_flight
        self.max_body_bytes = settings.max_body_bytes
        self.max_header_bytes = settings.max_header_bytes
        self.auth = (FailedAuthGuard(settings.auth_failure_limit, settings.auth_failure_window_seconds,
                                     settings.auth_failure_max_sources)
                     if settings.auth_failure_limit > 0 else None)
        self.in_flight = 0
        self._headers_too_large = headers_too_large_body(self.max_header_bytes)
        self._body_too_large = body_too_large_body(self.max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        raw_path = scope.get("raw_path") or b""
        query = scope.get("query_string") or b""
        size = len(raw_path) + len(query)
        length = None
        for name, value in scope["headers"]:
            size += len(name) + len(value) + 4  # ": " and CRLF
            if name == b"content-length":
                length = value
        if size > self.max_header_bytes:
            await _answer(send, 431, self._headers_too_large, (b"connection", b"close"))
            return
        if (b"%" in raw_path or b"%" in query) and (limits.ENCODED_CONTROL.search(raw_path)
                                                    or limits.ENCODED_CONTROL.search(query)):
            await _answer(send, 400, CONTROL_IN_URL)
            return

        guarded = path not in NEVER_GUARDED and not path.startswith(DASHBOARD_PREFIX)
        source = None
        if guarded and self.auth is not None:
            client = scope.get("client")
            source = client[0] if client else ""
            left = self.auth.blocked_for(source)
            if left:
                await _answer(send, 429, TOO_MANY_AUTH_FAILURES, (b"retry-after", str(math.ceil(left)).encode()))
                return

        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            # Nothing is read: the connection closes after the answer instead of draining the body.
            await _answer(send, 413, self._body_too_large, (b"connection", b"close"))
            return

        if not guarded:
            await self.app(scope, receive, send)
            return
        if self.max_in_flight and self.in_flight >= self.max_in_flight:
            await _answer(send, 503, OVERLOADED, (b"retry-after", str(SHED_RETRY_AFTER_SECONDS).encode()))
            return
        self.in_flight += 1
        try:
            if source is None and length is not None:
                # Content-Length is within the limit and the server never delivers more: nothing to watch.
                await self.app(scope, receive, send)
            else:
                await self._watched(scope, receive, send, source, count_body=length is None)
        finally:
            self.in_flight -= 1

    async def _watched(self, scope: Scope, receive: Receive, send: Send, source: str | None,
                       count_body: bool) -> None:
        """Run the app, counting a body without Content-Length and noting a 401 answer."""
        received = 0
        too_large = False
        started = False
        replaced = False
        limit = self.max_body_bytes

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise BodyTooLarge()
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started, replaced
            if message["type"] == "http.response.start":
                started = True
                if too_large:
                    # Whatever the route made of the cut-off body, the answer is 413.
                    replaced = True
                    await _answer(send, 413, self._body_too_large, (b"connection", b"close"))
                    return
                if message["status"] == 401 and source is not None and self.auth is not None:
                    self.auth.failed(source)
            elif replaced:
                return
            await send(message)

        try:
            await self.app(scope, counting_receive if count_body else receive, watching_send)
        except Exception:
            if not too_large:
                raise
            if not started:
                await _answer(send, 413, self._body_too_large, (b"connection", b"close"))


def install(app, settings: EdgeSettings) -> None:
    """Add the guard to a FastAPI app (it runs inside Starlette's error middleware)."""
    app.add_middleware(EdgeGuard, settings=settings)
