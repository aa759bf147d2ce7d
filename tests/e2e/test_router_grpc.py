"""Internal services call the router over gRPC directly, with the caller's key in metadata."""

from __future__ import annotations

import grpc
import openai
import orjson
import pytest

from nextmodel.common.v1 import common_pb2
from nextmodel.router.v1 import router_pb2, router_pb2_grpc
from nextmodel_common.errors import ERROR_METADATA_KEY

pytestmark = pytest.mark.e2e

BODY = {"model": "gpt-4.1", "messages": [{"role": "system", "content": "Be brief."},
                                         {"role": "user", "content": "Name a colour."}]}


@pytest.fixture
def router(stack):
    with grpc.insecure_channel(stack.addr("router")) as channel:
        yield router_pb2_grpc.RouterServiceStub(channel)


def test_direct_grpc_call_matches_the_edge(router, stack, fake_upstream) -> None:
    metadata = (("authorization", f"Bearer {stack.dev_key}"),)
    direct = router.ChatCompletion(
        router_pb2.ChatRequest(body_json=orjson.dumps(BODY), model=BODY["model"], tags={"caller": "batch-job"}),
        metadata=metadata, timeout=10,
    )
    via_edge = openai.OpenAI(base_url=stack.base_url, api_key=stack.dev_key).chat.completions.with_raw_response \
        .create(**BODY)

    direct_body = orjson.loads(direct.body_json)
    edge_body = orjson.loads(via_edge.content)
    assert direct_body["choices"] == edge_body["choices"]
    assert direct_body["usage"] == edge_body["usage"]

    facts = direct.receipt
    assert facts.served_mode == common_pb2.SERVED_MODE_FRESH
    assert facts.usage_source == common_pb2.USAGE_SOURCE_UPSTREAM
    assert facts.provider == via_edge.headers["x-nextmodel-provider"] == "openai"
    assert facts.usage.prompt_tokens == edge_body["usage"]["prompt_tokens"]
    assert facts.request_id.startswith("req_") and facts.request_id != via_edge.headers["x-request-id"]
    assert str(facts.charged_cost_nano_usd) == str(int(
        __import__("decimal").Decimal(via_edge.headers["x-nextmodel-cost-usd"]) * 10**9))

    # The receipt billing wrote agrees with the facts the call returned.
    receipt = router.GetReceipt(router_pb2.GetReceiptRequest(receipt_id=facts.receipt_id), metadata=metadata)
    assert receipt.request_id == facts.request_id
    assert receipt.charged_cost_nano_usd == facts.charged_cost_nano_usd
    assert receipt.prompt_tokens == facts.usage.prompt_tokens
    assert receipt.price.version == facts.price_version
    assert receipt.tags["caller"] == "batch-job"


def test_direct_call_without_key_is_unauthenticated_with_openai_error(router) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        router.ChatCompletion(router_pb2.ChatRequest(body_json=orjson.dumps(BODY), model="gpt-4.1"), timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    error = dict(refused.value.trailing_metadata())[ERROR_METADATA_KEY]
    assert common_pb2.Error.FromString(error).http_status == 401


@pytest.mark.parametrize("fields, param", [
    ({"tags": {"k": "v" * 8200}}, "x-nextmodel-tags"),
    ({"tags": {"n" * 70: "v"}}, "x-nextmodel-tags"),
    ({"request_id": "r" * 65}, "request_id"),
    ({"policy": "p" * 129}, "x-nextmodel-policy"),
], ids=["tag-value", "tag-name", "request-id", "policy"])
def test_a_direct_call_past_a_limit_is_invalid_argument_naming_it(router, stack, fake_upstream, fields, param) -> None:
    """Internal callers meet the same limits as the edge's clients: nothing unstorable is served."""
    calls = fake_upstream.calls
    with pytest.raises(grpc.RpcError) as refused:
        router.ChatCompletion(router_pb2.ChatRequest(body_json=orjson.dumps(BODY), model=BODY["model"], **fields),
                              metadata=(("authorization", f"Bearer {stack.dev_key}"),), timeout=10)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = common_pb2.Error.FromString(dict(refused.value.trailing_metadata())[ERROR_METADATA_KEY])
    assert (error.http_status, error.param) == (400, param)
    assert fake_upstream.calls == calls
