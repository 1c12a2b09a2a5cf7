"""`reindex --ray`: passages embedded in a Ray Data actor pool on a local cluster started in the
test's process (loopback only, 2 CPUs, 1 GB object store), then searched like any other index."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import PROJECT, SEED_ARCHIVE
from test_cli import run

from archivist.build.ray_embedding import RayEmbedder, actor_count
from archivist.model.embedding import Embedder

QUESTIONS = ["who supported the Northern Alliance", "Lion of Panjshir", "price of cocoa in Brazil"]


def test_actor_pool_leaves_a_cpu_free_and_follows_gpus():
    assert actor_count(cpus=2, gpus=0) == 1  # a pool of every CPU starves the reading stage and hangs
    assert actor_count(cpus=1, gpus=0) == 1
    assert actor_count(cpus=16, gpus=0) == 15
    assert actor_count(cpus=16, gpus=2) == 2


def test_ray_vectors_equal_the_in_process_ones(real_embedder):
    ray = pytest.importorskip("ray")
    texts = ["The resistance front said it held the valley.", "Cocoa prices rose in Brazil on Tuesday, traders said."]
    spans = [[(0, 14), (15, 45)], [(0, 55)]]
    ray.init(num_cpus=2, object_store_memory=10**9, include_dashboard=False, _node_ip_address="127.0.0.1",
             log_to_driver=False)
    try:
        vectors, sentences = RayEmbedder(real_embedder).encode_passages(texts, spans)
    finally:
        ray.shutdown()
    local_vectors, local_sentences = real_embedder.encode_passages(texts, spans)
    assert np.allclose(vectors, local_vectors, atol=1e-5)
    assert [s.shape for s in sentences] == [(2, 384), (1, 384)]
    assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(sentences, local_sentences))


def test_reindex_on_ray_gives_the_same_search(tmp_path, seed_index):
    archive = tmp_path / "archive"
    shutil.copytree(SEED_ARCHIVE, archive)
    result = run("reindex", "--archive", str(archive), "--index", str(tmp_path / "index"), "--ray", "--json",
                 "--quiet")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["passages_embedded"] == json.loads(run(
        "stats", "--index", str(seed_index), "--json").stdout)["passages"]
    stats = json.loads(run("stats", "--index", str(tmp_path / "index"), "--json").stdout)
    assert stats["backend"].endswith("on Ray")
    for question in QUESTIONS:
        ours, theirs = (json.loads(run("search", question, "--json", "-k", "3", "--index", str(i)).stdout)
                        for i in (tmp_path / "index", seed_index))
        assert [(r["article"]["id"], r["start"]) for r in ours["results"]] == \
            [(r["article"]["id"], r["start"]) for r in theirs["results"]]


def test_without_ray_nothing_of_ray_is_imported(tmp_path):
    archive = tmp_path / "archive"
    shutil.copytree(SEED_ARCHIVE, archive)
    script = ("import sys; from archivist.cli import main; "
              f"main(['reindex', '--archive', {str(archive)!r}, '--index', {str(tmp_path / 'index')!r}, '--quiet']); "
              "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))")
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
