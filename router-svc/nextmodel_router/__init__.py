"""router-svc: authentication, model resolution, cache-then-upstream, provider adapters."""
