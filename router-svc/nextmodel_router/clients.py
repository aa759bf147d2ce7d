"""Calls from the router to cache-svc and billing-svc, with the failure rules of the request path.

A cache that cannot be reached never fails a request (it goes Fresh). A settlement that
cannot be delivered is kept and retried in the background, never dropped.
"""

from __future__ import annotations

import asyncio
import logging

import grpc

from nextmodel.billing.v1 import billing_pb2, billing_pb2_grpc
from nextmodel.cache.v1 import cache_pb2, cache_pb2_grpc

log = logging.getLogger(__name__)


class CacheClient:
    def __init__(self, channel: grpc.aio.Channel, timeout: float) -> None:
        self.stub = cache_pb2_grpc.CacheServiceStub(channel)
        self.timeout = timeout

    async def lookup(self, request: cache_pb2.LookupRequest) -> cache_pb2.LookupResponse | None:
        """The lookup answer, or None when the cache could not be asked (the request goes Fresh)."""
        try:
            return await self.stub.Lookup(request, timeout=self.timeout)
        except grpc.aio.AioRpcError as failure:
            log.warning("cache lookup failed; serving fresh", extra={"fields": {"code": failure.code().name}})
            return None


class BillingClient:
    def __init__(self, channel: grpc.aio.Channel, timeout: float, retry_seconds: float = 1.0) -> None:
        self.stub = billing_pb2_grpc.BillingServiceStub(channel)
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self._pending: asyncio.Queue[billing_pb2.SettleRequest] = asyncio.Queue()
        self._task: asyncio.Task | None = None

    async def settle(self, request: billing_pb2.SettleRequest) -> billing_pb2.Receipt | None:
        """Settle now; if billing cannot take it, keep it for redelivery and return None.

        Settle is idempotent by request id, so redelivery never double-counts.
        """
        try:
            return await self.stub.Settle(request, timeout=self.timeout)
        except grpc.aio.AioRpcError as failure:
            log.warning("settle deferred", extra={"fields": {"request_id": request.request_id,
                                                             "code": failure.code().name}})
            self._pending.put_nowait(request)
            return None

    def pending(self) -> int:
        return self._pending.qsize()

    def start(self) -> None:
        self._task = asyncio.create_task(self._redeliver(), name="settle-redelivery")

    async def _redeliver(self) -> None:
        while True:
            request = await self._pending.get()
            while True:
                try:
                    await self.stub.Settle(request, timeout=self.timeout)
                    log.info("deferred settle delivered", extra={"fields": {"request_id": request.request_id}})
                    break
                except grpc.aio.AioRpcError:
                    await asyncio.sleep(self.retry_seconds)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._pending.qsize():
            log.error("settlements not delivered at shutdown", extra={"fields": {"count": self._pending.qsize()}})
