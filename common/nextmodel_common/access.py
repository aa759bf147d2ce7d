"""Checks of presented credentials that several services share."""

from __future__ import annotations

import hmac


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` value."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def metadata_bearer(context) -> str | None:
    """The bearer token of a gRPC call's `authorization` metadata."""
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            return bearer(value)
    return None


def is_admin_key(presented: str | None, configured: str | None) -> bool:
    """Constant-time comparison with NEXTMODEL_ADMIN_KEY; never true when it is unset."""
    if not configured or not presented:
        return False
    return hmac.compare_digest(presented.encode(), configured.encode())
