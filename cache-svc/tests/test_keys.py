import orjson
import pytest

from nextmodel_cache.keys import NotCacheable, cache_key


def key(body: dict, namespace: str = "proj_a", requested: str | None = None) -> str:
    return cache_key(namespace, requested or body["model"], orjson.dumps(body))


BASE = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "كم عدد السكان؟"}], "temperature": 0}


def test_key_ignores_order_whitespace_and_number_spelling() -> None:
    reordered = b'{ "temperature": 0.0,\n "messages": [{"content": "\xd9\x83\xd9\x85 \xd8\xb9\xd8\xaf\xd8\xaf \xd8\xa7\xd9\x84\xd8\xb3\xd9\x83\xd8\xa7\xd9\x86\xd8\x9f", "role": "user"}], "model": "gpt-4.1"}'  # noqa: E501 - the bytes as a client sends them
    assert cache_key("proj_a", "gpt-4.1", reordered) == key(BASE)


@pytest.mark.parametrize("field", ["stream", "stream_options", "user", "safety_identifier", "metadata", "store",
                                   "prompt_cache_key"])
def test_deny_listed_fields_do_not_change_the_key(field) -> None:
    assert key({**BASE, field: {"x": 1} if field in ("stream_options", "metadata") else "v"}) == key(BASE)


@pytest.mark.parametrize("change", [
    {"messages": [{"role": "user", "content": "كم عدد السكان؟ "}]},       # trailing space
    {"messages": [{"role": "user", "content": "كَم عدد السكان؟"}]},        # a diacritic
    {"temperature": 0.2},
    {"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
    {"response_format": {"type": "json_object"}},
    {"a_field_from_the_future": True},
])
def test_any_semantic_change_is_a_different_key(change) -> None:
    assert key({**BASE, **change}) != key(BASE)


def test_tenant_and_requested_model_are_part_of_the_key() -> None:
    assert key(BASE, namespace="proj_b") != key(BASE)
    assert key(BASE, requested="nextmodel/cheap") != key(BASE)


def test_non_object_bodies_are_not_cacheable() -> None:
    with pytest.raises(NotCacheable):
        cache_key("p", "m", b"[1, 2]")
