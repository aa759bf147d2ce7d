"""OpenAI's legacy text completions (`POST /v1/completions`) on the chat path.

No model in the catalog has a native completions endpoint, so a completions request becomes the
chat request it means (the prompt as one user message) and the chat answer is shown as a
`text_completion`. Everything between (planning, admission, cache, attempts, settlement) is the
chat path's. What chat cannot carry is refused with a 400 naming the field, never dropped:
`echo`, `logprobs`, `suffix`, `best_of` above 1, and several prompts (or token-id prompts) in one
request. The exact cache keys the completions body as sent, so it never meets a chat entry.
"""

from __future__ import annotations

import orjson

from nextmodel.router.v1 import router_pb2
from nextmodel_router import caching
from nextmodel_router import usage as usage_mod
from nextmodel_router.chat.context import ChatContext
from nextmodel_router.chat.presentation import nextmodel_object
from nextmodel_router.chat.request import ChatInput, decode, parse_body, refuse
from nextmodel_router.streaming import StreamAccumulator

# OpenAI's default for this endpoint (chat's is the model's maximum).
DEFAULT_MAX_TOKENS = 16
# Fields of the completions body that are not chat fields: the prompt becomes the message, the
# rest cannot be carried over.
NOT_CHAT = ("prompt", "suffix", "echo", "logprobs", "best_of")


def read_completion_request(request: router_pb2.ChatRequest) -> ChatInput:
    """The completions body, checked, as the chat request that serves it."""
    body = decode(request.body_json)
    prompt = _prompt(body.get("prompt"))
    if body.get("echo"):
        raise refuse("echo", "'echo' is not supported: NextModel serves completions through chat models, "
                             "which cannot repeat the prompt. Remove it.", "unsupported_parameter")
    if body.get("logprobs") is not None:
        raise refuse("logprobs", "'logprobs' is not supported on /v1/completions here; use /v1/chat/completions "
                                 "with 'logprobs': true.", "unsupported_parameter")
    if body.get("suffix"):
        raise refuse("suffix", "'suffix' (insertion) is not supported by the models in the catalog. Remove it.",
                     "unsupported_parameter")
    best_of = body.get("best_of")
    if best_of is not None and best_of != 1:
        raise refuse("best_of", "'best_of' is not supported; use 'n' for several completions.",
                     "unsupported_parameter")
    chat = {name: value for name, value in body.items() if name not in NOT_CHAT}
    chat["messages"] = [{"role": "user", "content": prompt}]
    chat.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
    checked = parse_body(orjson.dumps(chat))
    return ChatInput(body=checked, body_json=request.body_json, requested=checked["model"], policy=request.policy,
                     tags=request.tags, request_id=request.request_id, cache_mode=request.cache_mode)


def _prompt(prompt) -> str:
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        return prompt[0]
    if isinstance(prompt, list) and all(isinstance(item, str) for item in prompt):
        raise refuse("prompt", "Send one prompt per request: 'prompt' lists several.", "unsupported_parameter")
    if prompt is None:
        raise refuse("prompt", "'prompt' is required.", "missing_required_parameter")
    raise refuse("prompt", "'prompt' must be a string (token-id prompts are not supported).")


def text_of(choice: dict) -> str:
    message = choice.get("message") or {}
    return message.get("content") or ""


class TextCompletion:
    """A chat.completion (and its chunks) shown as OpenAI's text_completion."""

    def completion(self, completion: dict, facts: router_pb2.ReceiptFacts) -> dict:
        return {
            "id": completion.get("id", ""), "object": "text_completion", "created": completion.get("created", 0),
            "model": completion.get("model", ""),
            "choices": [{"text": text_of(choice), "index": choice.get("index", 0), "logprobs": None,
                         "finish_reason": choice.get("finish_reason") or "stop"}
                        for choice in completion.get("choices") or ()],
            **({"usage": completion["usage"]} if completion.get("usage") else {}),
            "nextmodel": nextmodel_object(facts),
        }

    def open_stream(self, ctx: ChatContext) -> TextStream:
        return TextStream(StreamAccumulator(include_usage=ctx.input.stream_usage_requested,
                                            prompt_estimate=ctx.plan.prompt_estimate))

    def stream_end(self, view: TextStream, usage: usage_mod.Usage, facts: router_pb2.ReceiptFacts) -> list[dict]:
        return [text_chunk(chunk) for chunk in view.chat.finish(usage, nextmodel_object(facts))]

    def replay(self, completion: dict, facts: router_pb2.ReceiptFacts, ctx: ChatContext) -> list[dict]:
        chunks = caching.completion_to_chunks(completion, ctx.input.stream_usage_requested)
        chunks[-1]["nextmodel"] = nextmodel_object(facts)
        return [text_chunk(chunk) for chunk in chunks]


class TextStream:
    """The chat stream's state (usage is counted there), its chunks shown as text completions."""

    def __init__(self, chat: StreamAccumulator) -> None:
        self.chat = chat

    @property
    def upstream_usage(self) -> dict | None:
        return self.chat.upstream_usage

    def push(self, chunk: dict) -> dict | None:
        out = self.chat.push(chunk)
        return text_chunk(out) if out is not None else None

    def flush(self) -> dict | None:
        out = self.chat.flush()
        return text_chunk(out) if out is not None else None

    def usage(self, request: dict) -> usage_mod.Usage:
        return self.chat.usage(request)


def text_chunk(chunk: dict) -> dict:
    """One chat.completion.chunk as a text_completion chunk (a usage chunk keeps `choices: []`)."""
    shown = {"id": chunk.get("id", ""), "object": "text_completion", "created": chunk.get("created", 0),
             "model": chunk.get("model", ""),
             "choices": [{"text": (choice.get("delta") or {}).get("content") or "", "index": choice.get("index", 0),
                          "logprobs": None, "finish_reason": choice.get("finish_reason")}
                         for choice in chunk.get("choices") or ()]}
    for extra in ("usage", "nextmodel"):
        if extra in chunk:
            shown[extra] = chunk[extra]
    return shown


TEXT_COMPLETION = TextCompletion()
