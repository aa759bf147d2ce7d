"""What every provider adapter offers, and the failures it reports."""

from __future__ import annotations

import asyncio
import functools
import time
import urllib.request
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp
import orjson
from opentelemetry import propagate, trace

from nextmodel_common import telemetry
from nextmodel_router.catalog_copy import ProviderInfo
from nextmodel_router.credentials import Credential

USER_AGENT = "NextModel/0.1"
# No event of a chat stream comes near this; past it the stream is refused, not buffered on.
MAX_SSE_LINE_BYTES = 16 * 1024 * 1024
_tracer = trace.get_tracer("nextmodel.router.http")

# Failures worth another candidate: rate limits, overload, server errors, timeouts.
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


@dataclass(frozen=True)
class ProviderCall:
    """One call to one provider: who, with which credential, for which upstream model id."""

    provider: ProviderInfo
    credential: Credential
    upstream_model: str
    max_output_tokens: int = 0

    @property
    def quirks(self) -> dict:
        return self.provider.quirks


@dataclass(frozen=True)
class UpstreamResult:
    """A complete, successful answer in OpenAI's chat.completion shape."""

    response: dict
    latency_ms: int


class UpstreamError(Exception):
    """A provider call that failed. `retryable` failures may go to the next candidate."""

    def __init__(self, provider: str, kind: str, message: str, *, status: int | None = None,
                 retryable: bool = False, retry_after: int = 0) -> None:
        super().__init__(message)
        self.provider = provider
        self.kind = kind  # "timeout" | "connect" | "http" | "protocol" | "stream"
        self.message = message
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after

    @property
    def outcome(self) -> str:
        return f"http_{self.status}" if self.status else self.kind


class Unsupported(Exception):
    """The request asks for something this provider cannot honour."""

    def __init__(self, provider: str, param: str, reason: str) -> None:
        super().__init__(f"{provider} cannot honour '{param}': {reason}")
        self.provider = provider
        self.param = param
        self.reason = reason


class Adapter(Protocol):
    def check(self, provider: ProviderInfo, body: dict) -> None:
        """Raise Unsupported when the provider cannot honour a parameter of `body`."""

    async def complete(self, call: ProviderCall, body: dict) -> UpstreamResult: ...

    def stream(self, call: ProviderCall, body: dict) -> AsyncIterator[dict]:
        """OpenAI chat.completion.chunk objects, ending when the provider's stream ends."""


def new_http_session(*, connect_timeout: float, first_byte_timeout: float,
                     max_connections: int) -> aiohttp.ClientSession:
    """The router's one pool of upstream connections, kept for its lifetime (call inside the loop).

    aiohttp rather than httpx: its C HTTP parser costs ~0.2 ms of CPU per call here where httpx
    cost ~0.65 ms, and the provider call was most of the router's CPU (bench/perf/README.md).
    `sock_read` bounds every wait for bytes, so it is the time to the first byte and the longest
    pause inside a stream; the adapters bound the whole call with their total timeout.
    """
    return aiohttp.ClientSession(
        # DNS answers live 10 s (aiohttp's default): a provider's failover, or a model server's
        # new pod address, reaches new connections within seconds.
        connector=aiohttp.TCPConnector(limit=max_connections, ttl_dns_cache=10),
        timeout=aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_connect=connect_timeout,
                                      sock_read=first_byte_timeout),
        headers={"user-agent": USER_AGENT},
    )


@functools.lru_cache(maxsize=256)
def env_proxy(url: str) -> str | None:
    """The proxy that HTTP(S)_PROXY / ALL_PROXY / NO_PROXY give for `url`, read once per URL (the
    router calls a handful of URLs), since aiohttp's own `trust_env` rereads them and ~/.netrc on
    every request."""
    target = urlsplit(url)
    # proxy_bypass_environment is in the standard library but not in its type stubs.
    if target.hostname and urllib.request.proxy_bypass_environment(target.hostname):  # type: ignore[attr-defined]
        return None
    proxies = urllib.request.getproxies_environment()
    return proxies.get(target.scheme) or proxies.get("all")


def http_error(provider: str, status: int, content: bytes, headers: Mapping[str, str]) -> UpstreamError:
    """An upstream HTTP error, with the provider's own message when it sent one."""
    detail = ""
    try:
        error = orjson.loads(content).get("error")
        if isinstance(error, dict):
            detail = str(error.get("message") or "")
        elif isinstance(error, str):
            detail = error
    except (orjson.JSONDecodeError, AttributeError):
        pass
    retry_after = headers.get("retry-after", "")
    message = f"{provider} answered HTTP {status}" + (f": {detail[:500]}" if detail else "")
    return UpstreamError(provider, "http", message, status=status, retryable=status in RETRYABLE_STATUS,
                         retry_after=int(retry_after) if retry_after.isdigit() else 0)


def transport_error(provider: str, failure: Exception) -> UpstreamError:
    if isinstance(failure, TimeoutError):  # aiohttp's timeouts are TimeoutErrors too
        return UpstreamError(provider, "timeout", f"{provider} did not answer in time", retryable=True)
    return UpstreamError(provider, "connect", f"could not reach {provider} ({type(failure).__name__})",
                         retryable=True)


async def post_json(session: aiohttp.ClientSession, provider: str, url: str, payload: bytes, headers: dict,
                    total_timeout: float) -> tuple[object, int]:
    """POST and parse the JSON answer: (answer, latency in ms). Transport, HTTP and JSON failures
    become UpstreamError, so every adapter reports them alike."""
    started = time.perf_counter()
    with http_span(url, headers) as span:
        try:
            async with asyncio.timeout(total_timeout):
                async with _post(session, url, payload, headers) as response:
                    status, content = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as failure:
            raise transport_error(provider, failure) from None
        span.set_attribute("http.response.status_code", status)
        if status >= 400:
            span.set_status(trace.Status(trace.StatusCode.ERROR, f"HTTP {status}"))
    if status >= 400:
        raise http_error(provider, status, content, response.headers)
    try:
        answer = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise UpstreamError(provider, "protocol", f"{provider} answered with invalid JSON", retryable=True) from None
    return answer, int((time.perf_counter() - started) * 1000)


async def post_sse(session: aiohttp.ClientSession, provider: str, url: str, payload: bytes, headers: dict,
                   total_timeout: float) -> AsyncGenerator[tuple[str, str], None]:
    """POST and yield the answer's server-sent events; failures become UpstreamError.
    Iterate it inside `contextlib.aclosing`, so stopping early closes the connection at once."""
    with http_span(url, headers) as span:
        try:
            async with asyncio.timeout(total_timeout):
                async with _post(session, url, payload, headers) as response:
                    span.set_attribute("http.response.status_code", response.status)
                    if response.status >= 400:
                        raise http_error(provider, response.status, await response.read(), response.headers)
                    async for event in sse_events(response.content.iter_any()):
                        yield event
        except (aiohttp.ClientError, TimeoutError) as failure:
            raise transport_error(provider, failure) from None
        except LineTooLong as failure:
            raise UpstreamError(provider, "stream", f"{provider} sent {failure}", retryable=True) from None


def _post(session: aiohttp.ClientSession, url: str, payload: bytes, headers: dict):
    """One provider POST as httpx made it: proxies from the environment, redirects not followed."""
    return session.post(url, data=payload, headers=headers, proxy=env_proxy(url), allow_redirects=False)


@contextmanager
def http_span(url: str, headers: dict) -> Iterator[trace.Span]:
    """The client span of one upstream HTTP call, child of the model-call span, with the trace
    context propagated in `headers`. Without telemetry it is the no-op span and costs nothing."""
    if not telemetry.tracing_enabled():
        yield trace.INVALID_SPAN
        return
    target = urlsplit(url)
    attributes: dict[str, str | int] = {
        "http.request.method": "POST", "url.full": url, "server.address": target.hostname or "",
        "server.port": target.port or (443 if target.scheme == "https" else 80)}
    # Not made current: inside an async generator (post_sse) an attached context would be detached
    # in whichever task closes it, leaving the wrong span current there.
    span = _tracer.start_span("POST", kind=trace.SpanKind.CLIENT, attributes=attributes)
    propagate.inject(headers, context=trace.set_span_in_context(span))
    try:
        yield span
    except Exception as failure:
        span.record_exception(failure)
        span.set_status(trace.Status(trace.StatusCode.ERROR, type(failure).__name__))
        raise
    finally:
        span.end()


def event_json(provider: str, data: str) -> dict:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise UpstreamError(provider, "stream", f"{provider} sent a broken stream event", retryable=True) from None


async def sse_events(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[str, str]]:
    """(event, data) pairs of a text/event-stream body; multi-line data is joined by newlines.
    Lines may end in CRLF, LF or CR, as the SSE spec allows, and may be split across chunks."""
    event, data = "", []  # type: str, list[str]
    async for line in _lines(chunks):
        if not line:
            if data:
                yield event or "message", "\n".join(data)
            event, data = "", []
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
        elif line.startswith("event:"):
            event = line[6:].strip()
        # comments (":") and other fields are ignored, as the SSE spec says
    if data:
        yield event or "message", "\n".join(data)


class LineTooLong(ValueError):
    """A stream line past MAX_SSE_LINE_BYTES: a broken or hostile upstream, not an answer."""


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """Decoded lines, in time linear in the bytes (a line's parts are joined once, when it ends).
    Bytes that are not UTF-8 become U+FFFD, as a browser's EventSource does."""
    parts: list[bytes] = []  # the unfinished line
    size = 0
    async for chunk in chunks:
        if b"\n" not in chunk and b"\r" not in chunk:
            parts.append(chunk)
            size += len(chunk)
            if size > MAX_SSE_LINE_BYTES:
                raise LineTooLong(f"a stream line longer than {MAX_SSE_LINE_BYTES} bytes")
            continue
        data = b"".join(parts) + chunk if parts else chunk
        # A CR at the very end may be the first half of a CRLF: keep it for the next chunk.
        held = b"\r" if data.endswith(b"\r") else b""
        lines = (data[:-1] if held else data).splitlines(keepends=True)
        rest = lines.pop() if lines and not lines[-1].endswith((b"\n", b"\r")) else b""
        parts = [rest + held] if rest or held else []
        size = len(rest) + len(held)
        for line in lines:
            yield line.rstrip(b"\r\n").decode(errors="replace")
    tail = b"".join(parts)
    if tail.rstrip(b"\r"):
        yield tail.rstrip(b"\r\n").decode(errors="replace")
