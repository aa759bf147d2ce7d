"""`nextmodel` commands for accounts, keys, budgets, provider keys, spend and receipts.

They call the edge's REST API (NEXTMODEL_URL, default http://127.0.0.1:8080) with
NEXTMODEL_ADMIN_KEY for admin operations, or NEXTMODEL_API_KEY for a project's own spend
and receipts. `receipts verify` works offline with NEXTMODEL_RECEIPT_SECRET.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson


class CommandError(Exception):
    pass


def _print(value) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def _client(admin: bool) -> httpx.Client:
    key = os.environ.get("NEXTMODEL_ADMIN_KEY") if admin else (
        os.environ.get("NEXTMODEL_API_KEY") or os.environ.get("NEXTMODEL_ADMIN_KEY"))
    if not key:
        raise CommandError("set NEXTMODEL_ADMIN_KEY" + ("" if admin else " or NEXTMODEL_API_KEY"))
    return httpx.Client(base_url=os.environ.get("NEXTMODEL_URL", "http://127.0.0.1:8080"),
                        headers={"authorization": f"Bearer {key}"}, timeout=60)


def _request(method: str, path: str, *, admin: bool = True, **kwargs):
    with _client(admin) as client:
        response = client.request(method, path, **kwargs)
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text
        raise CommandError(f"HTTP {response.status_code}: {message}")
    return response.json()


def _tags(values: list[str] | None) -> dict[str, str]:
    tags = {}
    for value in values or ():
        name, sep, tag_value = value.partition("=")
        if not sep:
            raise CommandError(f"tags look like name=value, not {value!r}")
        tags[name] = tag_value
    return tags


def _verify(args) -> int:
    from nextmodel_billing.domain import receipt_from_dict, verify

    secret = os.environ.get("NEXTMODEL_RECEIPT_SECRET")
    if not secret:
        raise CommandError("set NEXTMODEL_RECEIPT_SECRET to the secret billing signs receipts with")
    text = Path(args.file).read_text(encoding="utf-8").strip()
    if text.startswith("["):
        items = orjson.loads(text)
    elif "\n" in text:
        items = [orjson.loads(line) for line in text.splitlines() if line.strip()]
    else:
        items = [orjson.loads(text)]
    failed = 0
    for item in items:
        try:
            ok = verify(receipt_from_dict(item), secret.encode())
        except (KeyError, TypeError, ValueError):
            ok = False
        failed += not ok
        print(f"{item.get('id', '?')}: {'OK' if ok else 'FAILED (tampered, or signed with another secret)'}")
    print(f"{len(items) - failed} verified, {failed} failed")
    return 1 if failed else 0


def _call(args) -> tuple[str, str, dict] | None:
    """(method, path, request options) of a command that is one API call whose answer is printed."""
    project_keys = f"/admin/v1/projects/{args.project}/provider-keys" if hasattr(args, "project") else ""
    calls: dict[tuple[str, str], Callable[[], tuple[str, str, dict]]] = {
        ("teams", "create"): lambda: ("POST", "/admin/v1/teams",
                                      {"json": {"name": args.name, "cache_shared": args.cache_shared}}),
        ("teams", "list"): lambda: ("GET", "/admin/v1/teams", {}),
        ("projects", "create"): lambda: ("POST", "/admin/v1/projects",
                                         {"json": {"team_id": args.team, "name": args.name}}),
        ("projects", "list"): lambda: ("GET", "/admin/v1/projects", {"params": {"team_id": args.team or ""}}),
        ("keys", "create"): lambda: ("POST", "/admin/v1/keys", {"json": {
            "project_id": args.project, "name": args.name, "allowed_models": args.allowed_model or [],
            "default_policy": args.default_policy or "", "tags": _tags(args.tag),
            "requests_per_minute": args.rpm, "tokens_per_minute": args.tpm,
            **({"expires_at": args.expires_at} if args.expires_at else {})}}),
        ("keys", "list"): lambda: ("GET", "/admin/v1/keys", {"params": {"project_id": args.project}}),
        ("keys", "revoke"): lambda: ("POST", f"/admin/v1/keys/{args.key_id}/revoke", {}),
        ("budgets", "set"): lambda: ("PUT", "/admin/v1/budgets", {"json": {
            "scope": args.scope, "scope_id": args.scope_id, "period": args.period,
            "limit_usd": args.limit_usd, "hard": not args.soft}}),
        ("budgets", "list"): lambda: ("GET", "/admin/v1/budgets", {}),
        ("budgets", "delete"): lambda: ("DELETE", f"/admin/v1/budgets/{args.budget_id}", {}),
        # The provider's key is read from stdin, so it stays out of shell history.
        ("provider-keys", "set"): lambda: ("PUT", f"{project_keys}/{args.provider}",
                                           {"json": {"api_key": sys.stdin.readline().strip()}}),
        ("provider-keys", "delete"): lambda: ("DELETE", f"{project_keys}/{args.provider}", {}),
        ("provider-keys", "list"): lambda: ("GET", project_keys, {}),
        ("usage", "summary"): lambda: ("GET", "/v1/usage", {"admin": False, "params": {
            "group_by": args.group_by, "start": args.start or "", "end": args.end or "",
            "project_id": args.project or "", "currency": args.currency}}),
        ("receipts", "get"): lambda: ("GET", f"/v1/receipts/{args.receipt_id}",
                                      {"admin": False, "params": {"currency": args.currency}}),
    }
    make = calls.get((args.group, args.action))
    return make() if make else None


def _export(args) -> None:
    params = {"format": args.format, "start": args.start or "", "end": args.end or "",
              "project_id": args.project or ""}
    with _client(admin=False) as client, client.stream("GET", "/v1/usage/export", params=params) as response:
        if response.status_code >= 400:
            raise CommandError(f"HTTP {response.status_code}: {response.read().decode()}")
        with (open(args.output, "wb") if args.output else contextlib.nullcontext(sys.stdout.buffer)) as out:
            for chunk in response.iter_bytes():
                out.write(chunk)


def _run(args) -> int:
    call = _call(args)
    if call is not None:
        method, path, options = call
        _print(_request(method, path, **options))
    elif (args.group, args.action) == ("usage", "export"):
        _export(args)
    elif (args.group, args.action) == ("receipts", "verify"):
        return _verify(args)
    return 0


def add_commands(commands) -> None:
    """Register the admin, usage and receipt commands on the `nextmodel` parser."""
    teams = commands.add_parser("teams", help="teams").add_subparsers(dest="action", required=True)
    create = teams.add_parser("create")
    create.add_argument("name")
    create.add_argument("--cache-shared", action="store_true", help="share cache entries across the team's projects")
    teams.add_parser("list")

    projects = commands.add_parser("projects", help="projects").add_subparsers(dest="action", required=True)
    create = projects.add_parser("create")
    create.add_argument("name")
    create.add_argument("--team", required=True)
    projects.add_parser("list").add_argument("--team")

    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="action", required=True)
    create = keys.add_parser("create", help="create a key; the full key is shown once")
    create.add_argument("--project", required=True)
    create.add_argument("--name", default="api key")
    create.add_argument("--allowed-model", action="append")
    create.add_argument("--default-policy")
    create.add_argument("--tag", action="append", help="name=value, e.g. environment=prod")
    create.add_argument("--rpm", type=int, default=0, help="requests per minute (0: no limit)")
    create.add_argument("--tpm", type=int, default=0, help="tokens per minute (0: no limit)")
    create.add_argument("--expires-at", help="ISO-8601 date-time")
    keys.add_parser("list").add_argument("--project", required=True)
    keys.add_parser("revoke").add_argument("key_id")

    budgets = commands.add_parser("budgets", help="budgets").add_subparsers(dest="action", required=True)
    create = budgets.add_parser("set")
    create.add_argument("--scope", choices=["key", "project", "team"], required=True)
    create.add_argument("--scope-id", required=True)
    create.add_argument("--period", choices=["daily", "weekly", "monthly", "total"], required=True)
    create.add_argument("--limit-usd", required=True, help="decimal, e.g. 25.00")
    create.add_argument("--soft", action="store_true", help="warn instead of refusing")
    budgets.add_parser("list")
    budgets.add_parser("delete").add_argument("budget_id")

    provider_keys = commands.add_parser("provider-keys", help="projects' own provider keys").add_subparsers(
        dest="action", required=True)
    for action in ("set", "delete", "list"):
        parser = provider_keys.add_parser(action, help="the key is read from standard input" if action == "set"
                                          else None)
        parser.add_argument("--project", required=True)
        if action != "list":
            parser.add_argument("--provider", required=True)

    usage = commands.add_parser("usage", help="spend").add_subparsers(dest="action", required=True)
    summary = usage.add_parser("summary")
    summary.add_argument("--group-by", default="model")
    summary.add_argument("--currency", choices=["USD", "SAR"], default="USD")
    export = usage.add_parser("export")
    export.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    export.add_argument("--output", "-o")
    for parser in (summary, export):
        parser.add_argument("--start")
        parser.add_argument("--end")
        parser.add_argument("--project")

    receipts = commands.add_parser("receipts", help="receipts").add_subparsers(dest="action", required=True)
    get = receipts.add_parser("get")
    get.add_argument("receipt_id")
    get.add_argument("--currency", choices=["USD", "SAR"], default="USD")
    receipts.add_parser("verify", help="check exported receipts' signatures offline").add_argument("file")


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except CommandError as error:
        print(f"nextmodel: {error}", file=sys.stderr)
        return 2
