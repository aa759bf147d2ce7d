"""Code every NextModel service shares: settings base, gRPC bootstrap, telemetry, money, errors."""
