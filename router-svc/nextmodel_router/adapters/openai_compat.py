"""The OpenAI-compatible family: OpenAI, DeepSeek, Qwen, Doubao, Kimi, GLM, MiniMax, Gemini,
Mistral, xAI and the rest. Their differences are data (the provider's `quirks` in the catalog):

- `cached_tokens_field`: where usage reports cached prompt tokens when it is not OpenAI's
  `prompt_tokens_details.cached_tokens` (DeepSeek: `prompt_cache_hit_tokens`; Kimi: `cached_tokens`).
- `stream_usage`: how to get usage on a stream: `stream_options` (ask for the usage chunk),
  `always` (sent without asking), or `none` (never sent: NextModel counts and marks it estimated).
- `max_tokens_field`: the name the provider wants for the output cap (`max_tokens` for providers
  that do not know `max_completion_tokens`).
- `drop_params`: parameters the provider refuses and that cannot change the answer's shape.
- `unsupported_params`: parameters the provider cannot honour; a request using them goes to
  another candidate or gets a 400 naming the provider and the parameter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

import aiohttp
import orjson

from nextmodel_router.adapters.base import (
    ProviderCall,
    Unsupported,
    UpstreamError,
    UpstreamResult,
    event_json,
    post_json,
    post_sse,
)
from nextmodel_router.catalog_copy import ProviderInfo


class OpenAICompatAdapter:
    def __init__(self, client: aiohttp.ClientSession, total_timeout: float) -> None:
        self.client = client
        self.total_timeout = total_timeout

    def check(self, provider: ProviderInfo, body: dict) -> None:
        for param in provider.quirks.get("unsupported_params", ()):
            if body.get(param) not in (None, False):
                raise Unsupported(provider.id, param, "the provider does not support it")

    def _request(self, call: ProviderCall, body: dict, *, stream: bool) -> tuple[str, bytes, dict]:
        quirks = call.quirks
        payload = dict(body)
        payload["model"] = call.upstream_model
        for param in quirks.get("drop_params", ()):
            payload.pop(param, None)
        cap_field = quirks.get("max_tokens_field")
        if cap_field and "max_completion_tokens" in payload and cap_field != "max_completion_tokens":
            payload.setdefault(cap_field, payload.pop("max_completion_tokens"))
        if stream:
            payload["stream"] = True
            options = dict(payload.get("stream_options") or {})
            if quirks.get("stream_usage", "stream_options") == "stream_options":
                options["include_usage"] = True
            if options:
                payload["stream_options"] = options
            else:
                payload.pop("stream_options", None)
        else:
            payload.pop("stream", None)
            payload.pop("stream_options", None)
        headers = {"content-type": "application/json"}
        if call.credential.api_key:
            headers["authorization"] = f"Bearer {call.credential.api_key}"
        return f"{call.credential.base_url}/chat/completions", orjson.dumps(payload), headers

    async def complete(self, call: ProviderCall, body: dict) -> UpstreamResult:
        url, payload, headers = self._request(call, body, stream=False)
        provider = call.provider.id
        answer, latency_ms = await post_json(self.client, provider, url, payload, headers, self.total_timeout)
        if not isinstance(answer, dict) or not isinstance(answer.get("choices"), list):
            raise UpstreamError(provider, "protocol", f"{provider} answered without choices", retryable=True)
        normalise_usage(answer, call.quirks)
        return UpstreamResult(response=answer, latency_ms=latency_ms)

    async def stream(self, call: ProviderCall, body: dict) -> AsyncIterator[dict]:
        url, payload, headers = self._request(call, body, stream=True)
        provider = call.provider.id
        async with aclosing(post_sse(self.client, provider, url, payload, headers, self.total_timeout)) as events:
            async for _event, data in events:
                if data.startswith("[DONE]"):
                    return
                chunk = event_json(provider, data)
                if "error" in chunk and "choices" not in chunk:
                    error = chunk["error"]
                    message = error.get("message", "") if isinstance(error, dict) else str(error)
                    raise UpstreamError(provider, "stream", f"{provider} failed mid-stream: {message}",
                                        retryable=True)
                if chunk.get("usage"):
                    normalise_usage(chunk, call.quirks)
                yield chunk
        # A stream that ends without [DONE] was cut off.
        raise UpstreamError(provider, "stream", f"{provider} ended the stream early", retryable=True)


def normalise_usage(answer: dict, quirks: dict) -> None:
    """Report cached prompt tokens where OpenAI does (prompt_tokens_details.cached_tokens)."""
    usage = answer.get("usage")
    field = quirks.get("cached_tokens_field")
    if not isinstance(usage, dict) or not field:
        return
    cached = usage.get(field)
    if isinstance(cached, int):
        details = usage.get("prompt_tokens_details")
        if not isinstance(details, dict):
            details = usage["prompt_tokens_details"] = {}
        details.setdefault("cached_tokens", cached)
