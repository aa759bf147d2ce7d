"""Reading workloads: the documented format, helpful errors, and unlabelled exports of real traffic."""

from __future__ import annotations

import pytest

from nextmodel_cachesafety.workload import (
    DEFAULT_TENANT,
    WorkloadError,
    conversation_text,
    last_user_text,
    load_workload,
    parse_workload,
)


def test_a_minimal_line_gets_defaults() -> None:
    (request,) = parse_workload([b'{"request": {"model": "gpt-4o-mini", '
                                 b'"messages": [{"role": "user", "content": "hi"}]}}'])
    assert request.id == "line-1"
    assert request.tenant == DEFAULT_TENANT
    assert request.answer_class is None and request.family is None and request.language is None
    assert request.requested == "gpt-4o-mini"
    assert not request.is_trap


def test_blank_lines_are_skipped_and_line_numbers_kept(write_workload) -> None:
    path = write_workload({"id": "a", "request": {"model": "m", "messages": [{"role": "user", "content": "x"}]}})
    path.write_bytes(b"\n" + path.read_bytes() + b"\n\n")
    (request,) = load_workload(path)
    assert request.line == 2


@pytest.mark.parametrize(("raw", "message"), [
    (b"not json", "line 1|:1: not JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"request": "hello"}', "'request' must be"),
    (b'{"request": {"model": "m", "messages": []}}', "non-empty list"),
    (b'{"tenant": 5, "request": {"model": "m", "messages": [{"role": "user", "content": "x"}]}}', "'tenant' must be"),
    (b'{"completion_tokens": -1, "request": {"model": "m", "messages": [{"role": "user", "content": "x"}]}}',
     "completion_tokens"),
])
def test_bad_lines_name_the_file_and_line(raw: bytes, message: str) -> None:
    with pytest.raises(WorkloadError, match=message):
        parse_workload([raw], source="traffic.jsonl")


def test_duplicate_ids_are_refused() -> None:
    body = b'"request": {"model": "m", "messages": [{"role": "user", "content": "x"}]}'
    with pytest.raises(WorkloadError, match="already used on line 1"):
        parse_workload([b'{"id": "a", ' + body + b"}", b'{"id": "a", ' + body + b"}"])


def test_numeric_ids_and_classes_from_exports_are_accepted() -> None:
    (request,) = parse_workload([b'{"id": 7, "answer_class": 3, "request": {"model": "m", "messages": '
                                 b'[{"role": "user", "content": "x"}]}}'])
    assert (request.id, request.answer_class) == ("7", "3")


def test_texts_a_semantic_cache_embeds() -> None:
    body = {"messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "What is in"}, {"type": "image_url", "image_url": {}},
                                     {"type": "text", "text": "this picture?"}]},
        {"role": "assistant", "content": None, "tool_calls": []},
        {"role": "user", "content": "And now?"},
        {"role": "tool", "content": "42", "tool_call_id": "c1"},
    ]}
    assert last_user_text(body) == "And now?"
    assert conversation_text(body) == "Be brief.\nWhat is in this picture?\n\nAnd now?\n42"
