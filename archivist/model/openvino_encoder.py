"""all-MiniLM-L6-v2 run by OpenVINO: 5x plain sentence-transformers on this kind of CPU, same vectors.

The model is converted once from the bundled PyTorch weights (never downloaded) into OpenVINO's
format, with mean pooling and L2 normalisation inside the graph and the token states as a second
output (sentence vectors are pooled from them). The export is cached per model, OpenVINO version
and export version. Later processes import only openvino and tokenizers (0.15 s, no torch) and
load the compiled model from OpenVINO's own cache, which is what makes a one-shot search fast.

bf16 is used where the CPU computes it natively (AVX-512 BF16 / AMX): cosine to fp32 >= 0.9999
on real passages. Elsewhere f32, which gives the fp32 vectors and is still faster than torch.
The precision recorded is the one the compiled model reports, not the one asked for.

Two settings measured on a 2-core AVX-512 BF16 EPYC (benchmarks/speed.py, 5,410 Reuters
passages; see the README): every batch is padded to a width that is a multiple of WIDTH_STEP
tokens, because each new input shape costs the CPU plugin a kernel build (139 -> 165 passages/s,
and 1.8 GB less memory after a reindex); and bulk embedding runs on a throughput-compiled model
with one inference in flight per stream (one stream a core), which beats one two-thread
inference at a time (165 -> 172 passages/s) because this model's layers are too small to split
well across cores. A single query keeps the latency-compiled model: one inference on every core.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

EXPORT_VERSION = 2  # 2: token states as a second output
MODEL_FILE = "model.xml"
WIDTH_STEP = 16
# Below this many batches a bulk encode is not worth a second compiled model.
BULK_FROM_BATCHES = 4


def cache_root() -> Path:
    """$ARCHIVIST_MODEL_CACHE, else $XDG_CACHE_HOME/archivist/models, else ~/.cache/archivist/models."""
    from archivist.config import cache_home, model_cache_dir

    return model_cache_dir() or cache_home() / "models"


CONVERTER = "openvino.tools.ovc"


def runtime():
    """The openvino module, imported without its model converter where it is not loaded yet.

    `import openvino` also imports the converter (and, through it, telemetry and urllib): about
    half of its 0.1 s, which a one-shot search pays and never uses. An entry of None in
    sys.modules makes that one import fail, which openvino's own __init__ tolerates; the entry is
    removed again at once, so converting a model later (`_convert`) imports the converter as usual.
    """
    if "openvino" in sys.modules:
        import openvino

        return openvino
    blocked = sys.modules.setdefault(CONVERTER, None) is None
    try:
        import openvino
    finally:
        if blocked and sys.modules.get(CONVERTER, 0) is None:
            del sys.modules[CONVERTER]
    return openvino


@functools.lru_cache(maxsize=1)
def _core():
    """One OpenVINO runtime per process: making one loads its plugins (about 0.1 s), which a
    one-shot search paid twice (the capability check, then the compile)."""
    return runtime().Core()


def native_bf16() -> bool:
    """Whether OpenVINO reports bf16 arithmetic on this CPU (what makes the fast path fast)."""
    runtime()  # raises where openvino is missing, even once a runtime was made
    return "BF16" in _core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def exported_model(model_path: Path) -> Path:
    """The OpenVINO model for the bundled weights, exporting it on first use (a few seconds)."""
    ov = runtime()

    fingerprint = hashlib.sha256()
    for name in ("config.json", "model.safetensors"):
        file = model_path / name
        fingerprint.update(f"{name}:{file.stat().st_size}".encode())
    with open(model_path / "model.safetensors", "rb") as handle:  # the first megabyte of the weights, not all 90 MB
        fingerprint.update(handle.read(1 << 20))
    fingerprint.update(f"openvino {ov.__version__} export {EXPORT_VERSION}".encode())
    folder = cache_root() / f"minilm-{fingerprint.hexdigest()[:16]}"
    if (folder / MODEL_FILE).is_file():
        return folder / MODEL_FILE
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
    try:
        ov.save_model(_convert(model_path), staging / MODEL_FILE, compress_to_fp16=False)
        staging.chmod(0o755)  # mkdtemp makes it private; a shared cache is read by other users
        try:
            os.replace(staging, folder)  # atomic: a concurrent export of the same model wins or loses whole
        except OSError:
            if not (folder / MODEL_FILE).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder / MODEL_FILE


def _convert(model_path: Path):
    """Trace the transformer plus mean pooling and normalisation (as sentence-transformers does);
    the token states are a second output."""
    import torch
    import transformers
    from openvino.tools.ovc import convert_model

    transformers.logging.set_verbosity_error()
    transformer = transformers.AutoModel.from_pretrained(str(model_path)).eval()

    class Pooled(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            tokens = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1), tokens

    example = {"input_ids": torch.ones((2, 16), dtype=torch.long),
               "attention_mask": torch.ones((2, 16), dtype=torch.long),
               "token_type_ids": torch.zeros((2, 16), dtype=torch.long)}
    with torch.no_grad():
        return convert_model(Pooled(transformer), example_input=example)


def _compile(xml: Path, precision: str, hint: str = "LATENCY", threads: int | None = None):
    core = _core()
    core.set_property({"CACHE_DIR": str(xml.parent / "compiled")})
    settings = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": hint}
    if threads:
        settings["INFERENCE_NUM_THREADS"] = threads
    return core.compile_model(str(xml), "CPU", settings)


def compiled_precision(compiled) -> str:
    """"bf16" or "f32": what the compiled model really computes in (the CPU may refuse bf16)."""
    reported = str(compiled.get_property("INFERENCE_PRECISION_HINT")).lower()  # e.g. "<Type: 'bfloat16'>"
    return "bf16" if "bf16" in reported or "bfloat16" in reported else "f32"


Batch = list[np.ndarray]
Output = tuple[np.ndarray, np.ndarray | None]  # (pooled vectors, token states or None)


class OpenVinoEncoder:
    """Compiled model plus tokenizer: token ids in, normalised vectors out."""

    def __init__(self, model_path: Path, precision: str, max_tokens: int, threads: int | None = None) -> None:
        from archivist.model.tokens import model_tokenizer

        xml = exported_model(model_path)
        try:
            self.compiled = _compile(xml, precision, threads=threads)
        except RuntimeError:
            shutil.rmtree(xml.parent, ignore_errors=True)  # a damaged export: convert again, once
            xml = exported_model(model_path)
            self.compiled = _compile(xml, precision, threads=threads)
        self.xml = xml
        self.precision = compiled_precision(self.compiled)
        self._bulk = None
        self._bulk_lock = threading.Lock()
        # One infer request per thread: the page's sessions and its reindex share this encoder,
        # and a request can run one inference at a time.
        self._local = threading.local()
        self.tokenizer = model_tokenizer(model_path, max_tokens)

    def run_all(self, batches: Sequence[tuple[object, Batch]], with_tokens: bool,
                done: Callable[[object, np.ndarray, np.ndarray | None], None],
                pause: Callable[[], None] | None = None) -> None:
        """Run every (key, batch), calling `done(key, vectors, token states or None)` for each in
        the order given, with one inference in flight per stream of the throughput model.
        `pause`, called before each batch starts, may block (a server's searches go first)."""
        if len(batches) < BULK_FROM_BATCHES:
            for key, batch in batches:
                if pause:
                    pause()
                done(key, *_outputs(self._request().infer(_inputs(batch)), with_tokens))
            return
        compiled = self._bulk_model()
        requests = [compiled.create_infer_request()
                    for _ in range(max(1, int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))))]
        in_flight: list[tuple[object] | None] = [None] * len(requests)  # (key,) of what each runs

        def finish(slot: int) -> None:
            requests[slot].wait()
            done(in_flight[slot][0], *_outputs(requests[slot].results, with_tokens))
            in_flight[slot] = None

        for number, (key, batch) in enumerate(batches):
            if pause:
                pause()
            slot = number % len(requests)
            if in_flight[slot] is not None:
                finish(slot)
            in_flight[slot] = (key,)
            requests[slot].start_async(_inputs(batch))
        for offset in range(len(requests)):  # the rest, in the order they were started
            slot = (len(batches) + offset) % len(requests)
            if in_flight[slot] is not None:
                finish(slot)

    def _request(self):
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.compiled.create_infer_request()
        return request

    def _bulk_model(self):
        """The throughput-compiled model, compiled on first bulk use (from OpenVINO's cache)."""
        with self._bulk_lock:
            if self._bulk is None:
                self._bulk = _compile(self.xml, self.precision, "THROUGHPUT")
            return self._bulk


def _inputs(batch: Batch) -> dict[str, np.ndarray]:
    """The model's three inputs for a batch of token id arrays, padded to a WIDTH_STEP multiple."""
    width = -(-max(len(ids) for ids in batch) // WIDTH_STEP) * WIDTH_STEP
    input_ids = np.zeros((len(batch), width), dtype=np.int64)
    attention = np.zeros((len(batch), width), dtype=np.int64)
    for row, ids in enumerate(batch):
        input_ids[row, :len(ids)] = ids
        attention[row, :len(ids)] = 1
    return {"input_ids": input_ids, "attention_mask": attention, "token_type_ids": np.zeros_like(input_ids)}


def _outputs(result, with_tokens: bool) -> Output:
    """Copies of the outputs (a request reuses its buffers for its next inference)."""
    pooled = np.array(result[0], dtype=np.float32)
    return pooled, (np.array(result[1], dtype=np.float32) if with_tokens else None)
