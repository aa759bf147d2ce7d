from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UpstreamResult:
    """A complete, successful answer in OpenAI's chat.completion shape."""

    response: dict
    latency_ms: int


class UpstreamError(Exception):
    """A provider call that failed. `retryable` failures may go to the next candidate."""

    def __init__(self, provider: str, kind: str, message: str, *, status: int | None = None,
                 retryable: bool = False, retry_after: int = 0) -> None:
        super().__init__(message)
        self.provider = provider
        self.kind = kind  # "timeout" | "connect" | "http" | "protocol"
        self.message = message
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after

    @property
    def outcome(self) -> str:
        return f"http_{self.status}" if self.status else self.kind
