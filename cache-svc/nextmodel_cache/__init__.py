"""cache-svc: the exact cache, its key function, in-flight coalescing and hit statistics."""
