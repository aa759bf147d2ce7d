"""catalog-svc: providers, models, versioned prices, capabilities, routing policies."""
