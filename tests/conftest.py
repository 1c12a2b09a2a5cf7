"""Shared fixtures: the real model loaded once, the seed archive indexed once per test session."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from archivist.config import MODEL_DIMENSION, MODEL_NAME  # noqa: E402
from archivist.model.embedding import Embedder  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
# The five seed reports the tests are written about: a copy kept under tests/data, so a user who
# adds articles to archive/ still sees the suite pass.
SEED_ARCHIVE = DATA / "seed_archive"


class FakeEmbedder(Embedder):
    """Deterministic vectors from word hashes: for tests whose behaviour does not depend on the model.

    Texts sharing words get similar vectors, so search still behaves sensibly; it counts calls
    so tests can see what was (not) embedded.
    """

    name = MODEL_NAME
    backend = "fake"

    def __init__(self) -> None:
        super().__init__()
        self.encoded: list[str] = []

    def load(self):
        return None

    def encode(self, texts, batch_size=32, progress=None) -> np.ndarray:
        self.encoded.extend(texts)
        if progress:
            progress(len(texts), len(texts))
        return self._vectors(texts)

    def encode_passages(self, texts, sentence_spans, batch_size=32, progress=None, pause=None):
        """As the real one: one "model pass" per passage; its sentences' vectors come with it."""
        return self.encode(texts, batch_size, progress), [
            self._vectors([text[start:end] for start, end in spans]) for text, spans in zip(texts, sentence_spans)]

    @staticmethod
    def _vectors(texts) -> np.ndarray:
        out = np.zeros((len(texts), MODEL_DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                digest = hashlib.md5(word.strip(".,;:!?\"'").encode()).digest()
                out[row, int.from_bytes(digest[:4], "little") % MODEL_DIMENSION] += 1.0
            norm = np.linalg.norm(out[row]) or 1.0
            out[row] /= norm
        return out


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    embedder = Embedder()
    embedder.load()
    return embedder


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, real_embedder) -> Path:
    """The seed archive (tests/data/seed_archive) indexed with the real model, in a temporary folder."""
    from archivist.build.indexer import reindex

    root = tmp_path_factory.mktemp("seed")
    archive = root / "archive"
    shutil.copytree(SEED_ARCHIVE, archive)
    reindex(archive, root / "index", embedder=real_embedder)
    return root / "index"


@pytest.fixture(scope="session")
def seed_searcher(seed_index, real_embedder):
    from archivist.query.search import Searcher

    return Searcher.open(seed_index, embedder=real_embedder)


def write(path: Path, content: str | bytes) -> Path:
    """Create a file (and its folders) with text or bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path
