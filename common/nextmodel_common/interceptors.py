"""What every gRPC service does around each call, once, as server interceptors.

- `InFlight` counts the calls being served, so a stopping service knows when it has drained.
- `Errors` turns a `GatewayError` a handler raises (unary or streaming) into its gRPC status and
  the OpenAI-shaped error in the trailing metadata, and a database that cannot be reached into
  UNAVAILABLE (a 503 the caller may retry). Handlers raise; they never abort by hand.
- `Authenticate` resolves the caller's `authorization` metadata to a principal before the handler
  runs and puts it in `current_principal`; a refusal is a `GatewayError` like any other.

Install them outermost first: `[InFlight(), Errors(), Authenticate(...)]`.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Collection
from contextlib import aclosing
from typing import Any

import grpc

from nextmodel_common.errors import GatewayError

log = logging.getLogger(__name__)

# The principal of the call being served (set by `Authenticate`), for the handler to read.
current_principal: contextvars.ContextVar[Any] = contextvars.ContextVar("current_principal")

Unary = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]
Streaming = Callable[[Any, grpc.aio.ServicerContext], AsyncGenerator[Any, None]]
# Around one call: given the call's method name, request and context, and the handler's own
# coroutine or async generator, run it.
AroundUnary = Callable[[str, Any, grpc.aio.ServicerContext, Unary], Awaitable[Any]]
AroundStream = Callable[[str, Any, grpc.aio.ServicerContext, Streaming], AsyncGenerator[Any, None]]


def metadata_value(context: grpc.aio.ServicerContext, key: str) -> str | None:
    for name, value in context.invocation_metadata() or ():
        if name == key:
            return value
    return None


class _Around(grpc.aio.ServerInterceptor):
    """An interceptor that runs the same code around unary and server-streaming handlers."""

    async def unary(self, method: str, request, context, handler: Unary):
        return await handler(request, context)

    async def stream(self, method: str, request, context, handler: Streaming):
        async with aclosing(handler(request, context)) as items:
            async for item in items:
                yield item

    def applies(self, method: str) -> bool:
        return True

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not self.applies(method):
            return handler
        if handler.unary_unary is not None:
            inner_unary = handler.unary_unary

            async def unary(request, context):
                return await self.unary(method, request, context, inner_unary)

            return grpc.unary_unary_rpc_method_handler(unary, request_deserializer=handler.request_deserializer,
                                                       response_serializer=handler.response_serializer)
        if handler.unary_stream is not None:
            inner_stream = handler.unary_stream

            async def stream(request, context):
                # Closed explicitly, so a call the client cancels unwinds its handler (which may
                # still settle usage) before the interceptors outside see it end.
                async with aclosing(self.stream(method, request, context, inner_stream)) as items:
                    async for item in items:
                        yield item

            return grpc.unary_stream_rpc_method_handler(stream, request_deserializer=handler.request_deserializer,
                                                        response_serializer=handler.response_serializer)
        return handler  # client-streaming calls: none in our contracts


class InFlight(_Around):
    """How many calls are being served now (`count`)."""

    def __init__(self) -> None:
        self.count = 0

    async def unary(self, method, request, context, handler):
        self.count += 1
        try:
            return await handler(request, context)
        finally:
            self.count -= 1

    async def stream(self, method, request, context, handler):
        self.count += 1
        try:
            async with aclosing(handler(request, context)) as items:
                async for item in items:
                    yield item
        finally:
            self.count -= 1


class Errors(_Around):
    """GatewayError → its status and error metadata; `unavailable` errors → UNAVAILABLE (503).

    With `internal_error`, any other exception is logged (with the request id when the request
    has one) and answered with it, instead of gRPC's bare UNKNOWN. `on_refused(request, error)`
    sees every GatewayError on its way out (for metrics)."""

    def __init__(self, unavailable: tuple[type[BaseException], ...] = (),
                 unavailable_error: GatewayError | None = None, *, internal_error: GatewayError | None = None,
                 on_refused: Callable[[Any, GatewayError], None] | None = None) -> None:
        self.unavailable = unavailable
        self.unavailable_error = unavailable_error or GatewayError(
            503, "The database is unavailable. Retry shortly.", code="storage_unavailable", retry_after_seconds=1)
        self.internal_error = internal_error
        self.on_refused = on_refused
        self.caught: tuple[type[BaseException], ...] = (
            (Exception,) if internal_error is not None else (GatewayError, *unavailable))

    async def _refuse(self, method: str, request, failure: BaseException, context) -> None:
        if isinstance(failure, grpc.aio.AbortError):
            raise failure  # the handler answered already
        if isinstance(failure, GatewayError):
            if self.on_refused is not None:
                self.on_refused(request, failure)
            await failure.abort(context)
        if isinstance(failure, self.unavailable):
            log.warning("storage unavailable", extra={"fields": {"method": method, "error": type(failure).__name__}})
            await self.unavailable_error.abort(context)
        log.error("call failed", exc_info=failure, extra={"fields": {
            "method": method, "request_id": getattr(request, "request_id", "")}})
        await (self.internal_error or GatewayError(500, "Internal error.")).abort(context)

    async def unary(self, method, request, context, handler):
        try:
            return await handler(request, context)
        except self.caught as failure:
            await self._refuse(method, request, failure, context)

    async def stream(self, method, request, context, handler):
        try:
            async with aclosing(handler(request, context)) as items:
                async for item in items:
                    yield item
        except self.caught as failure:
            await self._refuse(method, request, failure, context)


class Authenticate(_Around):
    """Resolve `authorization` to a principal for the methods of `services` (full service names,
    e.g. "nextmodel.billing.v1.UsageService") but those in `public`. Health and reflection are
    never among them: probes carry no key."""

    def __init__(self, authenticate: Callable[[str | None], Awaitable[Any]], *,
                 services: Collection[str], public: Collection[str] = ()) -> None:
        self.authenticate = authenticate
        self.prefixes = tuple(f"/{name}/" for name in services)
        self.public = frozenset(public)

    def applies(self, method: str) -> bool:
        return method.startswith(self.prefixes) and method not in self.public

    async def unary(self, method, request, context, handler):
        token = current_principal.set(await self.authenticate(metadata_value(context, "authorization")))
        try:
            return await handler(request, context)
        finally:
            current_principal.reset(token)

    async def stream(self, method, request, context, handler):
        current_principal.set(await self.authenticate(metadata_value(context, "authorization")))
        async with aclosing(handler(request, context)) as items:
            async for item in items:
                yield item
