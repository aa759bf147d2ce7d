"""Reading a chat request: the body as a dict, every field the gateway or a provider reads checked
first, and the typed facts the RPC carries beside it (`ChatInput`).

A body that would trip the router or that a provider would refuse is a 400 naming the field,
before any reservation, upstream call or receipt. Unknown fields pass through untouched. The
checks are small functions run in a fixed order: the first failing one names the field, so the
order is part of the contract (tests/e2e/test_bad_input.py holds the wording and `param`s).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from nextmodel.router.v1 import router_pb2
from nextmodel_common.errors import GatewayError

MAX_DEPTH = 64  # orjson reads 1024 levels but writes 254; tool and output schemas need far fewer
MAX_OUTPUT_TOKENS = 10_000_000  # above any model's output; the route's own cap applies after this
ROLES = ("system", "developer", "user", "assistant", "tool", "function")

# (field, low, high): numbers, then integers, checked in this order.
NUMBERS = (("temperature", 0, 2), ("top_p", 0, 1), ("frequency_penalty", -2, 2), ("presence_penalty", -2, 2),
           ("top_k", 0, 1_000_000))
INTEGERS = (("n", 1, 128), ("max_tokens", 1, MAX_OUTPUT_TOKENS), ("max_completion_tokens", 1, MAX_OUTPUT_TOKENS),
            ("top_logprobs", 0, 20), ("seed", -(2**63), 2**63 - 1))
# (fields, type, label): optional top-level fields of one JSON type, checked in this order.
TYPED = ((("stream", "logprobs", "parallel_tool_calls", "store"), bool, "a boolean"),
         (("user", "safety_identifier", "reasoning_effort", "service_tier", "prompt_cache_key"), str, "a string"),
         (("stream_options", "logit_bias", "metadata", "prediction", "audio", "web_search_options"), dict,
          "an object"),
         (("modalities", "functions"), list, "an array"))


@dataclass(slots=True)
class ChatInput:
    """A chat request as every inbound API shape hands it to the flow: the OpenAI chat body the
    adapters take, and the typed facts the gateway decides on."""

    body: dict
    body_json: bytes  # the body as received: what the exact cache's key hashes
    requested: str  # the model (or nextmodel/<policy>) the body names
    policy: str  # the x-nextmodel-policy header, "" when absent
    tags: Mapping[str, str]  # the request's own tags (a proto map is fine)
    request_id: str  # "" when the caller gave none
    cache_mode: int  # router_pb2.CacheMode

    @property
    def stream_usage_requested(self) -> bool:
        return bool((self.body.get("stream_options") or {}).get("include_usage"))


def read_chat_request(request: router_pb2.ChatRequest) -> ChatInput:
    """The ChatCompletion / StreamChatCompletion RPC's request, checked."""
    body = parse_body(request.body_json)
    return ChatInput(body=body, body_json=request.body_json, requested=body["model"], policy=request.policy,
                     tags=request.tags, request_id=request.request_id, cache_mode=request.cache_mode)


def parse_body(body_json: bytes) -> dict:
    """The chat body as a dict, with the type (and range) of every field the gateway or a provider
    reads checked first. Unknown fields pass."""
    body = decode(body_json)
    check_model(body.get("model"))
    check_messages(body.get("messages"))
    check_scalars(body)
    check_stop(body.get("stop"))
    check_tools(body.get("tools"))
    check_tool_choice(body.get("tool_choice"))
    function_call = body.get("function_call")
    if function_call is not None and not isinstance(function_call, str | dict):
        raise refuse("function_call", "'function_call' must be a string or an object.")
    check_response_format(body.get("response_format"))
    return body


# -- helpers --------------------------------------------------------------------------


def refuse(param: str | None, message: str, code: str = "invalid_type") -> GatewayError:
    return GatewayError(400, message, param=param, code=code)


def number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def optional(container: dict, name: str, kind, label: str, param: str) -> None:
    value = container.get(name)
    if value is not None and not isinstance(value, kind):
        raise refuse(param, f"'{param}' must be {label}.")


# -- the checks, in the order they run ------------------------------------------------


def decode(body_json: bytes) -> dict:
    try:
        body = orjson.loads(body_json)
    except orjson.JSONDecodeError as failure:
        message = ("The request body is not valid UTF-8." if "UTF-8" in str(failure)
                   else "The request body is not valid JSON.")
        raise GatewayError(400, message, code="invalid_json") from None
    if not isinstance(body, dict):
        raise GatewayError(400, "The request body must be a JSON object.", code="invalid_json")
    if body_json.count(b"{") + body_json.count(b"[") > MAX_DEPTH:  # cheap bound: deep only if this is large
        check_depth(body)
    return body


def check_depth(body: dict) -> None:
    pending: list[tuple[dict | list, int]] = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise GatewayError(400, f"The request body nests objects and arrays deeper than {MAX_DEPTH} levels.",
                               code="invalid_json")
        children = value.values() if isinstance(value, dict) else value
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def check_model(model) -> None:
    if not isinstance(model, str) or not model:
        raise GatewayError(400, "'model' is required: the id of a model from GET /v1/models.", param="model",
                           code="missing_required_parameter" if model is None else "invalid_type")
    if len(model) > 256:
        raise refuse("model", "'model' must be at most 256 characters: the id of a model from GET /v1/models.",
                     "invalid_value")


def check_messages(messages) -> None:
    if not isinstance(messages, list) or not messages:
        raise GatewayError(400, "'messages' is required and must be a non-empty array of messages.",
                           param="messages",
                           code="missing_required_parameter" if messages is None else "invalid_type")
    for index, message in enumerate(messages):
        check_message(message, f"messages[{index}]")


def check_message(message, at: str) -> None:
    if not isinstance(message, dict) or not isinstance(message.get("role"), str):
        raise GatewayError(400, f"{at} must be an object with a 'role'.", param=at, code="invalid_type")
    if message["role"] not in ROLES:
        raise refuse(f"{at}.role", f"'{at}.role' must be one of {', '.join(ROLES)}.", "invalid_value")
    content = message.get("content")
    if isinstance(content, list):
        for position, part in enumerate(content):
            check_content_part(part, f"{at}.content[{position}]")
    elif content is not None and not isinstance(content, str):
        raise refuse(f"{at}.content", f"'{at}.content' must be a string, an array of content parts, or null.")
    optional(message, "name", str, "a string", f"{at}.name")
    optional(message, "tool_call_id", str, "a string", f"{at}.tool_call_id")
    tool_calls = message.get("tool_calls")
    if tool_calls is not None:
        if not isinstance(tool_calls, list):
            raise refuse(f"{at}.tool_calls", f"'{at}.tool_calls' must be an array.")
        for position, call in enumerate(tool_calls):
            check_tool_call(call, f"{at}.tool_calls[{position}]")


def check_content_part(part, where: str) -> None:
    if not isinstance(part, dict) or not isinstance(part.get("type"), str):
        raise refuse(where, f"'{where}' must be an object with a string 'type'.")
    if part["type"] == "text" and not isinstance(part.get("text"), str):
        raise refuse(f"{where}.text", f"'{where}.text' must be a string.")
    if part["type"] == "image_url" and not (isinstance(part.get("image_url"), dict)
                                            and isinstance(part["image_url"].get("url"), str)):
        raise refuse(f"{where}.image_url", f"'{where}.image_url' must be an object with a string 'url'.")


def check_tool_call(call, where: str) -> None:
    if not isinstance(call, dict):
        raise refuse(where, f"'{where}' must be an object.")
    optional(call, "id", str, "a string", f"{where}.id")
    function = call.get("function")
    if function is not None:
        if not isinstance(function, dict):
            raise refuse(f"{where}.function", f"'{where}.function' must be an object.")
        optional(function, "name", str, "a string", f"{where}.function.name")
        optional(function, "arguments", str, "a string of JSON", f"{where}.function.arguments")


def check_scalars(body: dict) -> None:
    """Sampling numbers and integer limits in range, then the optional fields of one JSON type."""
    for name, low, high in NUMBERS:
        value = body.get(name)
        if value is not None:
            check_range(value, name, low, high, number)
    for name, low, high in INTEGERS:
        value = body.get(name)
        if value is not None:
            check_range(value, name, low, high, integer)
    for names, kind, label in TYPED:
        for name in names:
            optional(body, name, kind, label, name)
    if isinstance(body.get("stream_options"), dict):
        optional(body["stream_options"], "include_usage", bool, "a boolean", "stream_options.include_usage")
    if isinstance(body.get("logit_bias"), dict) and not all(number(v) for v in body["logit_bias"].values()):
        raise refuse("logit_bias", "'logit_bias' must map token ids to numbers.")


def check_range(value, name: str, low, high, kind) -> None:
    if not kind(value):
        if kind is number:
            raise refuse(name, f"'{name}' must be a number.")
        raise refuse(name, f"'{name}' must be an integer." if name != "n" else "'n' must be a positive integer.")
    if not low <= value <= high:
        raise refuse(name, f"'{name}' must be between {low} and {high}.", "invalid_value")


def check_stop(stop) -> None:
    if stop is not None and not isinstance(stop, str) and not (
            isinstance(stop, list) and all(isinstance(item, str) for item in stop)):
        raise refuse("stop", "'stop' must be a string or an array of strings.")


def check_tools(tools) -> None:
    if tools is None:
        return
    if not isinstance(tools, list):
        raise refuse("tools", "'tools' must be an array of tools.")
    for index, tool in enumerate(tools):
        at = f"tools[{index}]"
        if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
            raise refuse(at, f"'{at}' must be an object with a string 'type'.")
        if tool["type"] == "function":
            check_tool_function(tool.get("function"), f"{at}.function")


def check_tool_function(function, at: str) -> None:
    if not isinstance(function, dict) or not isinstance(function.get("name"), str) or not function["name"]:
        raise refuse(at, f"'{at}' must be an object with a 'name'.")
    optional(function, "description", str, "a string", f"{at}.description")
    optional(function, "parameters", dict, "an object (a JSON schema)", f"{at}.parameters")
    optional(function, "strict", bool, "a boolean", f"{at}.strict")


def check_tool_choice(tool_choice) -> None:
    if tool_choice is None:
        return
    if isinstance(tool_choice, dict):
        if not isinstance(tool_choice.get("type"), str):
            raise refuse("tool_choice", "'tool_choice' must name its 'type'.")
        if tool_choice["type"] == "function" and not (isinstance(tool_choice.get("function"), dict)
                                                       and isinstance(tool_choice["function"].get("name"), str)):
            raise refuse("tool_choice.function", "'tool_choice.function' must be an object with a 'name'.")
    elif not isinstance(tool_choice, str):
        raise refuse("tool_choice", "'tool_choice' must be a string or an object.")


def check_response_format(response_format) -> None:
    if response_format is None:
        return
    if not isinstance(response_format, dict) or not isinstance(response_format.get("type"), str):
        raise refuse("response_format", "'response_format' must be an object with a string 'type'.")
    json_schema = response_format.get("json_schema")
    if response_format["type"] == "json_schema" and json_schema is not None:
        if not isinstance(json_schema, dict):
            raise refuse("response_format.json_schema", "'response_format.json_schema' must be an object.")
        optional(json_schema, "schema", dict, "an object (a JSON schema)", "response_format.json_schema.schema")
