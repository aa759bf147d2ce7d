"""What the router tells the platform team: the model-call span and the request metrics.

The span that calls a model carries the GenAI semantic-convention attributes and ours;
message content is never put on it. Metrics: requests, latency, errors, tokens, cost, cache
lookups and budget refusals, by model, provider and served mode. Without OTEL_* settings the
OpenTelemetry API hands out no-op tracers and instruments, which cost next to nothing.
"""

from __future__ import annotations

from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind

from nextmodel.common.v1 import common_pb2
from nextmodel.router.v1 import router_pb2
from nextmodel_common import enums, money

tracer = trace.get_tracer("nextmodel.router")
_meter = metrics.get_meter("nextmodel.router")

requests = _meter.create_counter("nextmodel.requests", unit="{request}",
                                 description="Chat completions by model, provider, served mode and outcome")
duration = _meter.create_histogram("nextmodel.request.duration", unit="ms",
                                   description="Time from the router receiving a request to its settlement")
errors = _meter.create_counter("nextmodel.errors", unit="{error}", description="Requests refused or failed, by code")
tokens = _meter.create_counter("gen_ai.client.token.usage", unit="{token}", description="Tokens by type")
cost = _meter.create_counter("nextmodel.cost", unit="nUSD", description="Charged cost in nano-USD")
cache_lookups = _meter.create_counter("nextmodel.cache.lookups", unit="{lookup}",
                                      description="Exact-cache lookups by result (hit ratio = hit / all)")
budget_refusals = _meter.create_counter("nextmodel.budget.refusals", unit="{request}",
                                        description="Requests refused by a hard budget")



def model_span(provider: str, upstream_model: str, body: dict, project_id: str):
    """The span around one provider call (the HTTP span of the call is its child)."""
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.system": provider,
        "gen_ai.request.model": upstream_model,
        "nextmodel.project": project_id,
    }
    for field, name in (("temperature", "gen_ai.request.temperature"), ("top_p", "gen_ai.request.top_p"),
                        ("max_completion_tokens", "gen_ai.request.max_tokens"),
                        ("max_tokens", "gen_ai.request.max_tokens")):
        if isinstance(body.get(field), int | float) and not isinstance(body.get(field), bool):
            attributes.setdefault(name, body[field])
    return tracer.start_span(f"chat {upstream_model}", kind=SpanKind.CLIENT, attributes=attributes)


def finish_model_span(span, facts: router_pb2.ReceiptFacts, response_model: str = "", error: str = "") -> None:
    if error:
        span.set_attribute("error.type", error)
        span.set_status(trace.Status(trace.StatusCode.ERROR, error))
    else:
        span.set_attributes({
            "gen_ai.response.model": response_model or facts.served_model,
            "gen_ai.usage.input_tokens": facts.usage.prompt_tokens,
            "gen_ai.usage.output_tokens": facts.usage.completion_tokens,
            "nextmodel.served_mode": (enums.name(common_pb2.ServedMode, facts.served_mode) or "fresh"),
            "nextmodel.cost_usd": money.usd(facts.charged_cost_nano_usd),
            "nextmodel.receipt_id": facts.receipt_id,
            "nextmodel.cache_status": facts.cache_status,
        })
    span.end()


def settled(facts: router_pb2.ReceiptFacts, elapsed_ms: float, status: str) -> None:
    labels = {"model": facts.served_model, "provider": facts.provider,
              "served_mode": (enums.name(common_pb2.ServedMode, facts.served_mode) or "fresh"), "status": status}
    requests.add(1, labels)
    duration.record(elapsed_ms, labels)
    tokens.add(facts.usage.prompt_tokens, {**labels, "gen_ai.token.type": "input"})
    tokens.add(facts.usage.completion_tokens, {**labels, "gen_ai.token.type": "output"})
    cost.add(facts.charged_cost_nano_usd, labels)
    current = trace.get_current_span()
    current.set_attributes({"nextmodel.served_mode": labels["served_mode"], "nextmodel.receipt_id": facts.receipt_id,
                            "nextmodel.cost_usd": money.usd(facts.charged_cost_nano_usd)})


def refused(code: str, model: str) -> None:
    errors.add(1, {"code": code or "unknown", "model": model})
    if code == "budget_exceeded":
        budget_refusals.add(1, {"model": model})
