"""Per-key rate limits: requests and tokens per minute, in fixed one-minute windows.

With NEXTMODEL_REDIS_URL the counters live in Redis, shared by every router replica;
otherwise in this process. A refused request gets 429 with Retry-After (the seconds
until the window turns). Tokens are counted after each request (the prompt estimate is
checked before it), so a burst can overshoot the token limit by one request's tokens.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

from nextmodel_common.errors import GatewayError

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60


class Counters(Protocol):
    async def incr(self, key: str, amount: int, ttl: int) -> int:
        """Add `amount` to a counter and return the new value."""

    async def get(self, key: str) -> int: ...


class MemoryCounters:
    def __init__(self) -> None:
        self._values: dict[str, tuple[int, float]] = {}

    async def incr(self, key: str, amount: int, ttl: int) -> int:
        now = time.monotonic()
        value, expires = self._values.get(key, (0, now + ttl))
        if expires <= now:
            value, expires = 0, now + ttl
        value += amount
        self._values[key] = (value, expires)
        if len(self._values) > 200_000:
            self._values = {k: v for k, v in self._values.items() if v[1] > now}
        return value

    async def get(self, key: str) -> int:
        value, expires = self._values.get(key, (0, 0.0))
        return value if expires > time.monotonic() else 0


class RedisCounters:
    def __init__(self, url: str, prefix: str = "nm:rl:") -> None:
        import redis.asyncio as redis

        self.client = redis.from_url(url)
        self.prefix = prefix

    async def incr(self, key: str, amount: int, ttl: int) -> int:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incrby(self.prefix + key, amount)
            pipe.expire(self.prefix + key, ttl, nx=True)
            value, _ = await pipe.execute()
        return int(value)

    async def get(self, key: str) -> int:
        return int(await self.client.get(self.prefix + key) or 0)

    async def close(self) -> None:
        await self.client.aclose()


class RateLimiter:
    def __init__(self, counters: Counters) -> None:
        self.counters = counters

    @staticmethod
    def _window(now: float) -> tuple[int, int]:
        window = int(now // WINDOW_SECONDS)
        return window, WINDOW_SECONDS - int(now % WINDOW_SECONDS)

    async def admit(self, key_id: str, *, requests_per_minute: int, tokens_per_minute: int,
                    prompt_tokens: int) -> None:
        """Count this request; refuse it (429) when the key is over either limit this minute."""
        if not requests_per_minute and not tokens_per_minute:
            return
        window, retry_after = self._window(time.time())
        try:
            if requests_per_minute:
                used = await self.counters.incr(f"{key_id}:r:{window}", 1, WINDOW_SECONDS * 2)
                if used > requests_per_minute:
                    raise GatewayError(429, f"Rate limit reached: {requests_per_minute} requests per minute for "
                                            f"this key. Retry in {retry_after} s.", code="rate_limit_exceeded",
                                       retry_after_seconds=retry_after)
            if tokens_per_minute:
                used = await self.counters.get(f"{key_id}:t:{window}")
                if used + prompt_tokens > tokens_per_minute:
                    raise GatewayError(429, f"Rate limit reached: {tokens_per_minute} tokens per minute for this "
                                            f"key. Retry in {retry_after} s.", code="rate_limit_exceeded",
                                       retry_after_seconds=retry_after)
        except GatewayError:
            raise
        except Exception:  # a rate-limit store that is down must not take the gateway down
            log.warning("rate limit store unavailable; admitting", exc_info=True)

    async def spent(self, key_id: str, tokens: int, *, tokens_per_minute: int) -> None:
        if not tokens_per_minute or tokens <= 0:
            return
        window, _ = self._window(time.time())
        try:
            await self.counters.incr(f"{key_id}:t:{window}", tokens, WINDOW_SECONDS * 2)
        except Exception:
            log.warning("rate limit store unavailable; tokens not counted", exc_info=True)
