"""A fake model provider on loopback that speaks the real wire protocols, for tests and benchmarks.

- OpenAI-compatible chat completions at `/<provider>/v1/chat/completions`, JSON or SSE
  streaming (with the usage chunk only when `stream_options.include_usage` asks for it);
  DeepSeek and Kimi report cached tokens under their own field names, as they do.
- Anthropic Messages at `/anthropic/v1/messages`, JSON or named SSE events.

Answers are deterministic and derived from the request: an echo of the last user message,
a tool call when tools are offered, a final answer after a tool result, a JSON object when a
JSON response format is asked for. Failures are scripted per test (`fail_next`,
`delay_next`, `break_next_stream`, `slow_next_stream`, `reset_next`), `latency` slows every
unscripted answer (steady traffic for drain tests), and the fake records what it received
and which streams the client abandoned.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CACHED_TOKEN_FIELDS = {"deepseek": "prompt_cache_hit_tokens", "moonshot": "cached_tokens"}
# Providers whose streams carry usage on the last chunk without being asked.
USAGE_ALWAYS = {"mistral"}
FAKE_CACHED_TOKENS = 2  # what DeepSeek/Kimi paths report as a prompt-cache hit


@dataclass
class Scripted:
    status: int = 200
    delay: float = 0.0
    body: dict | None = None
    break_after: int | None = None  # stream: close the connection after this many events
    chunk_delay: float = 0.0
    reset: bool = False  # read the request, then reset the connection without answering


@dataclass
class Received:
    provider: str
    body: dict
    headers: dict


def _words(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _sample_for(schema: dict):
    """A value that satisfies a simple JSON schema (objects, arrays, scalars, enums)."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        return {name: _sample_for(sub) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [_sample_for(schema.get("items") or {"type": "string"})]
    return {"string": "Riyadh", "integer": 42, "number": 3.75, "boolean": True, "null": None}.get(kind, "x")


def answer_for(body: dict) -> dict:
    """What the fake model says: {content, tool_calls, finish_reason}."""
    messages = body["messages"]
    last = messages[-1]
    tools = body.get("tools") or []
    if last.get("role") == "tool":
        return {"content": f"The tool said: {_words(last.get('content'))}", "tool_calls": [], "finish_reason": "stop"}
    if tools and body.get("tool_choice") != "none":
        tool = tools[0]["function"]
        arguments = json.dumps(_sample_for(tool.get("parameters") or {}), ensure_ascii=False)
        return {"content": None, "finish_reason": "tool_calls",
                "tool_calls": [{"id": "call_fake_1", "type": "function",
                                "function": {"name": tool["name"], "arguments": arguments}}]}
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {}
        return {"content": json.dumps(_sample_for(schema), ensure_ascii=False), "tool_calls": [],
                "finish_reason": "stop"}
    if response_format.get("type") == "json_object":
        return {"content": json.dumps({"echo": _words(last.get("content"))}, ensure_ascii=False), "tool_calls": [],
                "finish_reason": "stop"}
    return {"content": f"echo: {_words(last.get('content'))}", "tool_calls": [], "finish_reason": "stop"}


def prompt_tokens_of(messages: list[dict]) -> int:
    return sum(len(_words(m.get("content") or "").split()) + 4 for m in messages)


def completion_tokens_of(answer: dict) -> int:
    return len((answer["content"] or "").split()) + sum(
        len(call["function"]["arguments"].split()) + 3 for call in answer["tool_calls"])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: a router opening many connections at once (a fresh
    # pool after a restart) would overflow it, and the kernel then resets a connection the client
    # already counts as open. A real provider's load balancer does not do that.
    request_queue_size = 512


@dataclass
class FakeUpstream:
    host: str = "127.0.0.1"
    port: int = 0
    received: list[Received] = field(default_factory=list)
    script: deque = field(default_factory=deque)
    abandoned_streams: int = 0
    completed_streams: int = 0
    reset_connections: int = 0
    # Seconds every unscripted answer waits before its first byte (tests set it back to 0).
    latency: float = 0.0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                parts = self.path.strip("/").split("/")
                provider = parts[0] if parts else ""
                is_anthropic = self.path.endswith("/v1/messages")
                if not (is_anthropic or self.path.endswith("/chat/completions")):
                    return self._json(404, {"error": {"message": f"no route {self.path}"}})
                body = json.loads(raw)
                with fake.lock:
                    fake.received.append(Received(provider, body, {k.lower(): v for k, v in self.headers.items()}))
                    step = fake.script.popleft() if fake.script else Scripted(delay=fake.latency)
                if step.reset:
                    return self._reset()
                if step.delay:
                    time.sleep(step.delay)
                if step.status != 200:
                    return self._json(step.status, step.body or fake.error_body(is_anthropic, step.status))
                if is_anthropic:
                    return self._anthropic(body, step)
                return self._openai(provider, body, step)

            # -- OpenAI-compatible ----------------------------------------------------
            def _openai(self, provider: str, body: dict, step: Scripted) -> None:
                answer = answer_for(body)
                usage = fake.openai_usage(provider, body, answer)
                if not body.get("stream"):
                    message = {"role": "assistant", "content": answer["content"], "refusal": None}
                    if answer["tool_calls"]:
                        message["tool_calls"] = answer["tool_calls"]
                    return self._json(200, step.body or {
                        "id": "chatcmpl-fake", "object": "chat.completion", "created": 1764288000,
                        "model": body["model"], "system_fingerprint": "fp_fake",
                        "choices": [{"index": 0, "message": message, "logprobs": None,
                                     "finish_reason": answer["finish_reason"]}],
                        "usage": usage,
                    })
                base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1764288000,
                        "model": body["model"], "system_fingerprint": "fp_fake"}

                def chunk(delta: dict, finish: str | None = None) -> dict:
                    return {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                                 "finish_reason": finish}]}

                events = [chunk({"role": "assistant", "content": ""})]
                if answer["content"]:
                    for word in answer["content"].split(" "):
                        events.append(chunk({"content": word if len(events) == 1 else " " + word}))
                for index, call in enumerate(answer["tool_calls"]):
                    events.append(chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                                         "function": {"name": call["function"]["name"],
                                                                      "arguments": ""}}]}))
                    arguments = call["function"]["arguments"]
                    for start in range(0, len(arguments), 7):
                        events.append(chunk({"tool_calls": [{"index": index,
                                                             "function": {"arguments": arguments[start:start + 7]}}]}))
                if provider in USAGE_ALWAYS:
                    events.append({**chunk({}, answer["finish_reason"]), "usage": usage})
                else:
                    events.append(chunk({}, answer["finish_reason"]))
                if (body.get("stream_options") or {}).get("include_usage") and provider not in USAGE_ALWAYS:
                    events.append({**base, "choices": [], "usage": usage})
                self._sse([("", json.dumps(e, ensure_ascii=False)) for e in events] + [("", "[DONE]")], step)

            # -- Anthropic --------------------------------------------------------------
            def _anthropic(self, body: dict, step: Scripted) -> None:
                openai_like = {"messages": fake.anthropic_to_plain(body), "tools": [
                    {"type": "function", "function": {"name": t["name"], "parameters": t.get("input_schema")}}
                    for t in body.get("tools") or ()]}
                fmt = (body.get("output_config") or {}).get("format")
                if fmt:
                    openai_like["response_format"] = {"type": "json_schema", "json_schema": {"schema": fmt["schema"]}}
                if (body.get("tool_choice") or {}).get("type") == "none":
                    openai_like["tool_choice"] = "none"
                answer = answer_for(openai_like)
                blocks = []
                if answer["content"]:
                    blocks.append({"type": "text", "text": answer["content"]})
                for call in answer["tool_calls"]:
                    blocks.append({"type": "tool_use", "id": "toolu_fake_1", "name": call["function"]["name"],
                                   "input": json.loads(call["function"]["arguments"])})
                usage = {"input_tokens": prompt_tokens_of(openai_like["messages"]) - 3,
                         "cache_read_input_tokens": 2, "cache_creation_input_tokens": 1,
                         "output_tokens": completion_tokens_of(answer)}
                stop = "tool_use" if answer["tool_calls"] else "end_turn"
                if not body.get("stream"):
                    return self._json(200, step.body or {
                        "id": "msg_fake", "type": "message", "role": "assistant", "model": body["model"],
                        "content": blocks, "stop_reason": stop, "stop_sequence": None, "usage": usage})
                start_usage = {k: usage[k] for k in ("input_tokens", "cache_read_input_tokens",
                                                     "cache_creation_input_tokens")} | {"output_tokens": 1}
                events = [("message_start", {"type": "message_start", "message": {
                    "id": "msg_fake", "type": "message", "role": "assistant", "model": body["model"], "content": [],
                    "stop_reason": None, "usage": start_usage}}), ("ping", {"type": "ping"})]
                for index, block in enumerate(blocks):
                    if block["type"] == "text":
                        events.append(("content_block_start", {"type": "content_block_start", "index": index,
                                                               "content_block": {"type": "text", "text": ""}}))
                        for word_index, word in enumerate(block["text"].split(" ")):
                            events.append(("content_block_delta", {
                                "type": "content_block_delta", "index": index,
                                "delta": {"type": "text_delta", "text": word if word_index == 0 else " " + word}}))
                    else:
                        events.append(("content_block_start", {"type": "content_block_start", "index": index,
                                                               "content_block": {**block, "input": {}}}))
                        arguments = json.dumps(block["input"], ensure_ascii=False)
                        for start in range(0, len(arguments), 7):
                            events.append(("content_block_delta", {
                                "type": "content_block_delta", "index": index,
                                "delta": {"type": "input_json_delta", "partial_json": arguments[start:start + 7]}}))
                    events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
                events.append(("message_delta", {"type": "message_delta",
                                                 "delta": {"stop_reason": stop, "stop_sequence": None},
                                                 "usage": {"output_tokens": usage["output_tokens"]}}))
                events.append(("message_stop", {"type": "message_stop"}))
                self._sse([(name, json.dumps(data, ensure_ascii=False)) for name, data in events], step)

            # -- wire helpers -------------------------------------------------------------
            def _reset(self) -> None:
                # SO_LINGER 0: closing sends RST instead of FIN, as a crashed or cut-off peer does.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()  # the descriptor goes when the handler's reader closes
                with fake.lock:
                    fake.reset_connections += 1

            def _json(self, status: int, payload: dict) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up waiting (a timeout test)

            def _sse(self, events: list[tuple[str, str]], step: Scripted) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                self.close_connection = True
                try:
                    for count, (name, data) in enumerate(events):
                        if step.break_after is not None and count >= step.break_after:
                            return  # connection closes without the end of the stream
                        frame = (f"event: {name}\n" if name else "") + f"data: {data}\n\n"
                        self.wfile.write(frame.encode())
                        self.wfile.flush()
                        if step.chunk_delay:
                            time.sleep(step.chunk_delay)
                except (BrokenPipeError, ConnectionResetError):
                    with fake.lock:
                        fake.abandoned_streams += 1
                    return
                with fake.lock:
                    fake.completed_streams += 1

        self.server = _Server((self.host, self.port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- control from tests --------------------------------------------------------------

    def base_url(self, provider: str = "openai") -> str:
        if provider == "anthropic":
            return f"http://{self.host}:{self.port}/anthropic"
        return f"http://{self.host}:{self.port}/{provider}/v1"

    def start(self) -> FakeUpstream:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, status: int, *, delay: float = 0.0, body: dict | None = None) -> None:
        with self.lock:
            self.script.append(Scripted(status=status, delay=delay, body=body))

    def delay_next(self, seconds: float) -> None:
        with self.lock:
            self.script.append(Scripted(delay=seconds))

    def break_next_stream(self, after_events: int) -> None:
        with self.lock:
            self.script.append(Scripted(break_after=after_events))

    def slow_next_stream(self, seconds_per_event: float) -> None:
        with self.lock:
            self.script.append(Scripted(chunk_delay=seconds_per_event))

    def reset_next(self) -> None:
        """The next request is read, then its connection is reset (RST) with no answer at all."""
        with self.lock:
            self.script.append(Scripted(reset=True))

    @property
    def calls(self) -> int:
        with self.lock:
            return len(self.received)

    @property
    def last(self) -> Received:
        with self.lock:
            return self.received[-1]

    # -- protocol details -------------------------------------------------------------------

    @staticmethod
    def error_body(anthropic: bool, status: int) -> dict:
        if anthropic:
            kind = "overloaded_error" if status == 529 else "api_error"
            return {"type": "error", "error": {"type": kind, "message": f"scripted failure {status}"}}
        return {"error": {"message": f"scripted failure {status}", "type": "server_error", "param": None,
                          "code": None}}

    @staticmethod
    def openai_usage(provider: str, body: dict, answer: dict) -> dict:
        prompt = prompt_tokens_of(body["messages"])
        completion = completion_tokens_of(answer)
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        field_name = CACHED_TOKEN_FIELDS.get(provider)
        if field_name == "prompt_cache_hit_tokens":
            usage.update(prompt_cache_hit_tokens=FAKE_CACHED_TOKENS,
                         prompt_cache_miss_tokens=prompt - FAKE_CACHED_TOKENS)
        elif field_name:
            usage[field_name] = FAKE_CACHED_TOKENS
        else:
            usage["prompt_tokens_details"] = {"cached_tokens": 0}
            usage["completion_tokens_details"] = {"reasoning_tokens": 0}
        return usage

    @staticmethod
    def expected_usage(body: dict) -> dict:
        """The usage the fake reports for an OpenAI-shaped request."""
        answer = answer_for(body)
        return {"prompt_tokens": prompt_tokens_of(body["messages"]), "completion_tokens": completion_tokens_of(answer)}

    @staticmethod
    def anthropic_to_plain(body: dict) -> list[dict]:
        """Anthropic messages back to plain role/content pairs, to derive the same answers."""
        plain = []
        if body.get("system"):
            plain.append({"role": "system", "content": " ".join(b["text"] for b in body["system"])})
        for message in body["messages"]:
            blocks = message["content"] if isinstance(message["content"], list) else [
                {"type": "text", "text": message["content"]}]
            results = [b for b in blocks if b["type"] == "tool_result"]
            if results:
                plain.append({"role": "tool", "content": results[-1]["content"]})
                continue
            text = " ".join(b.get("text", "") for b in blocks if b["type"] == "text")
            plain.append({"role": message["role"], "content": text})
        return plain
