"""Embedding a reindex's passages on a Ray cluster (`reindex --ray [ADDRESS]`).

Embedding is what outgrows one machine (about 160 passages/s on 2 cores: weeks for 500 million
passages), so that is the part that goes to Ray. A reindex reads and splits the archive as
always; the passages the embedding cache lacks go to a Ray Data pipeline whose `map_batches`
runs in a fixed pool of actors (`ActorPoolStrategy`), each holding the model once, and their
vectors (passage and sentence vectors, from the same pass as in-process) come back into the
cache, so the rest of the reindex is unchanged. Nothing of Ray is imported unless this runs.

Choices, from Ray's behaviour on these machines:
- the pool leaves one CPU of the cluster free (an actor pool as large as the CPU count starves
  Ray Data's own reading stage and hangs); `ARCHIVIST_RAY_ACTORS` sets its size;
- a cluster with GPUs gets one actor per GPU, each running the model on its GPU with torch;
- without an address a local cluster is started inside this process, on loopback only, with no
  dashboard and no usage reporting, and shut down afterwards.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence

import numpy as np

from archivist.model.embedding import Embedder

BATCH_ROWS = 128  # passages per actor call: large enough to keep the model busy, small enough to stream
LOCAL_OBJECT_STORE_BYTES = 1_000_000_000


class PassageEmbedder:
    """A Ray Data actor: loads the model once, embeds a batch of passages per call."""

    def __init__(self, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.embedder = Embedder(backend="torch", device=device) if device != "cpu" else Embedder()
        self.embedder.load()

    def __call__(self, batch: dict) -> dict:
        spans = [[tuple(span) for span in json.loads(s)] for s in batch["spans"]]
        vectors, sentences = self.embedder.encode_passages(list(batch["text"]), spans)
        return {"row": batch["row"], "vector": vectors,
                "sentences": np.array([s.astype(np.float32).tobytes() for s in sentences], dtype=object),
                "backend": np.array([self.embedder.backend] * len(vectors), dtype=object)}


class RayEmbedder:
    """The reindex's embedder with `encode_passages` run on Ray; everything else (queries, the
    story step's few encodes) stays with the local embedder it wraps."""

    def __init__(self, local: Embedder, address: str | None = None, actors: int | None = None) -> None:
        self.local = local
        self.address = address
        self.actors = actors
        self.remote_backend: str | None = None

    def __getattr__(self, name: str):
        return getattr(self.local, name)

    @property
    def loaded(self) -> bool:
        return self.remote_backend is not None or self.local.loaded

    @property
    def backend(self) -> str:
        return f"{self.remote_backend} on Ray" if self.remote_backend else self.local.backend

    def encode_passages(self, texts: Sequence[str], sentence_spans: Sequence[Sequence[tuple[int, int]]],
                        batch_size: int = 0, progress: Callable[[int, int], None] | None = None,
                        pause: Callable[[], None] | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        import ray

        started_here = _connect(self.address)
        import logging

        logging.getLogger("ray.data").setLevel(logging.WARNING)  # ray.init resets it
        try:
            return self._encode(ray, texts, sentence_spans, progress)
        finally:
            if started_here:
                ray.shutdown()

    def _encode(self, ray, texts, sentence_spans, progress) -> tuple[np.ndarray, list[np.ndarray]]:
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        size = self.actors or actor_count(int(resources.get("CPU", 1)), gpus)
        rows = [{"row": i, "text": t, "spans": json.dumps([list(s) for s in spans])}
                for i, (t, spans) in enumerate(zip(texts, sentence_spans))]
        dataset = ray.data.from_items(rows).map_batches(
            PassageEmbedder, fn_constructor_kwargs={"device": "cuda" if gpus else "cpu"},
            compute=ray.data.ActorPoolStrategy(size=size), batch_size=BATCH_ROWS, batch_format="numpy",
            num_cpus=0 if gpus else 1, num_gpus=1 if gpus else 0)
        out = np.zeros((len(texts), self.local.dimension), dtype=np.float32)
        sentences: list[np.ndarray] = [np.zeros((0, self.local.dimension), np.float32)] * len(texts)
        done = 0
        for batch in dataset.iter_batches(batch_size=BATCH_ROWS, batch_format="numpy"):
            for row, vector, blob, backend in zip(batch["row"], batch["vector"], batch["sentences"], batch["backend"]):
                out[int(row)] = vector
                sentences[int(row)] = np.frombuffer(blob, dtype=np.float32).reshape(-1, self.local.dimension).copy()
                self.remote_backend = str(backend)
            done += len(batch["row"])
            if progress:
                progress(done, len(texts))
        return out, sentences


def check_ray() -> None:
    """A one-line error when Ray is missing (an environment installed by hand, without it)."""
    try:
        import ray.data  # noqa: F401
    except ImportError:
        from archivist.errors import BadInput

        raise BadInput("reindex --ray needs Ray, which requirements.txt installs: run `make install` "
                       "(or leave out --ray to embed here).") from None


def actor_count(cpus: int, gpus: int) -> int:
    """One actor per GPU; else every CPU but one (a pool of all of them hangs), at least one."""
    return gpus if gpus else max(1, cpus - 1)


def _connect(address: str | None) -> bool:
    """Join the cluster at `address` (or $RAY_ADDRESS), else start a local one in this process;
    returns whether this call started it (and so must shut it down)."""
    import logging

    import ray

    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # Ray Data logs every stage's progress at INFO; the reindex's own bar shows the counts.
    logging.getLogger("ray").setLevel(logging.WARNING)
    ray.data.DataContext.get_current().enable_progress_bars = False
    address = address or os.environ.get("RAY_ADDRESS")
    if address and address != "local":
        ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        return True
    ray.init(num_cpus=os.cpu_count() or 1, object_store_memory=LOCAL_OBJECT_STORE_BYTES,
             include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             logging_level=logging.WARNING)
    return True
