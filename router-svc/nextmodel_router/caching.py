"""Exact-cache rules on the router's side: what may be looked up and stored, and how an
entry is replayed as a chat.completion or as a stream.

The cache service owns the key and the entries; the router decides *whether*:

- a project may turn its cache off, and a request may say `x-nextmodel-cache: off|refresh`;
- sampled requests are not cached unless the project opts in, because a hit freezes one
  sample: a request is sampled when it asks for several choices (`n > 1`) or samples at a
  temperature above zero, and OpenAI's default temperature is 1, so a request that does not
  set `temperature: 0` is sampled;
- only complete, successful answers are stored, and an answer from a fallback model is never
  stored under a key that names the model the client asked for.
"""

from __future__ import annotations

from nextmodel.billing.v1 import billing_pb2
from nextmodel.router.v1 import router_pb2

ON, OFF, REFRESH, NOT_CACHEABLE = "on", "off", "refresh", "not_cacheable"


def sampled(body: dict) -> bool:
    temperature = body.get("temperature", 1)
    choices = body.get("n") or 1
    return choices > 1 or not isinstance(temperature, int | float) or temperature > 0


def decide(principal: billing_pb2.Principal, request: router_pb2.ChatRequest, body: dict) -> str:
    if not principal.cache_enabled or request.cache_mode == router_pb2.CACHE_MODE_OFF:
        return OFF
    if sampled(body) and not principal.cache_sampled:
        return NOT_CACHEABLE
    return REFRESH if request.cache_mode == router_pb2.CACHE_MODE_REFRESH else ON


def completion_to_chunks(completion: dict, include_usage: bool) -> list[dict]:
    """A stored chat.completion as the chunk sequence a stream of it would have been."""
    base = {"id": completion.get("id", ""), "object": "chat.completion.chunk",
            "created": completion.get("created", 0), "model": completion.get("model", "")}
    if completion.get("system_fingerprint"):
        base["system_fingerprint"] = completion["system_fingerprint"]

    def chunk(index: int, delta: dict, finish: str | None = None, logprobs=None) -> dict:
        return {**base, "choices": [{"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}]}

    chunks = []
    for choice in completion.get("choices") or ():
        index = choice.get("index", 0)
        message = choice.get("message") or {}
        chunks.append(chunk(index, {"role": message.get("role", "assistant"), "content": ""}))
        if message.get("reasoning_content"):
            chunks.append(chunk(index, {"reasoning_content": message["reasoning_content"]}))
        if message.get("content"):
            chunks.append(chunk(index, {"content": message["content"]}, logprobs=choice.get("logprobs")))
        if message.get("refusal"):
            chunks.append(chunk(index, {"refusal": message["refusal"]}))
        for position, call in enumerate(message.get("tool_calls") or ()):
            function = call.get("function") or {}
            chunks.append(chunk(index, {"tool_calls": [{"index": position, "id": call.get("id"),
                                                        "type": call.get("type", "function"),
                                                        "function": {"name": function.get("name"), "arguments": ""}}]}))
            chunks.append(chunk(index, {"tool_calls": [{"index": position,
                                                        "function": {"arguments": function.get("arguments", "")}}]}))
        chunks.append(chunk(index, {}, choice.get("finish_reason") or "stop"))
    if include_usage and completion.get("usage"):
        for item in chunks:
            item["usage"] = None
        chunks.append({**base, "choices": [], "usage": completion["usage"]})
    return chunks


class CompletionBuilder:
    """Assembles the chat.completion a stream amounts to, so a streamed answer can be stored."""

    def __init__(self) -> None:
        self.head: dict = {}
        self.choices: dict[int, dict] = {}

    def add(self, chunk: dict) -> None:
        if not self.head:
            self.head = {key: chunk[key] for key in ("id", "created", "model", "system_fingerprint", "service_tier")
                         if chunk.get(key) is not None}
        for choice in chunk.get("choices") or ():
            state = self.choices.setdefault(choice.get("index", 0), {
                "role": "assistant", "content": [], "reasoning": [], "refusal": [], "tools": {}, "finish": None})
            delta = choice.get("delta") or {}
            if delta.get("role"):
                state["role"] = delta["role"]
            for field, target in (("content", "content"), ("reasoning_content", "reasoning"), ("refusal", "refusal")):
                if isinstance(delta.get(field), str):
                    state[target].append(delta[field])
            for call in delta.get("tool_calls") or ():
                tool = state["tools"].setdefault(call.get("index", 0), {"id": None, "type": "function", "name": "",
                                                                        "arguments": []})
                tool["id"] = call.get("id") or tool["id"]
                tool["type"] = call.get("type") or tool["type"]
                function = call.get("function") or {}
                tool["name"] += function.get("name") or ""
                tool["arguments"].append(function.get("arguments") or "")
            if choice.get("finish_reason"):
                state["finish"] = choice["finish_reason"]

    def completion(self, usage: dict) -> dict:
        choices = []
        for index in sorted(self.choices):
            state = self.choices[index]
            content = "".join(state["content"])
            message: dict = {"role": state["role"], "content": content if content or not state["tools"] else None,
                             "refusal": "".join(state["refusal"]) if state["refusal"] else None}
            if state["reasoning"]:
                message["reasoning_content"] = "".join(state["reasoning"])
            if state["tools"]:
                message["tool_calls"] = [
                    {"id": tool["id"], "type": tool["type"],
                     "function": {"name": tool["name"], "arguments": "".join(tool["arguments"])}}
                    for _, tool in sorted(state["tools"].items())]
            choices.append({"index": index, "message": message, "logprobs": None,
                            "finish_reason": state["finish"] or "stop"})
        return {**self.head, "object": "chat.completion", "choices": choices, "usage": usage}
