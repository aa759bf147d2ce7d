"""Calls from the router to cache-svc and billing-svc, with the failure rules of the request path.

A cache that cannot be reached never fails a request (it goes Fresh). A settlement that
cannot be delivered is kept on disk and retried in the background, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import grpc
from google.protobuf.message import DecodeError

from nextmodel.billing.v1 import billing_pb2, billing_pb2_grpc
from nextmodel.cache.v1 import cache_pb2, cache_pb2_grpc
from nextmodel.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from nextmodel_common.errors import GatewayError, from_rpc_error
from nextmodel_common.tasks import cancel_and_wait
from nextmodel_router.outbox import SettlementOutbox

log = logging.getLogger(__name__)


class CacheClient:
    """Lookups go out one by one; stores are gathered for `store_linger_seconds` and sent in one
    StoreBatch call. A store is off the response path (the key's lease holds identical requests
    until it lands), so the linger costs nobody a wait but the rare coalesced follower."""

    def __init__(self, channel: grpc.aio.Channel, timeout: float, store_linger_seconds: float = 0.0,
                 store_batch: int = 256, store_batch_bytes: int = 16 * 1024 * 1024,
                 max_waiting_stores: int = 4096) -> None:
        self.stub = cache_pb2_grpc.CacheServiceStub(channel)
        self.timeout = timeout
        self.store_linger_seconds = store_linger_seconds
        self.store_batch = store_batch
        self.store_batch_bytes = store_batch_bytes
        # Past this many waiting stores (a cache far slower than the traffic), new answers are not
        # stored (their keys are abandoned) rather than held in memory.
        self.max_waiting_stores = max_waiting_stores
        self._stores: list[tuple[cache_pb2.StoreRequest, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None
        self._store_now = asyncio.Event()

    async def lookup(self, request: cache_pb2.LookupRequest,
                     coalesce_timeout_ms: int = 0) -> cache_pb2.LookupResponse | None:
        """The lookup answer, or None when the cache could not be asked (the request goes Fresh)."""
        try:
            return await self.stub.Lookup(request, timeout=self.timeout + coalesce_timeout_ms / 1000)
        except grpc.aio.AioRpcError as failure:
            log.warning("cache lookup failed; serving fresh", extra={"fields": {"code": failure.code().name}})
            return None

    async def store(self, request: cache_pb2.StoreRequest, *, linger: bool = True) -> cache_pb2.StoreResponse | None:
        """The store's answer, or None when the cache could not be reached (or stores back up).
        `linger=False` sends the gathered stores at once: a refreshed answer should replace the
        old entry as soon as it can. Stores go out in the order they came, so an older answer
        never lands after a newer one for the same key."""
        if len(self._stores) >= self.max_waiting_stores:
            log.warning("cache stores are backing up; this answer is not stored",
                        extra={"fields": {"waiting": len(self._stores)}})
            return None
        done = asyncio.get_running_loop().create_future()
        self._stores.append((request, done))
        if not linger:
            self._store_now.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_stores(), name="cache-store-batch")
        return await done

    async def _flush_stores(self) -> None:
        batch: list[tuple[cache_pb2.StoreRequest, asyncio.Future]] = []
        try:
            if self.store_linger_seconds and not self._store_now.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.store_linger_seconds):
                        await self._store_now.wait()
            while self._stores:
                self._store_now.clear()
                batch, self._stores = self._next_batch(self._stores)
                try:
                    results = await self._send([request for request, _ in batch])
                except grpc.aio.AioRpcError as failure:
                    log.warning("cache store failed", extra={"fields": {"code": failure.code().name,
                                                                        "stores": len(batch)}})
                    results = []
                for index, (_, done) in enumerate(batch):
                    if not done.done():
                        done.set_result(results[index] if index < len(results) else None)
                batch = []
        finally:  # cancelled (the router is stopping) or broken: whoever waits hears "not stored"
            left, self._stores = batch + self._stores, []
            for _, done in left:
                if not done.done():
                    done.set_result(None)

    def _next_batch(self, waiting: list) -> tuple[list, list]:
        """The oldest stores that fit one call (by count and bytes; always at least one)."""
        size, count = 0, 0
        for request, _ in waiting[:self.store_batch]:
            size += request.ByteSize()
            if count and size > self.store_batch_bytes:
                break
            count += 1
        return waiting[:count], waiting[count:]

    async def _send(self, stores: list[cache_pb2.StoreRequest]) -> list:
        try:
            answer = await self.stub.StoreBatch(cache_pb2.StoreBatchRequest(stores=stores), timeout=self.timeout)
            return list(answer.results)
        except grpc.aio.AioRpcError as failure:
            if failure.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise
        # A cache-svc older than StoreBatch (mid-upgrade): one Store call per answer.
        return list(await asyncio.gather(*(self.stub.Store(store, timeout=self.timeout) for store in stores)))

    async def close(self) -> None:
        """Stop the store flusher (its waiters hear "not stored"); call before closing the channel."""
        await cancel_and_wait(self._flusher)
        left, self._stores = self._stores, []  # a flusher cancelled before it ran resolved nobody
        for _, done in left:
            if not done.done():
                done.set_result(None)

    async def abandon(self, cache_key: str) -> None:
        try:
            await self.stub.Abandon(cache_pb2.AbandonRequest(cache_key=cache_key), timeout=self.timeout)
        except grpc.aio.AioRpcError:
            pass  # the lease expires on its own

    async def stats(self, project_id: str, namespace: str) -> cache_pb2.CacheStats | None:
        try:
            return await self.stub.GetStats(cache_pb2.GetStatsRequest(project_id=project_id, namespace=namespace),
                                            timeout=self.timeout)
        except grpc.aio.AioRpcError:
            return None


# Failures that say nothing about the settlements themselves: the whole batch waits and is sent again.
TRANSIENT_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                             grpc.StatusCode.CANCELLED, grpc.StatusCode.RESOURCE_EXHAUSTED,
                             grpc.StatusCode.ABORTED})
REFUSALS_BEFORE_SET_ASIDE = 3


class _Refused(Exception):
    """Billing refused the only rows left, each alone: wait as for a passing fault, then try again."""

    def __init__(self, code: grpc.StatusCode) -> None:
        super().__init__(code.name)
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


class BillingClient:
    """Settles usage in billing through the durable outbox; releases reservations directly."""

    def __init__(self, channel: grpc.aio.Channel, timeout: float, outbox: SettlementOutbox,
                 retry_seconds: float = 1.0, batch: int = 500, linger_seconds: float = 0.0) -> None:
        self.stub = billing_pb2_grpc.BillingServiceStub(channel)
        self.timeout = timeout
        self.outbox = outbox
        self.retry_seconds = retry_seconds
        self.batch = batch
        self.linger_seconds = linger_seconds
        self._task: asyncio.Task | None = None
        self._refusals: dict[int, int] = {}  # outbox seq -> times billing refused it alone

    async def settle(self, request: billing_pb2.SettleRequest) -> None:
        """Returns once the settlement is on disk; billing gets it moments later, in a batch."""
        await self.outbox.append(request.request_id, request.SerializeToString())
        self._deliver_soon()

    def stream_open(self, request: billing_pb2.SettleRequest) -> None:
        """What to settle for a stream still open if this process dies (see outbox.py); replaced
        by the stream's own settlement."""
        self.outbox.stream_open(request.request_id, request.SerializeToString())

    async def release(self, reservation_id: str, request_id: str) -> None:
        """Give a reservation back; if billing is unreachable its sweeper releases it after the TTL."""
        try:
            await self.stub.Release(billing_pb2.ReleaseRequest(reservation_id=reservation_id, request_id=request_id),
                                    timeout=self.timeout)
        except grpc.aio.AioRpcError as failure:
            log.warning("release failed; billing will expire the reservation",
                        extra={"fields": {"request_id": request_id, "code": failure.code().name}})

    async def reserve(self, request_id: str, principal: billing_pb2.Principal,
                      amount_nano_usd: int) -> billing_pb2.Reservation:
        """Hold `amount_nano_usd` against the key's budgets; billing's refusal (or its absence) is a
        GatewayError."""
        try:
            return await self.stub.Reserve(billing_pb2.ReserveRequest(
                request_id=request_id, key_id=principal.key_id, project_id=principal.project_id,
                team_id=principal.team_id, amount_nano_usd=amount_nano_usd), timeout=self.timeout)
        except grpc.aio.AioRpcError as failure:
            raise from_rpc_error(failure, "billing") from None

    async def authenticate(self, api_key: str) -> billing_pb2.Principal | None:
        """The key's principal; None when billing says the key is not valid, a GatewayError when
        billing cannot say."""
        try:
            return await self.stub.AuthenticateKey(billing_pb2.AuthenticateKeyRequest(api_key=api_key),
                                                   timeout=self.timeout)
        except grpc.aio.AioRpcError as failure:
            if failure.code() == grpc.StatusCode.UNAUTHENTICATED:
                return None
            raise from_rpc_error(failure, "billing") from None

    async def provider_key(self, project_id: str, provider: str) -> billing_pb2.ProviderKey:
        """The project's own key for `provider` (`present` false when it stored none)."""
        try:
            return await self.stub.GetProviderKey(
                billing_pb2.GetProviderKeyRequest(project_id=project_id, provider=provider), timeout=self.timeout)
        except grpc.aio.AioRpcError as failure:
            raise from_rpc_error(failure, "billing") from None

    async def get_receipt(self, receipt_id: str, project_id: str) -> billing_pb2.Receipt:
        """The signed receipt, if it belongs to `project_id` (404 otherwise)."""
        try:
            return await self.stub.GetReceipt(billing_pb2.GetReceiptRequest(receipt_id=receipt_id,
                                                                            project_id=project_id),
                                              timeout=self.timeout)
        except grpc.aio.AioRpcError as failure:
            if failure.code() == grpc.StatusCode.NOT_FOUND:
                raise GatewayError(404, f"No receipt {receipt_id!r} in this project.", param="receipt_id",
                                   code="receipt_not_found") from None
            raise from_rpc_error(failure, "billing") from None

    def start(self) -> None:
        """Deliver what an earlier run left in the outbox."""
        if self.outbox.pending():
            self._deliver_soon()

    def _deliver_soon(self) -> None:
        # The request that finds no delivery running starts one, so that delivery (and the
        # batch it carries) shows in that request's trace; requests meanwhile ride along.
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._deliver(), name="outbox-delivery")

    async def deliver_once(self) -> int:
        """Deliver one batch from the outbox; returns how many rows left it (settled or set aside).

        Billing answers a settlement it refuses for good with a dead letter and takes the rest.
        A batch it refuses as a whole for another reason than a passing fault is sent again row
        by row, so that one row it cannot take does not hold back the others (outbox.py).
        """
        rows = self.outbox.take(self.batch)
        if not rows:
            return 0
        readable: list[tuple[int, billing_pb2.SettleRequest]] = []
        unreadable: list[int] = []
        for seq, payload in rows:
            try:
                readable.append((seq, billing_pb2.SettleRequest.FromString(payload)))
            except DecodeError:
                unreadable.append(seq)
        if unreadable:
            await self.outbox.set_aside(unreadable, "the payload cannot be read")
        if readable:
            try:
                await self._settle([settlement for _, settlement in readable])
            except grpc.aio.AioRpcError as failure:
                if failure.code() in TRANSIENT_CODES:
                    raise
                await self._deliver_one_by_one(readable, failure.code())
                return len(rows)
            await self.outbox.remove([seq for seq, _ in readable])
        return len(rows)

    async def _settle(self, settlements: list[billing_pb2.SettleRequest]) -> None:
        answer = await self.stub.SettleBatch(billing_pb2.SettleBatchRequest(settlements=settlements),
                                             timeout=self.timeout * 4)
        refused = sum(1 for dead_letter_id in answer.dead_letter_ids if dead_letter_id)
        if refused:
            log.error("billing refused settlements for good; kept as dead letters with their charge counted",
                      extra={"fields": {"count": refused}})

    async def _deliver_one_by_one(self, rows: list[tuple[int, billing_pb2.SettleRequest]],
                                  code: grpc.StatusCode) -> None:
        """A row billing refuses alone while it takes another is set aside at once; one refused
        alone with nothing else to compare is set aside after REFUSALS_BEFORE_SET_ASIDE tries."""
        refused: list[int] = []
        delivered = False
        for seq, settlement in rows:
            try:
                await self._settle([settlement])
            except grpc.aio.AioRpcError as failure:
                if failure.code() in TRANSIENT_CODES:
                    raise
                refused.append(seq)
                code = failure.code()
                continue
            delivered = True
            self._refusals.pop(seq, None)
            await self.outbox.remove([seq])
        for seq in refused:
            self._refusals[seq] = self._refusals.get(seq, 0) + 1
        hopeless = [seq for seq in refused if delivered or self._refusals[seq] >= REFUSALS_BEFORE_SET_ASIDE]
        if hopeless:
            for seq in hopeless:
                self._refusals.pop(seq, None)
            await self.outbox.set_aside(hopeless, f"billing refused it ({code.name})")
        elif refused:
            raise _Refused(code)

    async def _deliver(self) -> None:
        failing = False
        while True:
            if self.linger_seconds and self.outbox.pending() < self.batch:
                # Let the settlements of the next few milliseconds join this batch: billing's
                # cost is per batch (one RPC, one transaction), so at load this is most of it.
                await asyncio.sleep(self.linger_seconds)
            try:
                if not await self.deliver_once():
                    if failing:
                        log.info("billing reachable again; outbox delivered")
                    return
            except (grpc.aio.AioRpcError, _Refused) as failure:
                if not failing:
                    log.warning("billing unreachable; settlements wait in the outbox",
                                extra={"fields": {"code": failure.code().name, "pending": self.outbox.pending()}})
                failing = True
                await asyncio.sleep(self.retry_seconds)

    async def stop(self) -> None:
        await self.outbox.drain_writes()
        await cancel_and_wait(self._task)
        try:  # one last try, so a rolling restart leaves nothing behind
            while await self.deliver_once():
                pass
        except (grpc.aio.AioRpcError, _Refused):
            pass
        left = self.outbox.pending()
        if left:
            log.warning("settlements kept in the outbox for the next start", extra={"fields": {"count": left}})
        self.outbox.close()


class LatencyReporter:
    """Sends what the router observes of each model (time to first token, total time, errors) to
    the catalog in batches, off the request path. Lost reports cost accuracy, never requests."""

    def __init__(self, channel: grpc.aio.Channel, timeout: float, every_seconds: float = 2.0,
                 max_buffer: int = 10_000) -> None:
        self.stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        self.timeout = timeout
        self.every_seconds = every_seconds
        self.max_buffer = max_buffer
        self._buffer: list[catalog_pb2.LatencyObservation] = []
        self._task: asyncio.Task | None = None

    def observe(self, model: str, provider: str, ttft_ms: int, total_ms: int, error: bool) -> None:
        if len(self._buffer) < self.max_buffer:
            self._buffer.append(catalog_pb2.LatencyObservation(
                model=model, provider=provider, ttft_ms=ttft_ms, total_ms=total_ms, error=error,
                observed_unix_ms=int(time.time() * 1000)))
        if self._task is None or self._task.done():
            # The first observation after a quiet spell schedules the next report, from within
            # its request, so that report joins the request's trace; later ones ride along.
            self._task = asyncio.create_task(self._report_soon(), name="latency-report")

    async def _report_soon(self) -> None:
        await asyncio.sleep(self.every_seconds)
        await self.flush()

    async def flush(self) -> None:
        batch, self._buffer = self._buffer, []
        if batch:
            try:
                await self.stub.ReportLatency(catalog_pb2.ReportLatencyRequest(observations=batch),
                                              timeout=self.timeout)
            except grpc.aio.AioRpcError as failure:
                log.info("latency report dropped", extra={"fields": {"count": len(batch),
                                                                     "code": failure.code().name}})

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        await self.flush()


class CatalogClient:
    """Reads the catalog's snapshot for the router's copy (catalog_copy.py)."""

    def __init__(self, channel: grpc.aio.Channel, timeout: float) -> None:
        self.stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        self.timeout = timeout

    async def snapshot(self, if_version: str) -> catalog_pb2.CatalogSnapshot | None:
        """The catalog's snapshot (`not_modified` when it is still `if_version`), or None when
        catalog-svc could not be asked (the router keeps routing on the copy it has)."""
        try:
            return await self.stub.GetSnapshot(catalog_pb2.GetSnapshotRequest(if_version=if_version),
                                               timeout=self.timeout)
        except grpc.aio.AioRpcError as failure:
            log.warning("catalog refresh failed", extra={"fields": {"code": failure.code().name}})
            return None
