"""Fuzz the edge's OpenAPI description with schemathesis against the running stack.

Every operation of the public API (chat, models, receipts, usage, quote, compare, cache stats)
is called with the dev key, and every /admin operation with the admin key, on data that fits
the schema and on data that does not. No answer may be a server error other than the
documented upstream ones (502, 503, 504).

Needs schemathesis (not a pinned dependency: `pip install schemathesis==4.32.5`); skipped
when it is not installed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402  (hypothesis comes with schemathesis)
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from tests.support.stack import Stack  # noqa: E402

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request) -> Stack:
    """Every case here runs on the embedded stack and on PostgreSQL and Redis, as production runs:
    SQLite enforces no column length, so a limit it hides would reach production."""
    return request.getfixturevalue("embedded_stack" if request.param == "sqlite" else "prod_stack")

SEED = 20_261_128
EXAMPLES_PER_OPERATION_AND_MODE = 25
# The upstream failures the API documents; anything else from 500 up is a bug.
DOCUMENTED_SERVER_ERRORS = {502, 503, 504}
# A generated model name is never in the catalog, so some chat cases name a real model (an
# OpenAI-compatible and an Anthropic one) to reach routing, the adapters and the fake upstream.
REAL_MODELS = [None, "gpt-4o-mini", "claude-sonnet-4-5"]


def naming_a_real_model(generated):
    case, model = generated
    if model is not None and isinstance(case.body, dict):
        case.body["model"] = model
    return case


@dataclass
class FuzzRun:
    cases: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)
    created_policies: set[str] = field(default_factory=set)


def fuzz(stack, key: str, wanted) -> FuzzRun:
    schema = schemathesis.openapi.from_url(f"{stack.edge_url}/openapi.json", timeout=10)
    run = FuzzRun()
    headers = {"authorization": f"Bearer {key}"}
    for result in schema.get_all_operations():
        operation = result.ok()
        if not wanted(operation.path):
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)
            if operation.path == "/v1/chat/completions" and mode == GenerationMode.POSITIVE:
                strategy = st.tuples(strategy, st.sampled_from(REAL_MODELS)).map(naming_a_real_model)

            @seed(SEED)
            @settings(max_examples=EXAMPLES_PER_OPERATION_AND_MODE, deadline=None, database=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def call(case) -> None:
                response = case.call(base_url=stack.edge_url, headers=headers, timeout=30)
                run.cases += 1
                run.by_status[response.status_code] = run.by_status.get(response.status_code, 0) + 1
                if response.status_code >= 500 and response.status_code not in DOCUMENTED_SERVER_ERRORS:
                    run.server_errors.append(f"{operation.label} ({mode.value}) -> {response.status_code} "
                                             f"{response.text[:300]}\n    {case.as_curl_command(headers=headers)}")
                if (operation.path == "/admin/v1/policies/{name}" and operation.method.upper() == "PUT"
                        and response.status_code == 200):
                    run.created_policies.add(case.path_parameters["name"])

            try:
                call()
            except Unsatisfiable:
                pass  # nothing to make invalid: an operation without parameters or body has no negative cases
    return run


def test_public_api_has_no_server_errors(stack) -> None:
    run = fuzz(stack, stack.dev_key, lambda path: path.startswith("/v1/"))
    print(f"public API: {run.cases} fuzz cases, statuses {sorted(run.by_status.items())}")
    assert run.cases >= 100
    assert not run.server_errors, "server errors:\n" + "\n".join(run.server_errors)


def test_admin_api_has_no_server_errors(stack) -> None:
    run = fuzz(stack, stack.admin_key, lambda path: path.startswith("/admin/"))
    # Routing policies the fuzz managed to create would route later tests' requests: remove them.
    with stack.admin() as admin:
        for name in run.created_policies:
            admin.delete(f"/admin/v1/policies/{quote(name, safe='')}")
    print(f"admin API: {run.cases} fuzz cases, statuses {sorted(run.by_status.items())}")
    assert run.cases >= 100
    assert not run.server_errors, "server errors:\n" + "\n".join(run.server_errors)
