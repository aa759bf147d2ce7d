"""The router's catalog copy survives a restart while catalog-svc is down: it saves every
snapshot it installs and reads the saved one first at start."""

import asyncio
from pathlib import Path

import grpc

from nextmodel.catalog.v1 import catalog_pb2
from nextmodel_router.catalog_copy import CatalogCopy
from nextmodel_router.clients import CatalogClient


def snapshot(version: str) -> catalog_pb2.CatalogSnapshot:
    answer = catalog_pb2.CatalogSnapshot(version=version)
    answer.providers.add(id="openai", protocol="openai", env_prefix="OPENAI", default_base_url="https://p.test/v1")
    model = answer.models.add(id="gpt-4o-mini", provider="openai")
    model.price.version = "p1"
    model.price.input_per_mtok_usd = "0.15"
    model.price.output_per_mtok_usd = "0.6"
    return answer


class Catalog:
    """A catalog stub: answers with `live`, or fails as an unreachable catalog-svc does."""

    def __init__(self, live: catalog_pb2.CatalogSnapshot | None) -> None:
        self.live = live
        self.asked_with: list[str] = []

    async def GetSnapshot(self, request, timeout):
        self.asked_with.append(request.if_version)
        if self.live is None:
            raise grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata())
        if request.if_version == self.live.version:
            return catalog_pb2.CatalogSnapshot(not_modified=True)
        return self.live


def copy(path: Path, catalog: Catalog) -> CatalogCopy:
    catalog_copy = CatalogCopy(CatalogClient(grpc.aio.insecure_channel("127.0.0.1:1"), 1), 60, snapshot_path=path)
    catalog_copy.client.stub = catalog
    return catalog_copy


def test_a_restart_while_the_catalog_is_down_routes_on_the_saved_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "router-catalog.pb"

    async def first_run():
        assert await copy(path, Catalog(snapshot("v1"))).refresh()

    async def restart_with_catalog_down():
        catalog_copy = copy(path, Catalog(None))
        assert await catalog_copy.load_saved()
        return catalog_copy.view

    asyncio.run(first_run())
    view = asyncio.run(restart_with_catalog_down())
    assert view.version == "v1" and view.resolve("gpt-4o-mini").upstream_id == "gpt-4o-mini"


def test_the_live_catalog_replaces_the_saved_one_and_an_unchanged_one_is_not_sent_again(tmp_path: Path) -> None:
    path = tmp_path / "router-catalog.pb"

    async def run():
        saving = copy(path, Catalog(snapshot("v1")))
        await saving.refresh()
        unchanged = Catalog(snapshot("v1"))
        restarted = copy(path, unchanged)
        await restarted.load_saved()
        assert not await restarted.refresh() and unchanged.asked_with == ["v1"]
        changed = copy(path, Catalog(snapshot("v2")))
        await changed.load_saved()
        assert await changed.refresh() and changed.view.version == "v2"
        return catalog_pb2.CatalogSnapshot.FromString(path.read_bytes()).version

    assert asyncio.run(run()) == "v2", "the newest snapshot is the one saved"


def test_a_damaged_or_missing_file_is_no_catalog_not_a_crash(tmp_path: Path) -> None:
    async def run(path: Path):
        catalog_copy = copy(path, Catalog(None))
        return await catalog_copy.load_saved(), catalog_copy.view

    damaged = tmp_path / "damaged.pb"
    damaged.write_bytes(b"\x0a\xff\xff not a snapshot")
    assert asyncio.run(run(damaged)) == (False, None)
    assert asyncio.run(run(tmp_path / "missing.pb")) == (False, None)


def test_a_file_that_parses_but_holds_no_catalog_is_ignored(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pb"
    empty.write_bytes(catalog_pb2.CatalogSnapshot(version="v1").SerializeToString())

    async def run():
        catalog_copy = copy(empty, Catalog(None))
        return await catalog_copy.load_saved(), catalog_copy.view

    assert asyncio.run(run()) == (False, None)
