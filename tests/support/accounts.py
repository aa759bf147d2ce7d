"""Make a fresh team, project and key through the admin API, so tests never share spend."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from tests.support.stack import Stack


@dataclass(frozen=True)
class Account:
    team_id: str
    project_id: str
    key_id: str
    key: str


def new_account(stack: Stack, *, cache: dict | None = None, team_id: str | None = None, **key_fields) -> Account:
    suffix = uuid.uuid4().hex[:8]
    with stack.admin() as admin:
        if team_id is None:
            team_id = admin.post("/admin/v1/teams", json={"name": f"team {suffix}"}).json()["id"]
        team = {"id": team_id}
        project = admin.post("/admin/v1/projects", json={"team_id": team_id, "name": f"project {suffix}",
                                                         **({"cache": cache} if cache else {})}).json()
        created = admin.post("/admin/v1/keys", json={"project_id": project["id"], "name": "test", **key_fields})
        assert created.status_code == 201, created.text
        key = created.json()
    return Account(team["id"], project["id"], key["id"], key["key"])


def settled_usage(stack: Stack, key: str, requests: int, timeout: float = 10.0, **params) -> dict:
    """GET /v1/usage once `requests` settlements have landed (routers settle just after answering)."""
    import time

    import httpx

    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.get(f"{stack.base_url}/usage", params=params, headers={"authorization": f"Bearer {key}"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        if body["total"]["requests"] >= requests or time.monotonic() > deadline:
            return body
        time.sleep(0.05)
