"""Bad input, overload and failed authentication at the edge, on the real processes.

Every refusal is an OpenAI-shaped 4xx (or a 503 when shedding) that changes nothing: no call
reaches the upstream and no usage row is written for the caller's project.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import provider_env
from tests.support.accounts import Account, new_account, settled_usage
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request) -> Stack:
    """Every case here runs on the embedded stack and on PostgreSQL and Redis, as production runs:
    SQLite enforces no column length, so a limit it hides would reach production."""
    return request.getfixturevalue("embedded_stack" if request.param == "sqlite" else "prod_stack")

MiB = 1024 * 1024
HELLO = [{"role": "user", "content": "hello"}]


def assert_openai_error(answer: httpx.Response, status: int, *, param: str | None = None,
                        code: str | None = None) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    assert error["param"] == param
    if code is not None:
        assert error["code"] == code
    return error


@pytest.fixture(scope="module")
def account(stack) -> Account:
    return new_account(stack)


@pytest.fixture
def chat(stack, account, fake_upstream) -> Iterator[httpx.Client]:
    """A client with a fresh project's key; after the test no upstream call and no usage row."""
    calls = fake_upstream.calls
    with httpx.Client(base_url=stack.edge_url, headers={"authorization": f"Bearer {account.key}"},
                      timeout=60) as client:
        yield client
        assert fake_upstream.calls == calls, "a refused request reached the upstream"
        usage = client.get("/v1/usage")
        assert usage.status_code == 200
        assert usage.json()["total"]["requests"] == 0, "a refused request left a usage row"


# (case id, body, param, code): a chat body that is refused with 400 naming the field.
WRONG_FIELDS = [
    ("temperature-string", {"temperature": "warm"}, "temperature", "invalid_type"),
    ("temperature-out-of-range", {"temperature": 7}, "temperature", "invalid_value"),
    ("messages-object", {"messages": {"role": "user", "content": "hello"}}, "messages", "invalid_type"),
    ("messages-empty", {"messages": []}, "messages", "invalid_type"),
    ("message-not-object", {"messages": ["hello"]}, "messages[0]", "invalid_type"),
    ("role-unknown", {"messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role", "invalid_value"),
    ("content-number", {"messages": [{"role": "user", "content": 42}]}, "messages[0].content", "invalid_type"),
    ("content-part-not-object", {"messages": [{"role": "user", "content": ["hi"]}]}, "messages[0].content[0]",
     "invalid_type"),
    ("image-url-string", {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}]},
     "messages[0].content[0].image_url", "invalid_type"),
    ("tool-calls-object", {"messages": [{"role": "assistant", "content": None, "tool_calls": {"id": "c"}}]},
     "messages[0].tool_calls", "invalid_type"),
    ("model-number", {"model": 4}, "model", "invalid_type"),
    ("model-missing", {"model": None}, "model", "missing_required_parameter"),
    ("n-float", {"n": 2.5}, "n", "invalid_type"),
    ("n-zero", {"n": 0}, "n", "invalid_value"),
    ("stream-string", {"stream": "yes"}, "stream", "invalid_type"),
    ("stream-number", {"stream": 1}, "stream", "invalid_type"),
    ("stream-options-list", {"stream_options": ["include_usage"]}, "stream_options", "invalid_type"),
    ("tools-object", {"tools": {"type": "function", "function": {"name": "f"}}}, "tools", "invalid_type"),
    ("tool-without-function", {"tools": [{"type": "function"}]}, "tools[0].function", "invalid_type"),
    ("tool-not-object", {"tools": ["f"]}, "tools[0]", "invalid_type"),
    ("tool-choice-number", {"tool_choice": 1}, "tool_choice", "invalid_type"),
    ("response-format-string", {"response_format": "json"}, "response_format", "invalid_type"),
    ("response-format-list", {"response_format": [{"type": "json_object"}]}, "response_format", "invalid_type"),
    ("stop-number", {"stop": 42}, "stop", "invalid_type"),
    ("stop-list-of-numbers", {"stop": [1, 2]}, "stop", "invalid_type"),
    ("max-tokens-negative", {"max_tokens": -5}, "max_tokens", "invalid_value"),
    ("max-tokens-zero", {"max_tokens": 0}, "max_tokens", "invalid_value"),
    ("max-tokens-absurd", {"max_tokens": 10**12}, "max_tokens", "invalid_value"),
    ("max-tokens-beyond-64-bits", {"max_tokens": 2**64 - 1}, "max_tokens", "invalid_value"),
    ("max-tokens-string", {"max_tokens": "lots"}, "max_tokens", "invalid_type"),
    ("max-completion-tokens-float", {"max_completion_tokens": 100.5}, "max_completion_tokens", "invalid_type"),
    ("top-p-string", {"top_p": "1"}, "top_p", "invalid_type"),
    ("penalty-boolean", {"presence_penalty": True}, "presence_penalty", "invalid_type"),
    ("seed-float", {"seed": 1.5}, "seed", "invalid_type"),
    ("logit-bias-list", {"logit_bias": [1]}, "logit_bias", "invalid_type"),
    ("logprobs-string", {"logprobs": "true"}, "logprobs", "invalid_type"),
    ("user-number", {"user": 7}, "user", "invalid_type"),
]


@pytest.mark.parametrize("fields, param, code", [case[1:] for case in WRONG_FIELDS],
                         ids=[case[0] for case in WRONG_FIELDS])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_field_of_the_wrong_type_or_range_is_400_naming_it(chat, fields, param, code, stream) -> None:
    body = {"model": "gpt-4o-mini", "messages": HELLO, **({"stream": True} if stream else {}), **fields}
    body = {name: value for name, value in body.items() if value is not None}
    assert_openai_error(chat.post("/v1/chat/completions", json=body), 400, param=param, code=code)


def nested(depth: int) -> bytes:
    return b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "x": ' \
        + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("raw, message", [
    (b'{"model": "gpt-4o-mini", "messages": [', "not valid JSON"),
    (b'["gpt-4o-mini"]', "must be a JSON object"),
    (b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "caf\xe9 \xff"}]}', "not valid UTF-8"),
    (nested(100), "deeper than 64 levels"),     # orjson would read it, and a provider would get it
    (nested(400), "deeper than 64 levels"),     # past what orjson writes (254): a 500 before
    (nested(5000), "not valid JSON"),            # past what orjson reads (1024)
], ids=["truncated", "array", "invalid-utf8", "nested-100", "nested-400", "nested-5000"])
def test_a_body_that_is_not_a_usable_json_object_is_400(chat, raw, message) -> None:
    answer = chat.post("/v1/chat/completions", content=raw, headers={"content-type": "application/json"})
    error = assert_openai_error(answer, 400, code="invalid_json")
    assert message in error["message"]


def test_a_body_past_the_limit_is_413_before_it_is_read(chat) -> None:
    body = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "' + b"a" * (10 * MiB) + b'"}]}'
    answer = chat.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert_openai_error(answer, 413, code="request_too_large")


def test_a_chunked_body_past_the_limit_is_cut_off_with_413(chat) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "'
        for _ in range(11):
            yield b"a" * MiB
        yield b'"}]}'

    answer = chat.post("/v1/chat/completions", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in answer.request.headers
    assert_openai_error(answer, 413, code="request_too_large")


def test_a_large_body_within_the_limit_is_served(stack, fake_upstream) -> None:
    """5 MiB is under the 10 MiB limit (and gRPC between the services carries up to 64 MiB)."""
    account = new_account(stack)
    answer = httpx.post(f"{stack.base_url}/chat/completions", timeout=60,
                        headers={"authorization": f"Bearer {account.key}"},
                        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "a" * (5 * MiB)}]})
    assert answer.status_code == 200, answer.text[:500]


@pytest.mark.parametrize("size", [20 * 1024, 1 * MiB], ids=["20KiB", "1MiB"])
def test_headers_past_16_kib_are_431(chat, size) -> None:
    answer = chat.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": HELLO},
                       headers={"x-padding": "a" * size})
    assert_openai_error(answer, 431, code="request_header_fields_too_large")


def test_a_head_that_never_ends_is_cut_off_with_431(stack) -> None:
    """uvicorn with httptools would keep an unfinished head in memory without end."""
    with socket.create_connection(("127.0.0.1", stack.ports["edge"]), timeout=10) as conn:
        conn.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: edge\r\nx-padding: ")
        for _ in range(256):
            try:
                conn.sendall(b"a" * 1024)
            except OSError:
                break
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431"), answer[:200]
    assert httpx.Response(431, content=body).json()["error"]["code"] == "request_header_fields_too_large"


def test_the_chat_body_is_described_in_openapi(stack) -> None:
    spec = httpx.get(f"{stack.edge_url}/openapi.json").json()
    operation = spec["paths"]["/v1/chat/completions"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["model", "messages"]
    assert schema["additionalProperties"] is True
    assert schema["properties"]["messages"]["items"]["required"] == ["role"]
    assert {"413", "429", "431", "502", "503", "504"} <= set(operation["responses"])


# -- overload and failed authentication, on a stack of their own -------------------------------------

AUTH_WINDOW_SECONDS = 2
AUTH_FAILURE_LIMIT = 5


@pytest.fixture(scope="module")
def guarded_stack(fake_upstream, tmp_path_factory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("guarded-stack"), {
        **provider_env(fake_upstream), "NEXTMODEL_UPSTREAM_FIRST_BYTE_TIMEOUT": "5",
        "NEXTMODEL_EDGE_MAX_IN_FLIGHT": "2",
        "NEXTMODEL_AUTH_FAILURE_LIMIT": str(AUTH_FAILURE_LIMIT),
        "NEXTMODEL_AUTH_FAILURE_WINDOW_SECONDS": str(AUTH_WINDOW_SECONDS),
        # The test client plays the ingress: X-Forwarded-For is trusted from loopback here only.
        "NEXTMODEL_EDGE_FORWARDED_ALLOW_IPS": "127.0.0.1",
    }).start()
    yield running
    running.stop()


def as_source(address: str) -> dict[str, str]:
    """This stack trusts X-Forwarded-For from loopback (NEXTMODEL_EDGE_FORWARDED_ALLOW_IPS), as from an ingress."""
    return {"x-forwarded-for": address}


def test_past_max_in_flight_the_edge_sheds_with_503_and_serves_the_admitted(guarded_stack, fake_upstream) -> None:
    account = new_account(guarded_stack)
    calls = fake_upstream.calls
    for _ in range(2):
        fake_upstream.delay_next(1.0)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def one(index: int) -> None:
        answer = httpx.post(f"{guarded_stack.base_url}/chat/completions", timeout=30,
                            headers={"authorization": f"Bearer {account.key}", **as_source(f"192.0.2.{index}")},
                            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"n{index}"}]})
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=one, args=(index,)) for index in range(6)]
    threads[0].start()
    threads[1].start()
    deadline = time.monotonic() + 10
    while fake_upstream.calls < calls + 2 and time.monotonic() < deadline:  # both admitted ones are upstream
        time.sleep(0.01)
    for thread in threads[2:]:
        thread.start()
    for thread in threads[2:]:
        thread.join()
    # While the edge is full, health, readiness and the dashboard are still served.
    assert httpx.get(f"{guarded_stack.edge_url}/healthz").status_code == 200
    assert httpx.get(f"{guarded_stack.edge_url}/readyz").status_code == 200
    assert httpx.get(f"{guarded_stack.edge_url}/dashboard/").status_code == 200
    for thread in threads[:2]:
        thread.join()

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 200, 503, 503, 503, 503], [a.text[:200] for a in answers]
    for answer in answers:
        if answer.status_code == 503:
            assert_openai_error(answer, 503, code="overloaded")
            assert answer.headers["retry-after"] == "1"
    assert fake_upstream.calls == calls + 2, "a shed request reached the upstream"
    assert settled_usage(guarded_stack, account.key, 2)["total"]["requests"] == 2


def test_repeated_failed_authentication_from_one_source_is_slowed_until_the_window_passes(
        guarded_stack, fake_upstream) -> None:
    account = new_account(guarded_stack)
    attacker, neighbour = as_source("203.0.113.66"), as_source("203.0.113.67")
    chat = {"model": "gpt-4o-mini", "messages": HELLO}
    with httpx.Client(base_url=guarded_stack.edge_url, timeout=30) as http:
        for attempt in range(AUTH_FAILURE_LIMIT):
            guess = {"authorization": f"Bearer nm-guess-{attempt:04d}" + "x" * 28, **attacker}
            assert http.post("/v1/chat/completions", json=chat, headers=guess).status_code == 401
        calls = fake_upstream.calls

        refused = http.post("/v1/chat/completions", json=chat,
                            headers={"authorization": "Bearer nm-guess-last" + "x" * 28, **attacker})
        error = assert_openai_error(refused, 429, code="too_many_failed_authentications")
        assert error["type"] == "rate_limit_error"
        assert 1 <= int(refused.headers["retry-after"]) <= AUTH_WINDOW_SECONDS
        # It is per source: the attacker's address is slowed even with a good key ...
        slowed = http.post("/v1/chat/completions", json=chat,
                           headers={"authorization": f"Bearer {account.key}", **attacker})
        assert_openai_error(slowed, 429, code="too_many_failed_authentications")
        assert fake_upstream.calls == calls, "a slowed request was forwarded"
        # ... health is still answered, and another source is not slowed at all.
        assert http.get("/healthz", headers=attacker).status_code == 200
        assert http.get("/v1/models", headers={"authorization": f"Bearer {account.key}", **neighbour}
                        ).status_code == 200

        time.sleep(int(refused.headers["retry-after"]) + 0.2)
        recovered = http.post("/v1/chat/completions", json=chat,
                              headers={"authorization": f"Bearer {account.key}", **attacker})
        assert recovered.status_code == 200, recovered.text
        assert fake_upstream.calls == calls + 1


# -- server errors the fuzzing found, fixed where they arose --------------------------------------------

def test_a_usage_time_past_the_representable_range_is_400(stack, account) -> None:
    answer = httpx.get(f"{stack.base_url}/usage", params={"start": "99999999999999999"},
                       headers={"authorization": f"Bearer {account.key}"})
    assert_openai_error(answer, 400, param="start")


@pytest.mark.parametrize("max_tokens", ["lots", 10**18], ids=["string", "huge"])
def test_a_quote_with_a_bad_max_tokens_is_400(stack, account, max_tokens) -> None:
    answer = httpx.post(f"{stack.base_url}/quote", headers={"authorization": f"Bearer {account.key}"},
                        json={"request": {"model": "gpt-4o-mini", "messages": HELLO, "max_tokens": max_tokens}})
    assert_openai_error(answer, 400, param="max_tokens")


def test_a_key_expiring_after_year_9999_is_400(stack, account) -> None:
    with stack.admin() as admin:
        answer = admin.post("/admin/v1/keys", json={"project_id": account.project_id,
                                                    "expires_at": "9999-12-31T23:59:59-01:00"})
    assert_openai_error(answer, 400, param="expires_at")


# -- every user-controlled value has a declared limit (nextmodel_common.limits) -------------------------
# Each case: a value past its limit gets a clear 4xx naming it, nothing is forwarded, nothing stored.
# On PostgreSQL these are the values that used to be admitted and then refused by a column.

def _tags(count: int, name: str = "k", value: str = "v") -> str:
    return ",".join(f"{name}{i}={value}" for i in range(count))


OVERSIZED_HEADERS = [
    ("tag-value-8200", {"x-nextmodel-tags": "k=" + "v" * 8200}, 400, "x-nextmodel-tags"),
    ("tag-name-70", {"x-nextmodel-tags": "n" * 70 + "=v"}, 400, "x-nextmodel-tags"),
    ("tags-33", {"x-nextmodel-tags": _tags(33)}, 400, "x-nextmodel-tags"),
    ("policy-200", {"x-nextmodel-policy": "p" * 200}, 400, "x-nextmodel-policy"),
    ("authorization-15k", {"authorization": "Bearer nm-" + "k" * 15_000}, 401, None),
    ("authorization-600", {"authorization": "Bearer nm-" + "k" * 600}, 401, None),
]


@pytest.mark.parametrize("headers, status, param", [case[1:] for case in OVERSIZED_HEADERS],
                         ids=[case[0] for case in OVERSIZED_HEADERS])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_header_past_its_limit_is_refused_naming_it(chat, headers, status, param, stream) -> None:
    answer = chat.post("/v1/chat/completions", headers=headers,
                       json={"model": "gpt-4o-mini", "messages": HELLO, "stream": stream})
    assert_openai_error(answer, status, param=param)


OVERSIZED_FIELDS = [
    ("model-300", {"model": "m" * 300}, "model"),
    ("user-300", {"user": "u" * 300}, "user"),
    ("safety-identifier-65", {"safety_identifier": "s" * 65}, "safety_identifier"),
    ("metadata-17-pairs", {"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
    ("metadata-value-600", {"metadata": {"k": "v" * 600}}, "metadata"),
    ("metadata-key-70", {"metadata": {"k" * 70: "v"}}, "metadata"),
    ("metadata-value-number", {"metadata": {"k": 1}}, "metadata"),
    ("user-with-nul", {"user": "a\u0000b"}, "user"),
]


@pytest.mark.parametrize("fields, param", [case[1:] for case in OVERSIZED_FIELDS],
                         ids=[case[0] for case in OVERSIZED_FIELDS])
def test_a_body_field_past_its_limit_is_400_naming_it(chat, fields, param) -> None:
    answer = chat.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": HELLO, **fields})
    assert_openai_error(answer, 400, param=param)


def test_values_at_their_limits_are_served_and_settled(stack, fake_upstream) -> None:
    """The largest values the limits admit fit storage: the request is served and its receipt lands."""
    account = new_account(stack)
    tags = ",".join(f"{'n' * 62}{i:02d}={'v' * 256}" for i in range(32))
    answer = httpx.post(f"{stack.base_url}/chat/completions", timeout=30,
                        headers={"authorization": f"Bearer {account.key}", "x-nextmodel-tags": tags},
                        json={"model": "gpt-4o-mini", "messages": HELLO, "user": "u" * 256,
                              "metadata": {f"{'k' * 62}{i:02d}": "v" * 512 for i in range(16)}})
    assert answer.status_code == 200, answer.text
    receipt = httpx.get(f"{stack.base_url}/receipts/{answer.headers['x-nextmodel-receipt-id']}",
                        headers={"authorization": f"Bearer {account.key}"}, timeout=30)
    assert receipt.status_code == 200, receipt.text
    assert len(receipt.json()["tags"]) == 32


OVERSIZED_ADMIN = [
    ("team-name-201", "post", "/admin/v1/teams", {"name": "t" * 201}, "name"),
    ("team-name-nul", "post", "/admin/v1/teams", {"name": "a\u0000b"}, "name"),
    ("project-team-id-65", "post", "/admin/v1/projects", {"team_id": "t" * 65, "name": "p"}, "team_id"),
    ("key-name-201", "post", "/admin/v1/keys", {"project_id": "proj_x", "name": "k" * 201}, "name"),
    ("key-tag-name-70", "post", "/admin/v1/keys", {"project_id": "proj_x", "tags": {"n" * 70: "v"}}, "tags"),
    ("key-tag-value-nul", "post", "/admin/v1/keys", {"project_id": "proj_x", "tags": {"k": "\u0000"}}, "tags.k"),
    ("key-33-tags", "post", "/admin/v1/keys", {"project_id": "proj_x", "tags": {f"k{i}": "v" for i in range(33)}},
     "tags"),
    ("key-policy-129", "post", "/admin/v1/keys", {"project_id": "proj_x", "default_policy": "p" * 129},
     "default_policy"),
    ("budget-scope-id-65", "put", "/admin/v1/budgets",
     {"scope": "team", "scope_id": "t" * 65, "period": "daily", "limit_usd": "1"}, "scope_id"),
]


@pytest.mark.parametrize("method, path, body, param", [case[1:] for case in OVERSIZED_ADMIN],
                         ids=[case[0] for case in OVERSIZED_ADMIN])
def test_an_admin_value_past_its_limit_is_400_naming_it(stack, method, path, body, param) -> None:
    with stack.admin() as admin:
        answer = getattr(admin, method)(path, json=body)
    assert_openai_error(answer, 400, param=param)


@pytest.mark.parametrize("path", ["/admin/v1/keys/key_%00x", "/admin/v1/keys?project_id=%00",
                                  "/admin/v1/projects/proj_%1f/provider-keys", "/v1/receipts/rcpt_%00"])
def test_a_control_character_in_the_url_is_400(stack, path) -> None:
    with stack.admin() as admin:
        answer = admin.get(path)
    assert_openai_error(answer, 400, code="invalid_url")


@pytest.mark.parametrize("path, body", [
    ("/admin/v1/keys", {"project_id": 7}), ("/admin/v1/teams", "not json"), ("/admin/v1/budgets", {}),
])
@pytest.mark.parametrize("key", ["none", "wrong", "project"])
def test_admin_routes_authenticate_before_they_validate(stack, account, path, body, key) -> None:
    """A bad or missing key hears 401 whatever the body holds; 400 is for the admin only."""
    headers = {"none": {}, "wrong": {"authorization": "Bearer nm-wrong-key-0000000000000000000000000000"},
               "project": {"authorization": f"Bearer {account.key}"}}[key]
    method = "put" if path.endswith("budgets") else "post"
    content = body if isinstance(body, str) else None
    answer = httpx.request(method.upper(), f"{stack.edge_url}{path}", headers=headers, timeout=30,
                           **({"content": content} if content else {"json": body}))
    assert_openai_error(answer, 401, code="admin_key_required")
    with stack.admin() as admin:
        assert admin.request(method.upper(), path, **({"content": content} if content else {"json": body})
                             ).status_code == 400


def test_an_invalid_chat_body_with_a_bad_key_is_401(stack) -> None:
    answer = httpx.post(f"{stack.base_url}/chat/completions", content=b"{not json",
                        headers={"authorization": "Bearer nm-wrong-key-0000000000000000000000000000"}, timeout=30)
    assert_openai_error(answer, 401, code="invalid_api_key")


# -- last: what every refused request above left behind ------------------------------------------------

def test_the_refused_requests_left_no_usage_row_once_settlements_land(stack, account, fake_upstream) -> None:
    """After everything above, one good request is the account's only usage row."""
    calls = fake_upstream.calls
    answer = httpx.post(f"{stack.base_url}/chat/completions", headers={"authorization": f"Bearer {account.key}"},
                        json={"model": "gpt-4o-mini", "messages": HELLO}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert fake_upstream.calls == calls + 1
    time.sleep(0.5)  # time for any late settlement of an earlier request to land as well
    assert settled_usage(stack, account.key, 1)["total"]["requests"] == 1


def test_a_rotated_x_forwarded_for_does_not_escape_the_failed_authentication_guard(fake_upstream, tmp_path) -> None:
    """By default no proxy is trusted: X-Forwarded-For is ignored, so the guard counts the real peer."""
    running = Stack(tmp_path, {**provider_env(fake_upstream), "NEXTMODEL_AUTH_FAILURE_LIMIT": "3",
                               "NEXTMODEL_AUTH_FAILURE_WINDOW_SECONDS": "30"}).start()
    try:
        with httpx.Client(base_url=running.edge_url, timeout=30) as http:
            statuses = [http.get("/v1/models", headers={"authorization": f"Bearer nm-guess-{i:04d}" + "x" * 28,
                                                        **as_source(f"198.51.100.{i}")}).status_code
                        for i in range(6)]
        assert statuses == [401, 401, 401, 429, 429, 429]
    finally:
        running.stop()
