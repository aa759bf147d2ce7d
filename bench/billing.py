"""Billing's two measured paths: the settle RPC (on the request path) and the usage export.

Usage: python bench/billing.py DATABASE_URL [ROWS]
  DATABASE_URL: sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db (an empty database)
  ROWS: receipts to load for the export measurement (default 1,000,000)

It starts billing-svc in-process on a free port, times 1,000 sequential Settle calls over
gRPC, bulk-loads ROWS receipts, then times a full CSV and a full JSONL export through the
UsageService stream, checking the exported charged costs sum to the summary exactly.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

import grpc
import orjson
from sqlalchemy import select

from nextmodel.billing.v1 import admin_pb2, admin_pb2_grpc, billing_pb2, billing_pb2_grpc
from nextmodel_billing.config import BillingSettings
from nextmodel_billing.server import create
from nextmodel_billing.store.schema import receipts
from nextmodel_common import ids


def settle_request(index: int) -> billing_pb2.SettleRequest:
    return billing_pb2.SettleRequest(
        request_id=f"req_bench_{index}", receipt_id=ids.new_receipt_id(), key_id="key_bench",
        project_id="proj_default", team_id="team_default", requested_model="gpt-4o-mini",
        served_model="gpt-4o-mini", provider="openai", served_mode="fresh", usage_source="upstream",
        prompt_tokens=120, completion_tokens=40,
        price=billing_pb2.Price(version="v1", input_per_mtok_usd="0.15", cached_input_per_mtok_usd="0.075",
                                output_per_mtok_usd="0.6"),
        latency_ms=12, status="ok", created_unix_ms=int(time.time() * 1000), tags={"env": "bench"})


async def main(url: str, rows: int) -> None:
    settings = BillingSettings(database_url=url, admin_key="bench-admin", bootstrap=True,
                               dev_key="nm-bench-dev-key-00000000000000")
    service, server = await create(settings, port=0)
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    billing = billing_pb2_grpc.BillingServiceStub(channel)
    for index in range(50):  # warm up
        await billing.Settle(settle_request(-index - 1))
    samples = []
    for index in range(1000):
        request = settle_request(index)
        started = time.perf_counter()
        await billing.Settle(request)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    print(f"settle over gRPC ({url.split(':')[0]}): p50 {samples[500]:.2f} ms, p99 {samples[990]:.2f} ms, "
          f"mean {statistics.mean(samples):.2f} ms")

    async with service.store.engine.connect() as conn:
        template = dict((await conn.execute(select(receipts).limit(1))).mappings().one())
    started = time.perf_counter()
    batch = 20_000
    async with service.store.engine.begin() as conn:
        for offset in range(0, rows, batch):
            await conn.execute(receipts.insert(), [
                {**template, "id": f"rcpt_load{offset + i:012d}", "request_id": f"req_load_{offset + i}",
                 "created_unix_ms": template["created_unix_ms"] + offset + i}
                for i in range(min(batch, rows - offset))])
    print(f"loaded {rows:,} receipts in {time.perf_counter() - started:.1f} s")

    usage = admin_pb2_grpc.UsageServiceStub(channel)
    metadata = (("authorization", "Bearer bench-admin"),)
    summary = await usage.GetUsage(admin_pb2.UsageQuery(), metadata=metadata)
    for fmt in ("csv", "jsonl"):
        started = time.perf_counter()
        size = lines = charged = 0
        async for chunk in usage.ExportUsage(admin_pb2.UsageQuery(format=fmt), metadata=metadata):
            size += len(chunk.data)
            for line in chunk.data.splitlines():
                lines += 1
                if fmt == "jsonl":
                    charged += orjson.loads(line)["charged_cost_nano_usd"]
        elapsed = time.perf_counter() - started
        exported = lines - (1 if fmt == "csv" else 0)
        print(f"export {fmt}: {exported:,} rows, {size / 1e6:.0f} MB in {elapsed:.1f} s "
              f"({exported / elapsed:,.0f} rows/s)")
        if fmt == "jsonl":
            assert charged == summary.total.charged_cost_nano_usd, "export and summary disagree"
            print("exported charged costs sum exactly to the summary")
    await channel.close()
    await server.stop(1)
    await service.store.close()


if __name__ == "__main__":
    main_url = sys.argv[1]
    main_rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    asyncio.run(main(main_url, main_rows))
