"""GET /dashboard/: the spend dashboard's files (HTML, CSS, ES modules and the vendored Chart.js).

The edge only serves files here. Every number on the pages comes from the public APIs
(/v1/usage, /v1/receipts, /v1/cache/stats, /v1/models, /admin/v1), called by the browser with
the key the person signed in with; the key stays in the tab's sessionStorage and travels only
as the bearer header. The files carry a Content-Security-Policy that allows no inline script,
no inline style sheet and no other origin, so the pages work with no CDN and no build step.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from nextmodel_common.errors import GatewayError
from nextmodel_edge.errors import error_response

STATIC = Path(__file__).resolve().parent / "static"

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".md": "text/plain; charset=utf-8",
}

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
    # Revalidate every time (cheap: the ETag answers 304), so an upgrade is seen at once.
    "cache-control": "no-cache",
}

router = APIRouter(include_in_schema=False)


_cache: dict[str, tuple[int, bytes, str]] = {}


def read(name: str) -> tuple[bytes, str, str] | None:
    """A file under static/ as (body, media type, ETag), or None.

    Only plain relative paths to files of a known type are served, and the resolved path
    must stay inside static/, so no request reaches another file. A file is read again
    when it changes on disk, so an edited page shows without restarting the edge.
    """
    parts = name.split("/")
    if not name or "\\" in name or any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    path = (STATIC / name).resolve()
    media_type = MEDIA_TYPES.get(path.suffix)
    if media_type is None or not path.is_relative_to(STATIC) or not path.is_file():
        return None
    modified = path.stat().st_mtime_ns
    cached = _cache.get(name)
    if cached is None or cached[0] != modified:
        body = path.read_bytes()
        cached = _cache[name] = (modified, body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return cached[1], media_type, cached[2]


def _serve(name: str, request: Request) -> Response:
    found = read(name)
    if found is None:
        return error_response(GatewayError(404, f"Unknown path {request.url.path}. The dashboard is at /dashboard/.",
                                           code="unknown_url"))
    body, media_type, etag = found
    headers = {**SECURITY_HEADERS, "etag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


@router.get("/dashboard")
async def dashboard_redirect() -> Response:
    return RedirectResponse("/dashboard/", status_code=308)


@router.get("/dashboard/")
async def dashboard_index(request: Request) -> Response:
    return _serve("index.html", request)


@router.get("/dashboard/{name:path}")
async def dashboard_file(name: str, request: Request) -> Response:
    return _serve(name, request)
