"""GET /v1/models and GET /v1/models/{id}, in OpenAI's list shape."""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from fastapi.responses import Response

from nextmodel.router.v1 import router_pb2
from nextmodel_common.errors import GatewayError
from nextmodel_edge.deps import AuthDep, SettingsDep, UpstreamsDep
from nextmodel_edge.errors import error_response

router = APIRouter()


def model_object(model: router_pb2.ModelInfo) -> dict:
    """OpenAI's Model (id, object, created, owned_by = provider) plus our catalog fields."""
    return {
        "id": model.id,
        "object": "model",
        "created": model.created,
        "owned_by": model.provider,
        "shutdown_date": model.shutdown_date or None,
        **orjson.loads(model.details_json),
    }


async def _list(upstreams, auth, settings) -> list[router_pb2.ModelInfo]:
    answer = await upstreams.router.ListModels(router_pb2.ListModelsRequest(), metadata=auth,
                                               timeout=settings.internal_timeout)
    return list(answer.models)


@router.get("/v1/models")
async def list_models(upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep) -> Response:
    models = await _list(upstreams, auth, settings)
    return Response(orjson.dumps({"object": "list", "data": [model_object(m) for m in models]}),
                    media_type="application/json")


@router.get("/v1/models/{model_id:path}")
async def get_model(model_id: str, upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep) -> Response:
    models = await _list(upstreams, auth, settings)
    for model in models:
        if model.id == model_id or model_id in orjson.loads(model.details_json).get("aliases", ()):
            return Response(orjson.dumps(model_object(model)), media_type="application/json")
    return error_response(GatewayError(404, f"The model {model_id!r} does not exist. See GET /v1/models.",
                                       param="model", code="model_not_found"))
