from __future__ import annotations

from functools import lru_cache

from pydantic import SecretStr

from nextmodel_common.settings import BaseServiceSettings, embedded_database_url


class BillingSettings(BaseServiceSettings):
    billing_port: int = 50053
    database_url: str = embedded_database_url("billing")
    # Signs receipts (HMAC-SHA256). The dev default is fine on a laptop, never in production.
    receipt_secret: SecretStr = SecretStr("nextmodel-dev-receipt-secret")
    # Create a default team, project and key at start (local development).
    bootstrap: bool = True
    # The development key to create; generated and printed when unset.
    dev_key: SecretStr | None = None
    # Seconds the router may trust an authentication answer (so a revoked key stops within seconds).
    auth_cache_ttl_seconds: int = 5
    # Guards /admin/v1 and the admin RPCs. Unset: admin calls are refused.
    admin_key: SecretStr | None = None
    # Encrypts projects' own provider keys at rest. The dev default is for laptops only.
    secret_key: SecretStr = SecretStr("nextmodel-dev-secret-key-change-me")
    # A reservation not settled or released within this time counts as spent at its worst case
    # (the sweeper marks it expired) until its settlement arrives and corrects it.
    reservation_ttl_seconds: int = 900
    # Rows per chunk of a usage export.
    export_batch_rows: int = 5000


@lru_cache
def get_settings() -> BillingSettings:
    return BillingSettings()
