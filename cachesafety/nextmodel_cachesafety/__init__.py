"""CacheSafety Bench: replays a team's chat requests through cache policies before the cache is turned on.

For each policy it reports how often a cached answer would be served, how often that answer would be
wrong (another answer class, or another tenant's), which look-alike "trap" requests fool it, and what
the team would save. See docs/cachesafety.md.
"""
