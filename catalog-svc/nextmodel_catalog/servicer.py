"""gRPC ↔ domain translation for the catalog. No business rules here."""

from __future__ import annotations

import orjson

from nextmodel.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from nextmodel_catalog.domain import Catalog, Model
from nextmodel_catalog.service import CatalogService


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


def snapshot_to_proto(catalog: Catalog) -> catalog_pb2.CatalogSnapshot:
    return catalog_pb2.CatalogSnapshot(
        version=catalog.version,
        providers=[
            catalog_pb2.Provider(
                id=p.id, name=p.name, protocol=p.protocol, env_prefix=p.env_prefix,
                default_base_url=p.default_base_url, region=p.region, quirks_json=orjson.dumps(p.quirks),
            )
            for p in catalog.providers
        ],
        models=[model_to_proto(m) for m in catalog.models],
        policies=[catalog_pb2.Policy(name=p.name, spec_json=orjson.dumps(p.spec)) for p in catalog.policies],
    )


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, service: CatalogService) -> None:
        self.service = service
        self._snapshot: catalog_pb2.CatalogSnapshot | None = None

    def _current(self) -> catalog_pb2.CatalogSnapshot:
        catalog = self.service.catalog
        if self._snapshot is None or self._snapshot.version != catalog.version:
            self._snapshot = snapshot_to_proto(catalog)
        return self._snapshot

    async def GetSnapshot(self, request, context):
        snapshot = self._current()
        if request.if_version and request.if_version == snapshot.version:
            return catalog_pb2.CatalogSnapshot(version=snapshot.version, not_modified=True)
        return snapshot
