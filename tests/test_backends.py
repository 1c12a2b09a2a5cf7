"""Which embedding backend runs, the fallback to torch, and that both give the same vectors."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from archivist.model import embedding, openvino_encoder
from archivist.model.embedding import Embedder, choose_backend

PASSAGES = [
    "The Panjshir valley held out against the Taliban as the rest of Afghanistan fell in August.",
    "Who supported the Northern Alliance",
    "During the onset of the Northern Alliance's bout against the Taliban more than a quarter of a "
    "century ago, the resistance received support from regional countries including Russia, India, "
    "Iran and Tajikistan. " * 4,
    "Ünïcödé, emoji 🙂 and CJK 北京 in one line.",
]


def test_openvino_is_chosen_when_it_is_installed_and_torch_when_asked(monkeypatch):
    monkeypatch.delenv("ARCHIVIST_BACKEND", raising=False)
    monkeypatch.setattr(openvino_encoder, "native_bf16", lambda: True)
    assert choose_backend() == "openvino-bf16"
    monkeypatch.setattr(openvino_encoder, "native_bf16", lambda: False)
    assert choose_backend() == "openvino-f32"  # no bf16 in this CPU: exact fp32 vectors
    monkeypatch.setenv("ARCHIVIST_BACKEND", "torch")
    assert choose_backend() == "torch"


def test_torch_is_the_fallback_when_openvino_is_missing(monkeypatch):
    monkeypatch.delenv("ARCHIVIST_BACKEND", raising=False)
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino now raises ImportError
    assert choose_backend() == "torch"
    assert choose_backend("openvino") == "torch"


def test_a_failing_openvino_model_falls_back_to_torch_and_still_embeds(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("cannot compile")

    monkeypatch.setattr(openvino_encoder, "OpenVinoEncoder", broken)
    embedder = Embedder(backend="openvino")
    vectors = embedder.encode(PASSAGES[:2])
    assert embedder.backend == "torch"
    assert "cannot compile" in capsys.readouterr().err
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


@pytest.mark.skipif(choose_backend() == "torch", reason="OpenVINO is not usable on this machine")
def test_openvino_vectors_match_plain_sentence_transformers(real_embedder, monkeypatch, tmp_path):
    fast = Embedder(backend="auto")
    plain = Embedder(backend="torch")
    got, want = fast.encode(PASSAGES), plain.encode(PASSAGES)
    assert fast.backend.startswith("openvino")
    assert (got * want).sum(axis=1).min() >= 0.999
    # Batched with other lengths, a text gets the same vector as alone (padding is masked).
    alone = fast.encode([PASSAGES[1]])[0]
    assert float(alone @ got[1]) >= 0.9999


def test_sentence_vectors_come_from_the_passage_pass_and_both_backends_agree(real_embedder):
    parts = ["The ferry left the harbour at dawn.", "Fighters held the Panjshir valley against the Taliban.",
             "The price of bread rose again in Kabul markets."]
    text = "Harbour news\n" + " ".join(parts)
    spans = [(text.index(part), text.index(part) + len(part)) for part in parts]
    passages, [sentences] = real_embedder.encode_passages([text], [spans])
    assert float(passages[0] @ real_embedder.encode([text])[0]) >= 0.9999  # the same passage vector
    assert np.allclose(np.linalg.norm(sentences, axis=1), 1.0, atol=1e-4)
    # each sentence's vector is closest to that sentence embedded on its own, by a margin
    similarity = sentences @ real_embedder.encode(parts).T
    assert similarity.argmax(axis=1).tolist() == [0, 1, 2]
    assert all(similarity[i, i] - np.delete(similarity[i], i).max() > 0.1 for i in range(3))
    if real_embedder.backend != "torch":
        _, [plain] = Embedder(backend="torch").encode_passages([text], [spans])
        assert (sentences * plain).sum(axis=1).min() >= 0.999


def test_a_sentence_past_the_token_limit_gets_its_passage_vector(real_embedder):
    text = "word " * 300 + "The last sentence."
    passages, [sentences] = real_embedder.encode_passages([text], [[(0, 20), (len(text) - 18, len(text))]])
    assert float(sentences[1] @ passages[0]) >= 0.9999
    assert float(sentences[0] @ passages[0]) < 0.9999


def test_the_export_is_cached_and_reused(monkeypatch, tmp_path, real_embedder):
    if not real_embedder.backend.startswith("openvino"):
        pytest.skip("OpenVINO is not usable on this machine")
    first = openvino_encoder.exported_model(real_embedder.model_path)
    monkeypatch.setattr(openvino_encoder, "_convert", lambda path: pytest.fail("exported twice"))
    assert openvino_encoder.exported_model(real_embedder.model_path) == first


def test_the_backend_that_built_the_index_is_in_the_manifest_and_stats(seed_searcher, real_embedder):
    assert seed_searcher.manifest["model"]["backend"] == real_embedder.backend
    assert seed_searcher.stats()["backend"] == real_embedder.backend
    assert embedding.BACKENDS.count(real_embedder.backend) == 1


def test_threads_sharing_one_embedder_get_the_same_vectors_as_one_thread(real_embedder):
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"{text} ({n})" for n, text in enumerate(PASSAGES * 10)]
    want = real_embedder.encode(texts)
    with ThreadPoolExecutor(4) as pool:  # the page's sessions and its reindex share one embedder
        got = list(pool.map(lambda text: real_embedder.encode([text])[0], texts))
    assert (np.vstack(got) * want).sum(axis=1).min() >= 0.9999


@pytest.mark.skipif(choose_backend() == "torch", reason="OpenVINO is not usable on this machine")
def test_bulk_embedding_with_inferences_in_flight_matches_one_text_at_a_time(real_embedder):
    # Enough texts for several batches in flight on the throughput model, of many lengths (so of
    # many padded widths); each must land on its own row, its sentences with it.
    texts = [f"Report {n}: " + "the valley held out against the offensive " * (1 + n % 23) for n in range(90)]
    spans = [[(0, text.index(":")), (text.index(":") + 2, len(text))] for text in texts]
    assert len(texts) // embedding.OPENVINO_BATCH >= openvino_encoder.BULK_FROM_BATCHES
    passages, sentences = real_embedder.encode_passages(texts, spans)
    for n in (0, 7, 22, 45, 89):
        alone, [alone_sentences] = real_embedder.encode_passages([texts[n]], [spans[n]])
        assert float(passages[n] @ alone[0]) >= 0.9999
        assert (sentences[n] * alone_sentences).sum(axis=1).min() >= 0.9999


@pytest.mark.skipif(choose_backend() == "torch", reason="OpenVINO is not usable on this machine")
def test_the_f32_fallback_can_be_forced_and_gives_the_plain_vectors(monkeypatch):
    monkeypatch.setenv("ARCHIVIST_BACKEND", "openvino-f32")
    exact = Embedder()
    vectors = exact.encode(PASSAGES)
    assert exact.backend == "openvino-f32"  # the precision the compiled model reports
    assert (vectors * Embedder(backend="torch").encode(PASSAGES)).sum(axis=1).min() >= 0.99999


@pytest.mark.skipif(choose_backend() == "torch", reason="OpenVINO is not usable on this machine")
def test_a_search_imports_openvino_without_its_converter_which_still_imports_for_an_export():
    import subprocess

    script = ("import sys\nfrom archivist.model.openvino_encoder import runtime, CONVERTER\n"
              "runtime().Core()\nassert CONVERTER not in sys.modules, 'converter imported'\n"
              "from openvino.tools.ovc import convert_model\nprint('converter', callable(convert_model))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "converter True"


def test_a_model_loading_in_the_background_is_waited_for_and_gives_the_same_vectors(real_embedder):
    want = real_embedder.encode_query(PASSAGES[1])
    for _ in range(3):  # a search asking while the load (and its warm-up inference) still runs
        fresh = Embedder()
        loading = fresh.load_in_background()
        got = fresh.encode_query(PASSAGES[1])
        loading.join(timeout=120)
        assert not loading.is_alive()
        assert float(np.ravel(got) @ np.ravel(want)) >= 0.9999
        assert fresh.backend == real_embedder.backend
