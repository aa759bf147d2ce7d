"""A fake OpenAI-compatible provider on loopback, for tests and the benchmark.

It speaks the real wire protocol (POST /v1/chat/completions, JSON in and out, OpenAI
error bodies) so the gateway's adapter is exercised exactly as against a provider.
Behaviour is scripted per test through `FakeUpstream.fail_next(...)`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Scripted:
    status: int = 200
    delay: float = 0.0
    body: dict | None = None


@dataclass
class FakeUpstream:
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[dict] = field(default_factory=list)
    headers: list[dict] = field(default_factory=list)
    script: deque = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                raw = self.rfile.read(length)
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                body = json.loads(raw)
                with fake.lock:
                    fake.requests.append(body)
                    fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                    step = fake.script.popleft() if fake.script else Scripted()
                if step.delay:
                    time.sleep(step.delay)
                if step.status != 200:
                    return self._send(step.status, step.body or {
                        "error": {"message": f"scripted failure {step.status}", "type": "server_error",
                                  "param": None, "code": None}})
                return self._send(200, step.body or fake.answer(body))

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> "FakeUpstream":
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

    @property
    def calls(self) -> int:
        with self.lock:
            return len(self.requests)

    @staticmethod
    def answer(request: dict) -> dict:
        """A deterministic answer whose usage is derived from the request, like a real model's."""
        last = request["messages"][-1].get("content")
        text = last if isinstance(last, str) else json.dumps(last)
        content = f"echo: {text}"
        prompt_tokens = sum(len(str(m.get("content", "")).split()) + 4 for m in request["messages"])
        completion_tokens = len(content.split())
        return {
            "id": "chatcmpl-fake0001",
            "object": "chat.completion",
            "created": 1764288000,
            "model": request["model"],
            "system_fingerprint": "fp_fake",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        }
