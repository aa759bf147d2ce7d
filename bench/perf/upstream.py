"""A fast fake OpenAI-compatible upstream for the benchmark: a raw asyncio Protocol on uvloop.

It parses just enough HTTP/1.1 (keep-alive, Content-Length or chunked request bodies) to answer
`POST .../chat/completions` with a chat.completion (usage included), or, for `"stream": true`,
with SSE chunks (a usage chunk when `stream_options.include_usage` is set) and `data: [DONE]`.
`GET /stats` returns how many completions and streams it has answered, so the harness can check
which phases reached the upstream (fresh) and which did not (cache hits).

It must never be the bottleneck: one process answers tens of thousands of requests per second
on one core (the harness measures it alone first and reports that ceiling).

Usage: python bench/perf/upstream.py [--host 127.0.0.1] [--port 0] [--stream-chunks 10] [--stream-gap-ms 1]
Prints `READY <port>` on stdout once it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

import orjson

try:
    import uvloop
except ImportError:  # pragma: no cover - the project pins uvloop on Linux
    uvloop = None

CREATED = 1764288000
ANSWER_WORDS = ["This", "is", "a", "benchmark", "answer", "from", "the", "fake", "upstream", "."]


class Stats:
    completions = 0
    streams = 0
    bad = 0


def _chunk(payload: bytes) -> bytes:
    """One HTTP/1.1 chunk holding one SSE event."""
    event = b"data: " + payload + b"\n\n"
    return b"%x\r\n%s\r\n" % (len(event), event)


def _usage(body_len: int) -> dict:
    prompt = max(8, body_len // 8)
    return {"prompt_tokens": prompt, "completion_tokens": len(ANSWER_WORDS),
            "total_tokens": prompt + len(ANSWER_WORDS)}


class Upstream(asyncio.Protocol):
    chunks = len(ANSWER_WORDS)
    gap = 0.001

    __slots__ = ("transport", "buf", "streaming", "closing")

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.streaming = False
        self.closing = False

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.streaming:
            self._drain()

    # -- HTTP parsing ------------------------------------------------------------------------
    def _drain(self) -> None:
        while self.transport is not None and not self.streaming and not self.closing:
            buf = self.buf
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).lower()
            start = end + 4
            length = 0
            body: bytes
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17: stop if stop >= 0 else len(head)])
                if len(buf) < start + length:
                    return
                body = bytes(buf[start:start + length])
                del buf[:start + length]
            elif b"\r\ntransfer-encoding: chunked" in head:
                decoded = self._dechunk(start)
                if decoded is None:
                    return
                body, consumed = decoded
                del buf[:consumed]
            else:
                body = b""
                del buf[:start]
            keep_alive = not (b"\r\nconnection: close" in head or head.split(b"\r\n", 1)[0].endswith(b"http/1.0"))
            self._handle(head, body, keep_alive)

    def _dechunk(self, start: int) -> tuple[bytes, int] | None:
        buf = self.buf
        pos, out = start, bytearray()
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                return None
            size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
            pos = eol + 2
            if size == 0:
                end = buf.find(b"\r\n", pos)  # trailers are not expected; skip to the blank line
                if end < 0:
                    return None
                return bytes(out), end + 2
            if len(buf) < pos + size + 2:
                return None
            out += buf[pos:pos + size]
            pos += size + 2

    # -- answers -----------------------------------------------------------------------------
    def _handle(self, head: bytes, body: bytes, keep_alive: bool) -> None:
        line = head.split(b"\r\n", 1)[0]
        parts = line.split(b" ")
        method, path = parts[0], parts[1] if len(parts) > 1 else b"/"
        if method == b"post" and path.split(b"?", 1)[0].endswith(b"/chat/completions"):
            try:
                request = orjson.loads(body)
            except orjson.JSONDecodeError:
                Stats.bad += 1
                self._send(400, b'{"error":{"message":"bad json","type":"invalid_request_error"}}', keep_alive)
                return
            if request.get("stream"):
                self._stream(request, len(body), keep_alive)
            else:
                self._complete(request, len(body), keep_alive)
        elif method == b"get" and path.startswith(b"/stats"):
            self._send(200, orjson.dumps({"completions": Stats.completions, "streams": Stats.streams,
                                          "bad": Stats.bad, "pid": os.getpid()}), keep_alive)
        elif method == b"get" and path.endswith(b"/models"):
            self._send(200, b'{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","owned_by":"bench"}]}',
                       keep_alive)
        else:
            Stats.bad += 1
            self._send(404, b'{"error":{"message":"not found","type":"invalid_request_error"}}', keep_alive)

    def _send(self, status: int, payload: bytes, keep_alive: bool) -> None:
        reason = {200: b"OK", 400: b"Bad Request", 404: b"Not Found"}[status]
        assert self.transport is not None
        self.transport.write(b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n%s"
                             % (status, reason, len(payload),
                                b"" if keep_alive else b"connection: close\r\n", payload))
        if not keep_alive:
            self.closing = True
            self.transport.close()

    def _complete(self, request: dict, body_len: int, keep_alive: bool) -> None:
        Stats.completions += 1
        payload = orjson.dumps({
            "id": f"chatcmpl-bench-{Stats.completions}", "object": "chat.completion", "created": CREATED,
            "model": request.get("model") or "gpt-4o-mini", "system_fingerprint": "fp_bench",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": " ".join(ANSWER_WORDS),
                                                 "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": _usage(body_len),
        })
        self._send(200, payload, keep_alive)

    def _stream(self, request: dict, body_len: int, keep_alive: bool) -> None:
        Stats.streams += 1
        base = {"id": f"chatcmpl-bench-s{Stats.streams}", "object": "chat.completion.chunk", "created": CREATED,
                "model": request.get("model") or "gpt-4o-mini", "system_fingerprint": "fp_bench"}
        words = ANSWER_WORDS[:max(1, self.chunks)]
        events = []
        for index, word in enumerate(words):
            delta = {"role": "assistant", "content": word} if index == 0 else {"content": " " + word}
            events.append(_chunk(orjson.dumps({**base, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                                                   "finish_reason": None}]})))
        events.append(_chunk(orjson.dumps({**base, "choices": [{"index": 0, "delta": {}, "logprobs": None,
                                                               "finish_reason": "stop"}]})))
        if (request.get("stream_options") or {}).get("include_usage"):
            events.append(_chunk(orjson.dumps({**base, "choices": [], "usage": _usage(body_len)})))
        events.append(_chunk(b"[DONE]") + b"0\r\n\r\n")
        head = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
                b"transfer-encoding: chunked\r\n%s\r\n" % (b"" if keep_alive else b"connection: close\r\n"))
        assert self.transport is not None
        self.transport.write(head + events[0])
        if self.gap <= 0:
            self.transport.write(b"".join(events[1:]))
            self._stream_done(keep_alive)
            return
        self.streaming = True
        loop = asyncio.get_running_loop()

        def step(index: int) -> None:
            if self.transport is None:
                return
            self.transport.write(events[index])
            if index + 1 < len(events):
                loop.call_later(self.gap, step, index + 1)
            else:
                self.streaming = False
                self._stream_done(keep_alive)

        loop.call_later(self.gap, step, 1)

    def _stream_done(self, keep_alive: bool) -> None:
        if not keep_alive and self.transport is not None:
            self.closing = True
            self.transport.close()
        elif self.buf:
            self._drain()


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Upstream, host, port, backlog=4096, reuse_address=True)
    bound = server.sockets[0].getsockname()[1]
    print(f"READY {bound}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--stream-chunks", type=int, default=len(ANSWER_WORDS),
                        help="content chunks per streamed answer (max %(default)s)")
    parser.add_argument("--stream-gap-ms", type=float, default=1.0,
                        help="pause between streamed chunks, so a buffering gateway shows in TTFT")
    args = parser.parse_args(argv)
    Upstream.chunks = min(args.stream_chunks, len(ANSWER_WORDS))
    Upstream.gap = args.stream_gap_ms / 1000.0
    if uvloop is not None:
        uvloop.run(serve(args.host, args.port))
    else:
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    sys.exit(main())
