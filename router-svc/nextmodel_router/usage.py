"""Token usage from an upstream answer, or an estimate when the provider sent none."""

from __future__ import annotations

from dataclasses import dataclass

import orjson


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int = 0
    reasoning_tokens: int = 0
    source: str = "upstream"  # "upstream" | "estimated" | "replayed"


def _int(value) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def from_response(response: dict, request: dict) -> Usage:
    usage = response.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
        prompt_details = usage.get("prompt_tokens_details") or {}
        completion_details = usage.get("completion_tokens_details") or {}
        return Usage(
            prompt_tokens=_int(usage.get("prompt_tokens")),
            completion_tokens=_int(usage.get("completion_tokens")),
            cached_prompt_tokens=_int(prompt_details.get("cached_tokens") if isinstance(prompt_details, dict) else 0),
            reasoning_tokens=_int(
                completion_details.get("reasoning_tokens") if isinstance(completion_details, dict) else 0
            ),
        )
    return estimate(request, response)


def estimate_tokens(text: str) -> int:
    """About four bytes of UTF-8 per token; Arabic and CJK text count more bytes per character, as they should."""
    return (len(text.encode("utf-8")) + 3) // 4


def estimate(request: dict, response: dict) -> Usage:
    prompt = estimate_tokens(orjson.dumps(request.get("messages", [])).decode())
    completion = 0
    for choice in response.get("choices") or ():
        message = choice.get("message") or {} if isinstance(choice, dict) else {}
        content = message.get("content")
        if isinstance(content, str):
            completion += estimate_tokens(content)
        if message.get("tool_calls"):
            completion += estimate_tokens(orjson.dumps(message["tool_calls"]).decode())
    return Usage(prompt_tokens=prompt, completion_tokens=completion, source="estimated")
