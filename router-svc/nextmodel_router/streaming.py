"""What the router keeps while a stream passes through it.

Every provider's stream leaves looking like OpenAI's: content chunks, then (when the client
asked with `stream_options.include_usage`) one usage chunk with `choices: []`, whether the
provider sent usage that way, on its last content chunk, or not at all (then it is counted).
The newest chunk is held back so that the last chunk the client sees can carry the
`nextmodel` object: cost and receipt are known only when the provider is done.
"""

from __future__ import annotations

import orjson

from nextmodel_router import usage as usage_mod


class StreamAccumulator:
    def __init__(self, include_usage: bool, prompt_estimate: int | None = None) -> None:
        self.include_usage = include_usage
        self.prompt_estimate = prompt_estimate  # the plan's, so it is not counted again per usage()
        self.held: dict | None = None
        self.upstream_usage: dict | None = None
        self.text: list[str] = []
        self.template: dict = {}  # id/created/model for the chunks we make ourselves

    def push(self, chunk: dict) -> dict | None:
        """Take one upstream chunk; return the chunk to send now (the one held before), if any."""
        if not self.template:
            self.template = {key: chunk.get(key) for key in ("id", "created", "model")}
        usage = chunk.pop("usage", None)
        if isinstance(usage, dict):
            self.upstream_usage = usage
        choices = chunk.get("choices") or []
        if not choices:
            return None  # a usage-only chunk: re-emitted at the end when the client asked
        for choice in choices:
            delta = choice.get("delta") or {}
            for field in ("content", "reasoning_content", "refusal"):
                if isinstance(delta.get(field), str):
                    self.text.append(delta[field])
            for call in delta.get("tool_calls") or ():
                function = call.get("function") or {}
                self.text.append(function.get("name") or "")
                self.text.append(function.get("arguments") or "")
        if self.include_usage:
            chunk["usage"] = None
        previous, self.held = self.held, chunk
        return previous

    def usage(self, request: dict) -> usage_mod.Usage:
        if self.upstream_usage is not None:
            return usage_mod.from_response({"usage": self.upstream_usage}, request)
        if self.prompt_estimate is None:
            self.prompt_estimate = usage_mod.estimate_tokens(orjson.dumps(request.get("messages", [])).decode())
        return usage_mod.Usage(
            prompt_tokens=self.prompt_estimate,
            completion_tokens=usage_mod.estimate_tokens("".join(self.text)),
            source="estimated",
        )

    def finish(self, usage: usage_mod.Usage, nextmodel: dict) -> list[dict]:
        """The chunks that end a successful stream; the last one carries `nextmodel`."""
        ending = [self.held] if self.held is not None else []
        self.held = None
        if self.include_usage:
            ending.append({**self.template, "object": "chat.completion.chunk", "choices": [],
                           "usage": self.upstream_usage or openai_usage(usage)})
        if not ending:
            ending.append({**self.template, "object": "chat.completion.chunk", "choices": []})
        ending[-1]["nextmodel"] = nextmodel
        return ending

    def flush(self) -> dict | None:
        chunk, self.held = self.held, None
        return chunk


def openai_usage(usage: usage_mod.Usage) -> dict:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_prompt_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }
