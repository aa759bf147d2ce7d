"""edge: the OpenAI REST surface. Converts HTTP to gRPC calls on the router; holds no business logic."""
