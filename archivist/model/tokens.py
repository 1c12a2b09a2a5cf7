"""Count word pieces exactly as the model does, without loading torch (the tokenizer file alone)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def _tokenizer(model_path: str):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def token_counter(model_path: Path):
    """A function that counts tokens (no special tokens) of each text in a batch."""
    tokenizer = _tokenizer(str(model_path))

    def count(texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    return count


def model_tokenizer(model_path: Path, max_tokens: int):
    """The tokenizer as the model runs it: special tokens added, cut at `max_tokens`, no padding."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
    tokenizer.enable_truncation(max_tokens)
    tokenizer.no_padding()
    return tokenizer


def ids_and_offsets(tokenizer, texts: Sequence[str]) -> tuple[list, list]:
    """Token ids of each text and each token's (start, end) characters ((0, 0) for special
    tokens), as int32 arrays, from one tokenizer pass."""
    import numpy as np

    encodings = tokenizer.encode_batch(list(texts))
    return ([np.asarray(e.ids, dtype=np.int32) for e in encodings],
            [np.asarray(e.offsets, dtype=np.int32).reshape(-1, 2) for e in encodings])
