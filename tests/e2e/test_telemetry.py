"""One chat completion is one trace across all five services, with GenAI attributes, and
metrics arrive over OTLP. The test is the OTLP receiver."""

from __future__ import annotations

import threading
import time
from concurrent import futures

import grpc
import openai
import pytest
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from tests.conftest import provider_env
from tests.support.stack import Stack, free_port

pytestmark = pytest.mark.e2e

SECRET_QUESTION = "What is the secret launch date of Project Falcon?"


class Receiver(trace_service_pb2_grpc.TraceServiceServicer, metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self) -> None:
        self.spans: list[dict] = []
        self.metrics: set[str] = set()
        self.lock = threading.Lock()

    def Export(self, request, context):
        if isinstance(request, trace_service_pb2.ExportTraceServiceRequest):
            with self.lock:
                for resource_spans in request.resource_spans:
                    service = next(a.value.string_value for a in resource_spans.resource.attributes
                                   if a.key == "service.name")
                    for scope in resource_spans.scope_spans:
                        for span in scope.spans:
                            self.spans.append({
                                "service": service, "name": span.name, "trace": span.trace_id.hex(),
                                "id": span.span_id.hex(), "parent": span.parent_span_id.hex(), "kind": span.kind,
                                "attributes": {a.key: _value(a.value) for a in span.attributes}})
            return trace_service_pb2.ExportTraceServiceResponse()
        with self.lock:
            for resource_metrics in request.resource_metrics:
                for scope in resource_metrics.scope_metrics:
                    self.metrics.update(metric.name for metric in scope.metrics)
        return metrics_service_pb2.ExportMetricsServiceResponse()


def _value(value):
    return getattr(value, value.WhichOneof("value")) if value.WhichOneof("value") else None


@pytest.fixture
def receiver():
    collector = Receiver()
    server = grpc.server(futures.ThreadPoolExecutor(4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collector, server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(collector, server)
    port = free_port()
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    collector.endpoint = f"http://127.0.0.1:{port}"
    yield collector
    server.stop(0)


def test_one_request_is_one_trace_across_every_service(receiver, fake_upstream, tmp_path) -> None:
    stack = Stack(tmp_path, {**provider_env(fake_upstream), "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                             "OTEL_EXPORTER_OTLP_INSECURE": "true", "OTEL_BSP_SCHEDULE_DELAY": "100",
                             "OTEL_METRIC_EXPORT_INTERVAL": "500", "NEXTMODEL_LATENCY_REPORT_SECONDS": "0.2"}).start()
    try:
        client = openai.OpenAI(base_url=stack.base_url, api_key=stack.dev_key, max_retries=0)
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", temperature=0, messages=[{"role": "user", "content": SECRET_QUESTION}])
        receipt_id = raw.headers["x-nextmodel-receipt-id"]

        def chat_trace() -> list[dict]:
            with receiver.lock:
                roots = [s for s in receiver.spans if s["service"] == "edge" and s["kind"] == 2
                         and "chat/completions" in s["name"]]
                if not roots:
                    return []
                return [s for s in receiver.spans if s["trace"] == roots[-1]["trace"]]

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            spans = chat_trace()
            if {s["service"] for s in spans} >= {"edge", "router", "billing", "cache", "catalog"} and \
                    "nextmodel.requests" in receiver.metrics:
                break
            time.sleep(0.2)
    finally:
        stack.stop()

    spans = chat_trace()
    assert {s["service"] for s in spans} >= {"edge", "router", "billing", "cache", "catalog"}, \
        sorted({s["service"] for s in spans})
    by_id = {s["id"]: s for s in spans}

    def parent_service(span: dict) -> str:
        return by_id[span["parent"]]["service"] if span["parent"] in by_id else ""

    def server_span(service: str, method: str) -> dict:
        return next(s for s in spans if s["service"] == service and s["kind"] == 2 and s["name"].endswith(method))

    # edge → router, and router → billing / cache / catalog: each server span's parent is a client
    # span of the calling service.
    assert parent_service(server_span("router", "ChatCompletion")) == "edge"
    for service, method in (("billing", "AuthenticateKey"), ("billing", "SettleBatch"), ("cache", "Lookup"),
                            ("cache", "StoreBatch"), ("catalog", "ReportLatency")):
        assert parent_service(server_span(service, method)) == "router", (service, method)
    # The model call: GenAI attributes, our attributes, and the upstream HTTP call as its child.
    model = next(s for s in spans if s["name"] == "chat gpt-4o-mini")
    attributes = model["attributes"]
    assert attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert attributes["gen_ai.provider.name"] == "openai" and attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.usage.input_tokens"] > 0 and attributes["gen_ai.usage.output_tokens"] > 0
    assert attributes["nextmodel.served_mode"] == "fresh" and attributes["nextmodel.receipt_id"] == receipt_id
    assert attributes["nextmodel.project"] == "proj_default" and float(attributes["nextmodel.cost_usd"]) > 0
    upstream = [s for s in spans if s["parent"] == model["id"]]
    http = upstream[0]["attributes"] if upstream else {}
    assert upstream[0]["kind"] == 3 and "POST" in (http.get("http.request.method"), http.get("http.method"))
    assert parent_service(model) == "router"
    # No message content anywhere.
    for span in receiver.spans:
        assert not any("Project Falcon" in str(v) for v in span["attributes"].values()), span["name"]
    assert {"nextmodel.requests", "nextmodel.request.duration", "gen_ai.client.token.usage", "nextmodel.cost",
            "nextmodel.cache.lookups"} <= receiver.metrics
