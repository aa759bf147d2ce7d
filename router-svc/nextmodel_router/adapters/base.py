"""What every provider adapter offers, and the failures it reports."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import httpx
import orjson

from nextmodel_router.catalog_copy import ProviderInfo
from nextmodel_router.credentials import Credential

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


def http_error(provider: str, status: int, content: bytes, headers: httpx.Headers) -> UpstreamError:
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
    if isinstance(failure, (httpx.TimeoutException, TimeoutError)):
        return UpstreamError(provider, "timeout", f"{provider} did not answer in time", retryable=True)
    return UpstreamError(provider, "connect", f"could not reach {provider} ({type(failure).__name__})",
                         retryable=True)


async def post_json(client: httpx.AsyncClient, provider: str, url: str, payload: bytes, headers: dict,
                    total_timeout: float) -> tuple[object, int]:
    """POST and parse the JSON answer: (answer, latency in ms). Transport, HTTP and JSON failures
    become UpstreamError, so every adapter reports them alike."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(total_timeout):
            response = await client.post(url, content=payload, headers=headers)
    except (httpx.TransportError, TimeoutError) as failure:
        raise transport_error(provider, failure) from None
    if response.status_code >= 400:
        raise http_error(provider, response.status_code, response.content, response.headers)
    try:
        answer = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise UpstreamError(provider, "protocol", f"{provider} answered with invalid JSON", retryable=True) from None
    return answer, int((time.perf_counter() - started) * 1000)


async def post_sse(client: httpx.AsyncClient, provider: str, url: str, payload: bytes, headers: dict,
                   total_timeout: float) -> AsyncIterator[tuple[str, str]]:
    """POST and yield the answer's server-sent events; failures become UpstreamError.
    Iterate it inside `contextlib.aclosing`, so stopping early closes the connection at once."""
    try:
        async with asyncio.timeout(total_timeout):
            async with client.stream("POST", url, content=payload, headers=headers) as response:
                if response.status_code >= 400:
                    raise http_error(provider, response.status_code, await response.aread(), response.headers)
                async for event in sse_events(response):
                    yield event
    except (httpx.TransportError, TimeoutError) as failure:
        raise transport_error(provider, failure) from None


def event_json(provider: str, data: str) -> dict:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise UpstreamError(provider, "stream", f"{provider} sent a broken stream event", retryable=True) from None


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, str]]:
    """(event, data) pairs of a text/event-stream body; multi-line data is joined by newlines."""
    event, data = "", []
    async for line in response.aiter_lines():
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
