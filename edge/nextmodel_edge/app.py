"""The FastAPI application: routes, error handlers, and the gRPC channels' lifetime."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from nextmodel_common import telemetry
from nextmodel_edge import dashboard, errors, middleware
from nextmodel_edge.clients import Upstreams
from nextmodel_edge.config import EdgeSettings, get_settings
from nextmodel_edge.readiness import Readiness
from nextmodel_edge.routes import admin, cache, catalog, chat, health, models, receipts, usage


def create_app(settings: EdgeSettings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.upstreams = Upstreams(settings)
        # Health checks get a short deadline: the readiness probe's own timeout is 3 s.
        app.state.readiness = Readiness(app.state.upstreams, timeout=min(settings.internal_timeout, 2.0))
        yield
        await app.state.upstreams.close()

    app = FastAPI(title="NextModel", version="0.1.0", lifespan=lifespan,
                  description="OpenAI-compatible LLM gateway: exact cache, receipts and budgets.")
    app.state.settings = settings
    errors.install(app)
    middleware.install(app, settings)
    telemetry.instrument_fastapi(app)
    for module in (chat, models, receipts, usage, cache, catalog, admin, health):
        app.include_router(module.router)
    app.include_router(dashboard.router)
    return app
