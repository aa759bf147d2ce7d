from __future__ import annotations

from functools import lru_cache

from nextmodel_common.settings import BaseServiceSettings


class EdgeSettings(BaseServiceSettings):
    edge_port: int = 8080
    # Deadline for one non-streaming chat completion through the router (seconds).
    chat_timeout: float = 620.0
    # Deadline for the other router calls and health checks (seconds).
    internal_timeout: float = 5.0

    # Ingress guard (middleware.py; docs/operations.md, "Bad input and overload").
    # Requests served at once; past this the edge answers 503 with Retry-After instead of queueing.
    # /healthz, /readyz and the dashboard's files are never shed. 0 turns shedding off.
    edge_max_in_flight: int = 256
    # Largest request body in bytes; a larger one gets 413 while it is read, before it is buffered.
    max_body_bytes: int = 10 * 1024 * 1024
    # Largest request line plus headers in bytes; more gets 431 (uvicorn with httptools has no limit).
    max_header_bytes: int = 16 * 1024
    # Failed authentication: after this many 401 answers to one client address within the window,
    # that address gets 429 (not forwarded) until a window has passed. 0 turns the guard off.
    auth_failure_limit: int = 20
    auth_failure_window_seconds: float = 60.0
    # Client addresses the guard remembers at most (the oldest is forgotten first).
    auth_failure_max_sources: int = 100_000
    # Peers whose X-Forwarded-For names the client (comma-separated addresses or CIDRs, "*" for any).
    # Empty (the default): X-Forwarded-For is ignored, so a caller cannot choose the address the
    # failed-authentication guard counts. Behind an ingress or load balancer, list its addresses
    # (the Kubernetes manifests do), or every client shares the ingress's address.
    edge_forwarded_allow_ips: str = ""


@lru_cache
def get_settings() -> EdgeSettings:
    return EdgeSettings()
