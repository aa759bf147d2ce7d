"""When the router can serve, which its gRPC health (and so its readiness probe and the edge's
/readyz) follows: `grpc_bootstrap` asks `RouterReadiness` every second.

- A catalog copy to route on, saved or live: without one every request would get 503. Once the
  router has one it keeps it, so a catalog outage after that changes nothing here.
- An outbox that takes settlements. Every served request's usage is appended to the outbox
  before the answer leaves, and billing takes it from there (outbox.py). So billing being down
  only delays delivery and does not make the router unready, but an outbox file that cannot be
  written would mean serving requests whose usage is lost.

The cache and billing being reachable are not conditions: the router serves Fresh without the
cache, and known keys without billing (docs/operations.md, "Fault by fault").
"""

from __future__ import annotations

import asyncio

from nextmodel_router.outbox import SettlementOutbox


class RouterReadiness:
    def __init__(self, catalog_loaded: asyncio.Event, outbox: SettlementOutbox) -> None:
        self.catalog_loaded = catalog_loaded
        self.outbox = outbox

    async def __call__(self) -> bool:
        return self.catalog_loaded.is_set() and await self.outbox.writable()
