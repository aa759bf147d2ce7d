"""Provider adapters: each turns an OpenAI chat body into one provider's protocol and back."""

from nextmodel_router.adapters.anthropic import AnthropicAdapter
from nextmodel_router.adapters.base import Adapter, ProviderCall, Unsupported, UpstreamError, UpstreamResult
from nextmodel_router.adapters.openai_compat import OpenAICompatAdapter

__all__ = ["Adapter", "AnthropicAdapter", "OpenAICompatAdapter", "ProviderCall", "Unsupported", "UpstreamError",
           "UpstreamResult"]
