"""Provider adapters: each turns an OpenAI chat body into one provider's protocol and back."""

from nextmodel_router.adapters.base import UpstreamError, UpstreamResult
from nextmodel_router.adapters.openai_compat import OpenAICompatAdapter

__all__ = ["OpenAICompatAdapter", "UpstreamError", "UpstreamResult"]
