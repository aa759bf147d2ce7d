"""gRPC ↔ domain translation for the catalog. No business rules here."""

from __future__ import annotations

from dataclasses import asdict

import orjson

from nextmodel.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from nextmodel_catalog.domain import Catalog, Model, Price
from nextmodel_catalog.latency import LatencyBook
from nextmodel_catalog.service import CatalogService
from nextmodel_common.errors import GatewayError


def model_to_proto(model: Model) -> catalog_pb2.Model:
    caps = model.capabilities
    return catalog_pb2.Model(
        id=model.id,
        provider=model.provider,
        upstream_id=model.upstream_id,
        aliases=model.aliases,
        region=model.region,
        context_window=model.context_window,
        max_output_tokens=model.max_output_tokens,
        price=catalog_pb2.Price(
            version=model.price.version,
            input_per_mtok_usd=model.price.input,
            cached_input_per_mtok_usd=model.price.cached_input or "",
            output_per_mtok_usd=model.price.output,
            source=model.price.source,
            effective_date=model.price.effective_date,
        ),
        capabilities=catalog_pb2.Capabilities(
            tools=caps.tools, vision=caps.vision, json_schema=caps.json_schema,
            streaming=caps.streaming, reasoning=caps.reasoning,
        ),
        shutdown_date=model.shutdown_date or "",
        created=model.created,
    )


def price_to_proto(price) -> catalog_pb2.Price:
    return catalog_pb2.Price(version=price.version, input_per_mtok_usd=price.input,
                             cached_input_per_mtok_usd=price.cached_input or "", output_per_mtok_usd=price.output,
                             source=price.source, effective_date=price.effective_date)


def snapshot_to_proto(catalog: Catalog, latency: LatencyBook | None = None) -> catalog_pb2.CatalogSnapshot:
    models = [model_to_proto(m) for m in catalog.models]
    if latency is not None:
        for model in models:
            summary = latency.summary(model.id)
            if summary is not None:
                model.latency.CopyFrom(catalog_pb2.LatencyStats(**asdict(summary)))
    return catalog_pb2.CatalogSnapshot(
        version=f"{catalog.version}.{latency.version if latency else 0}",
        providers=[
            catalog_pb2.Provider(
                id=p.id, name=p.name, protocol=p.protocol, env_prefix=p.env_prefix,
                default_base_url=p.default_base_url, region=p.region, quirks_json=orjson.dumps(p.quirks),
            )
            for p in catalog.providers
        ],
        models=models,
        policies=[catalog_pb2.Policy(name=p.name, spec_json=orjson.dumps(p.spec)) for p in catalog.policies],
    )


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, service: CatalogService, latency: LatencyBook) -> None:
        self.service = service
        self.latency = latency
        self._snapshot: catalog_pb2.CatalogSnapshot | None = None

    def _current(self) -> catalog_pb2.CatalogSnapshot:
        version = f"{self.service.catalog.version}.{self.latency.version}"
        if self._snapshot is None or self._snapshot.version != version:
            self._snapshot = snapshot_to_proto(self.service.catalog, self.latency)
        return self._snapshot

    async def ReportLatency(self, request, context):
        for seen in request.observations:
            self.latency.add(seen.model, seen.ttft_ms, seen.total_ms, seen.error,
                             at=seen.observed_unix_ms / 1000 if seen.observed_unix_ms else None)
        return catalog_pb2.ReportLatencyResponse()

    async def GetSnapshot(self, request, context):
        snapshot = self._current()
        if request.if_version and request.if_version == snapshot.version:
            return catalog_pb2.CatalogSnapshot(version=snapshot.version, not_modified=True)
        return snapshot


class CatalogAdminServicer(catalog_pb2_grpc.CatalogAdminServiceServicer):
    """Operators' changes. The admin key is checked by the Authenticate interceptor (server.py);
    every rule lives in CatalogService."""

    def __init__(self, service: CatalogService) -> None:
        self.service = service

    async def SetPrice(self, request, context):
        await self.service.set_price(
            request.model_id, input=request.input_per_mtok_usd,
            cached_input=request.cached_input_per_mtok_usd or None, output=request.output_per_mtok_usd,
            source=request.source, effective_date=request.effective_date)
        return model_to_proto(next(m for m in self.service.catalog.models if m.id == request.model_id))

    async def ListPriceVersions(self, request, context):
        history = await self.service.store.price_history(request.model_id)
        if not history:
            raise GatewayError(404, f"No model {request.model_id!r} in the catalog.", param="model_id",
                               code="model_not_found")
        return catalog_pb2.ListPriceVersionsResponse(prices=[price_to_proto(Price(**fields)) for _, fields in history])

    async def PutPolicy(self, request, context):
        try:
            spec = orjson.loads(request.spec_json or b"{}")
        except orjson.JSONDecodeError:
            raise GatewayError(400, "The policy must be a JSON object.", param="policy", code="invalid_value") from None
        policy = await self.service.put_policy({**spec, "name": request.name})
        return catalog_pb2.Policy(name=policy.name, spec_json=orjson.dumps(policy.spec))

    async def DeletePolicy(self, request, context):
        if not await self.service.delete_policy(request.name):
            raise GatewayError(404, f"No policy {request.name!r}.", param="name", code="policy_not_found")
        return catalog_pb2.DeletePolicyResponse()
