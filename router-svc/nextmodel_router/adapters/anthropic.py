"""Anthropic's native Messages API, translated both ways from and to OpenAI chat completions.

Anthropic's own OpenAI-compatible layer ignores response_format and prompt caching, so the
gateway speaks Messages and translates: system messages, images, tools and tool results,
tool_choice, JSON schema output, stop reasons, usage with cache reads and writes, the
streaming events, and errors (529 overloaded is retryable).
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

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

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
JSON_OBJECT_INSTRUCTION = "Respond with a single valid JSON object and nothing else."

STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def _text_of(content) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or () if isinstance(part, dict))


def _image_block(part: dict, param: str) -> dict:
    url = (part.get("image_url") or {}).get("url", "")
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        media_type = header[5:].split(";")[0] or "image/png"
        if ";base64" not in header:
            data = base64.b64encode(data.encode()).decode()
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    if url.startswith(("http://", "https://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise Unsupported("anthropic", param, "images must be https:// or data: URLs")


def _content_blocks(content, param: str) -> list[dict] | str:
    if isinstance(content, str) or content is None:
        return content or ""
    blocks = []
    for index, part in enumerate(content):
        kind = part.get("type")
        if kind == "text":
            blocks.append({"type": "text", "text": part.get("text", "")})
        elif kind == "image_url":
            blocks.append(_image_block(part, f"{param}[{index}]"))
        else:
            raise Unsupported("anthropic", f"{param}[{index}].type", f"content parts of type {kind!r}")
    return blocks


def _messages(openai_messages: list[dict]) -> tuple[list[dict], list[dict]]:
    """(system blocks, messages), merging consecutive turns of one role as Anthropic requires."""
    system: list[dict] = []
    messages: list[dict] = []

    def append(role: str, blocks: list[dict]) -> None:
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": role, "content": blocks})

    for index, message in enumerate(openai_messages):
        role = message.get("role")
        param = f"messages[{index}].content"
        if role in ("system", "developer"):
            system.append({"type": "text", "text": _text_of(message.get("content"))})
        elif role == "user":
            content = _content_blocks(message.get("content"), param)
            append("user", [{"type": "text", "text": content}] if isinstance(content, str) else content)
        elif role == "assistant":
            blocks: list[dict[str, Any]] = []
            text = _text_of(message.get("content"))
            if text:
                blocks.append({"type": "text", "text": text})
            for call in message.get("tool_calls") or ():
                function = call.get("function") or {}
                try:
                    arguments = orjson.loads(function.get("arguments") or "{}")
                except orjson.JSONDecodeError:
                    arguments = {"_raw": function.get("arguments")}
                blocks.append({"type": "tool_use", "id": call.get("id"), "name": function.get("name"),
                               "input": arguments})
            append("assistant", blocks or [{"type": "text", "text": ""}])
        elif role == "tool":
            append("user", [{"type": "tool_result", "tool_use_id": message.get("tool_call_id"),
                             "content": _text_of(message.get("content"))}])
        else:
            raise Unsupported("anthropic", f"messages[{index}].role", f"role {role!r}")
    return system, messages


def _tool_choice(choice, parallel: bool | None) -> dict | None:
    if choice is None and parallel is None:
        return None
    result: dict[str, Any]
    if choice in (None, "auto"):
        result = {"type": "auto"}
    elif choice == "required":
        result = {"type": "any"}
    elif choice == "none":
        return {"type": "none"}
    elif isinstance(choice, dict) and choice.get("type") == "function":
        result = {"type": "tool", "name": (choice.get("function") or {}).get("name")}
    else:
        raise Unsupported("anthropic", "tool_choice", f"tool_choice {choice!r}")
    if parallel is False:
        result["disable_parallel_tool_use"] = True
    return result


def to_anthropic(body: dict, upstream_model: str, max_output_tokens: int | None = None) -> dict:
    system, messages = _messages(body["messages"])
    request: dict = {
        "model": upstream_model,
        "messages": messages,
        "max_tokens": body.get("max_completion_tokens") or body.get("max_tokens")
        or max_output_tokens or DEFAULT_MAX_TOKENS,
    }
    for name in ("temperature", "top_p", "top_k"):
        if body.get(name) is not None:
            request[name] = body[name]
    stop = body.get("stop")
    if stop:
        request["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    tools = []
    for index, tool in enumerate(body.get("tools") or ()):
        if tool.get("type") != "function":
            raise Unsupported("anthropic", f"tools[{index}].type", f"tools of type {tool.get('type')!r}")
        function = tool["function"]
        converted = {"name": function["name"],
                     "input_schema": function.get("parameters") or {"type": "object", "properties": {}}}
        if function.get("description"):
            converted["description"] = function["description"]
        if function.get("strict") is not None:
            converted["strict"] = function["strict"]
        tools.append(converted)
    if tools:
        request["tools"] = tools
    choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
    if choice and (tools or choice["type"] == "none"):
        request["tool_choice"] = choice
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {"type": "object"}
        request.setdefault("output_config", {})["format"] = {"type": "json_schema", "schema": schema}
    elif response_format.get("type") == "json_object":
        # Messages has no schemaless JSON mode: say it in the system prompt.
        system.append({"type": "text", "text": JSON_OBJECT_INSTRUCTION})
    effort = body.get("reasoning_effort")
    if effort and effort not in ("none", "minimal"):
        request.setdefault("output_config", {})["effort"] = effort
    identifier = body.get("safety_identifier") or body.get("user")
    if identifier:
        request["metadata"] = {"user_id": identifier}
    if system:
        request["system"] = system
    return request


def openai_usage(usage: dict) -> dict:
    """Anthropic's input_tokens excludes cache reads and writes; OpenAI's prompt_tokens includes them."""
    read = usage.get("cache_read_input_tokens") or 0
    written = usage.get("cache_creation_input_tokens") or 0
    prompt = (usage.get("input_tokens") or 0) + read + written
    completion = usage.get("output_tokens") or 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": read, "cache_write_tokens": written},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def from_anthropic(message: dict) -> dict:
    text, reasoning, tool_calls = [], [], []
    for block in message.get("content") or ():
        kind = block.get("type")
        if kind == "text":
            text.append(block.get("text", ""))
        elif kind == "thinking":
            reasoning.append(block.get("thinking", ""))
        elif kind == "tool_use":
            tool_calls.append({"id": block.get("id"), "type": "function",
                               "function": {"name": block.get("name"),
                                            "arguments": orjson.dumps(block.get("input") or {}).decode()}})
    reply: dict = {"role": "assistant", "content": "".join(text) if text or not tool_calls else None,
                   "refusal": None}
    if reasoning:
        reply["reasoning_content"] = "".join(reasoning)
    if tool_calls:
        reply["tool_calls"] = tool_calls
    return {
        "id": f"chatcmpl-{message.get('id', '')}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": message.get("model", ""),
        "choices": [{"index": 0, "message": reply, "logprobs": None,
                     "finish_reason": STOP_REASONS.get(message.get("stop_reason") or "end_turn", "stop")}],
        "usage": openai_usage(message.get("usage") or {}),
    }


class AnthropicAdapter:
    def __init__(self, client: aiohttp.ClientSession, total_timeout: float) -> None:
        self.client = client
        self.total_timeout = total_timeout

    def check(self, provider: ProviderInfo, body: dict) -> None:
        if (body.get("n") or 1) > 1:
            raise Unsupported(provider.id, "n", "it returns one choice per request")
        for param in ("logprobs", "top_logprobs", "logit_bias"):
            if body.get(param) not in (None, False):
                raise Unsupported(provider.id, param, "the Messages API has no log probabilities or biases")
        for param in ("frequency_penalty", "presence_penalty"):
            if body.get(param) not in (None, 0):
                raise Unsupported(provider.id, param, "the Messages API has no penalties")
        to_anthropic(body, "check")  # raises Unsupported for content it cannot carry

    def _request(self, call: ProviderCall, body: dict, *, stream: bool) -> tuple[str, bytes, dict]:
        request = to_anthropic(body, call.upstream_model, call.max_output_tokens)
        if stream:
            request["stream"] = True
        headers = {"content-type": "application/json", "anthropic-version": ANTHROPIC_VERSION}
        if call.credential.api_key:
            headers["x-api-key"] = call.credential.api_key
        base = call.credential.base_url
        url = f"{base}/messages" if base.endswith("/v1") else f"{base}/v1/messages"
        return url, orjson.dumps(request), headers

    async def complete(self, call: ProviderCall, body: dict) -> UpstreamResult:
        url, payload, headers = self._request(call, body, stream=False)
        message, latency_ms = await post_json(self.client, call.provider.id, url, payload, headers,
                                              self.total_timeout)
        if not isinstance(message, dict):
            raise UpstreamError(call.provider.id, "protocol", f"{call.provider.id} answered without a message",
                                retryable=True)
        return UpstreamResult(response=from_anthropic(message), latency_ms=latency_ms)

    async def stream(self, call: ProviderCall, body: dict) -> AsyncIterator[dict]:
        url, payload, headers = self._request(call, body, stream=True)
        provider = call.provider.id
        # Always emit the usage chunk; the router decides whether the client sees it.
        translator = StreamTranslator(include_usage=True)
        async with aclosing(post_sse(self.client, provider, url, payload, headers, self.total_timeout)) as events:
            async for event, data in events:
                payload_event = event_json(provider, data)
                kind = payload_event.get("type", event)
                if kind == "error":
                    error = payload_event.get("error") or {}
                    overloaded = error.get("type") == "overloaded_error"
                    raise UpstreamError(provider, "stream", f"{provider} failed mid-stream: {error.get('message', '')}",
                                        status=529 if overloaded else None, retryable=True)
                for chunk in translator.feed(kind, payload_event):
                    yield chunk
                if kind == "message_stop":
                    return
        raise UpstreamError(provider, "stream", f"{provider} ended the stream early", retryable=True)


class StreamTranslator:
    """Anthropic stream events → OpenAI chat.completion.chunk objects."""

    def __init__(self, include_usage: bool) -> None:
        self.include_usage = include_usage
        self.id = ""
        self.model = ""
        self.created = int(time.time())
        self.usage: dict = {}
        self.tool_index: dict[int, int] = {}  # Anthropic block index → OpenAI tool_calls index

    def _chunk(self, delta: dict | None, finish_reason: str | None = None, usage: dict | None = None) -> dict:
        chunk = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                 "choices": [] if delta is None else
                 [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
        if usage is not None:
            chunk["usage"] = usage
        return chunk

    def feed(self, kind: str, event: dict) -> list[dict]:
        if kind == "message_start":
            message = event.get("message") or {}
            self.id = f"chatcmpl-{message.get('id', '')}"
            self.model = message.get("model", "")
            self.usage.update(message.get("usage") or {})
            return [self._chunk({"role": "assistant", "content": ""})]
        if kind == "content_block_start":
            block = event.get("content_block") or {}
            if block.get("type") == "tool_use":
                position = len(self.tool_index)
                self.tool_index[event.get("index", 0)] = position
                return [self._chunk({"tool_calls": [{"index": position, "id": block.get("id"), "type": "function",
                                                     "function": {"name": block.get("name"), "arguments": ""}}]})]
            if block.get("type") == "text" and block.get("text"):
                return [self._chunk({"content": block["text"]})]
            return []
        if kind == "content_block_delta":
            delta = event.get("delta") or {}
            kind_of_delta = delta.get("type")
            if kind_of_delta == "text_delta":
                return [self._chunk({"content": delta.get("text", "")})]
            if kind_of_delta == "thinking_delta":
                return [self._chunk({"reasoning_content": delta.get("thinking", "")})]
            if kind_of_delta == "input_json_delta":
                position = self.tool_index.get(event.get("index", 0), 0)
                return [self._chunk({"tool_calls": [{"index": position,
                                                     "function": {"arguments": delta.get("partial_json", "")}}]})]
            return []
        if kind == "message_delta":
            self.usage.update({k: v for k, v in (event.get("usage") or {}).items() if v is not None})
            reason = (event.get("delta") or {}).get("stop_reason") or "end_turn"
            chunks = [self._chunk({}, STOP_REASONS.get(reason, "stop"))]
            if self.include_usage:
                chunks.append(self._chunk(None, usage=openai_usage(self.usage)))
            return chunks
        return []  # ping, content_block_stop, message_stop
