"""The OpenAI-compatible family: OpenAI itself and the many providers that speak its protocol."""

from __future__ import annotations

import asyncio
import time

import httpx
import orjson

from nextmodel_router.adapters.base import UpstreamError, UpstreamResult
from nextmodel_router.credentials import Credential

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


class OpenAICompatAdapter:
    def __init__(self, client: httpx.AsyncClient, total_timeout: float) -> None:
        self.client = client
        self.total_timeout = total_timeout

    async def complete(self, provider: str, credential: Credential, upstream_model: str, body: dict) -> UpstreamResult:
        payload = dict(body)
        payload["model"] = upstream_model
        payload.pop("stream", None)
        payload.pop("stream_options", None)
        headers = {"content-type": "application/json"}
        if credential.api_key:
            headers["authorization"] = f"Bearer {credential.api_key}"
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.total_timeout):
                response = await self.client.post(
                    f"{credential.base_url}/chat/completions", content=orjson.dumps(payload), headers=headers
                )
        except (httpx.TimeoutException, TimeoutError):
            raise UpstreamError(provider, "timeout", f"{provider} did not answer in time", retryable=True) from None
        except httpx.TransportError as failure:
            raise UpstreamError(
                provider, "connect", f"could not reach {provider} ({type(failure).__name__})", retryable=True
            ) from None
        latency_ms = int((time.perf_counter() - started) * 1000)
        if response.status_code >= 400:
            raise _http_error(provider, response)
        try:
            answer = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise UpstreamError(provider, "protocol", f"{provider} answered with invalid JSON", retryable=True) from None
        if not isinstance(answer, dict) or not isinstance(answer.get("choices"), list):
            raise UpstreamError(provider, "protocol", f"{provider} answered without choices", retryable=True)
        return UpstreamResult(response=answer, latency_ms=latency_ms)


def _http_error(provider: str, response: httpx.Response) -> UpstreamError:
    detail = ""
    try:
        error = orjson.loads(response.content).get("error")
        if isinstance(error, dict):
            detail = str(error.get("message") or "")
        elif isinstance(error, str):
            detail = error
    except (orjson.JSONDecodeError, AttributeError):
        pass
    retry_after = response.headers.get("retry-after", "")
    message = f"{provider} answered HTTP {response.status_code}" + (f": {detail[:500]}" if detail else "")
    return UpstreamError(
        provider, "http", message, status=response.status_code,
        retryable=response.status_code in RETRYABLE_STATUS,
        retry_after=int(retry_after) if retry_after.isdigit() else 0,
    )
