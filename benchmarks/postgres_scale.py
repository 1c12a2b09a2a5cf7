"""The parts of benchmarks/postgres.py that need more than one Reuters build: time through the
HTTP API (`archivist serve`), reindex time from the archive on each backend, and the 1,000,000-
passage synthetic archive (benchmarks/synthetic_archive.py) on both backends side by side.

Each function takes what the main benchmark already holds (its questions, its PostgreSQL server)
and returns plain numbers; the table is printed by benchmarks/postgres.py.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archivist.model.embedding import Embedder  # noqa: E402
from archivist.storage import manifest  # noqa: E402
from archivist.storage.postgres import generations  # noqa: E402
from archivist.storage.postgres.connection import connect  # noqa: E402
from archivist.storage.postgres.vectors import PgVectorIndex  # noqa: E402
from archivist.storage.vector_index import FaissVectorIndex  # noqa: E402

SERVE_START_SECONDS = 300
EF_SEARCH_SWEEP = (100, 200, 400, 800)  # pgvector's beam, for recall against time at 1M


def database_url(server_url: str, name: str) -> str:
    """A new, empty database called `name` on the server of `server_url`; its URL."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name}")
    base, _, query = server_url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_latency(questions: list[str], backend: tuple[str, ...], warm_up: int) -> dict:
    """Milliseconds per GET /search?q=...&k=10, as a client of `archivist serve` sees them (one
    question at a time, after `warm_up` ones), with the server's own `took_ms` beside them; the
    server runs as a user starts it (two search worker processes)."""
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "archivist", "serve", "--port", str(port), *backend], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVE_START_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"postgres_scale.py: serve {' '.join(backend)} did not start: "
                                     f"{server.stderr.read().strip()[-500:]}")
                time.sleep(0.5)
        client_ms, server_ms, firsts = [], [], []
        for question in questions:
            started = time.perf_counter()
            with urllib.request.urlopen(f"{base}/search?" + urllib.parse.urlencode({"q": question, "k": 10}),
                                        timeout=60) as answer:
                body = json.loads(answer.read())
            client_ms.append((time.perf_counter() - started) * 1000)
            server_ms.append(body["took_ms"])
            firsts.append((body["results"][0]["article"]["id"], body["results"][0]["start"]) if body["results"] else None)
        return {"client_ms": client_ms[warm_up:], "took_ms": server_ms[warm_up:], "firsts": firsts[warm_up:]}
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def _timed_run(arguments: list[str]) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "archivist", *arguments, "--quiet", "--json"], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"postgres_scale.py: {' '.join(arguments)} failed: {done.stderr.strip()[-500:]}")
    return time.perf_counter() - started, json.loads(done.stdout.splitlines()[-1])


def reindex_times(archive: Path, server_url: str) -> dict:
    """Seconds to index `archive` from nothing on each backend, in the same run: the embedded
    reindex into a new folder; `reindex --index-url` into a new database (it embeds everything,
    as the embedded one does, then publishes); and `reindex --index-url` again from a second,
    empty working folder, as a second machine would run it (its vectors come from the database's
    embedding cache, so it embeds nothing)."""
    work = Path(tempfile.mkdtemp(prefix="archivist-reindex-"))
    url = database_url(server_url, "reindex_bench")
    out = {}
    out["embedded_s"], report = _timed_run(["reindex", "--archive", str(archive), "--index", str(work / "embedded")])
    out["passages"] = report.get("passages")
    out["postgres_s"], first = _timed_run(["reindex", "--archive", str(archive), "--index", str(work / "first"),
                                           "--index-url", url])
    out["postgres_second_machine_s"], second = _timed_run(
        ["reindex", "--archive", str(archive), "--index", str(work / "second"), "--index-url", url])
    out["first_report"], out["second_report"] = first, second
    return out


class PreparedVectors(Embedder):
    """Embeds each question with the real model (its time counts, as in benchmarks/speed.py), then
    answers with the vector the synthetic archive made for it (the model's means nothing there)."""

    def __init__(self, prepared: dict[str, list[float]]) -> None:
        super().__init__()
        self.prepared = prepared

    def encode_query(self, text: str) -> np.ndarray:
        super().encode_query(text)
        return np.asarray([self.prepared[text]], dtype=np.float32)


def _top10(matrix: np.ndarray, ids: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Exact top 10 ids by inner product (the reference recall is measured against)."""
    found = []
    for query in queries:
        scores = matrix @ query
        best = np.argpartition(-scores, 10)[:10]
        found.append(ids[best[np.argsort(-scores[best])]])
    return np.stack(found)


def timed_searches(search, queries: np.ndarray) -> tuple[list[float], np.ndarray]:
    """Milliseconds per query (one at a time, as a user's search asks) and the top 10 ids found."""
    times, found = [], []
    for query in queries:
        started = time.perf_counter()
        _, ids = search(query.reshape(1, -1))
        times.append((time.perf_counter() - started) * 1000)
        found.append(ids[0][:10])
    return times, np.stack(found)


def recall(want: np.ndarray, got: np.ndarray) -> float:
    return float(np.mean([len(set(w[w >= 0]) & set(g[g >= 0])) / max(1, len(w[w >= 0])) for w, g in zip(want, got)]))


def _ef_search_sweep(connection, generation: int, vectors: np.ndarray, allowed: np.ndarray, exact: np.ndarray,
                     exact_filtered: np.ndarray) -> list[dict]:
    """Recall@10 and p50/p95 of pgvector's graph search at each beam of EF_SEARCH_SWEEP, plain and
    under the 1% filter (through the graph), so the default beam is chosen on numbers."""
    rows = []
    for ef in EF_SEARCH_SWEEP:
        plain = PgVectorIndex(connection, generation, ef_search=ef)
        graph = PgVectorIndex(connection, generation, exact_filter_limit=0, ef_search=ef)
        ms, found = timed_searches(lambda q: plain.search(q, 10), vectors)
        f_ms, f_found = timed_searches(lambda q: graph.search(q, 10, allowed_ids=allowed), vectors)
        rows.append({"ef_search": ef, "ms": (float(np.percentile(ms, 50)), float(np.percentile(ms, 95))),
                     "recall": recall(exact, found), "filtered_ms": (float(np.percentile(f_ms, 50)),
                                                                     float(np.percentile(f_ms, 95))),
                     "filtered_recall": recall(exact_filtered, f_found)})
    return rows


def build_synthetic(index: Path) -> float | None:
    """Build the synthetic archive at `index` when it is not there yet; the seconds it took (the
    embedded backend's index build from the same rows publish then copies), None when it was."""
    if (index / manifest.MANIFEST).exists():
        return None
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "synthetic_archive.py"), "--index", str(index)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def synthetic_side_by_side(index: Path, server_url: str, warm_up: int) -> dict:
    """The synthetic archive on both backends in one run: build it when `index` is not there yet
    (timed: the embedded index from nothing, no model), publish it into a new database (timed),
    then vector search p50/p95 and recall@10 against exact (numpy over every stored vector),
    plain and under a 1% filter (and on Postgres at each beam of EF_SEARCH_SWEEP), hybrid search
    end to end in-process (`took_ms`) and through `archivist serve` (there the model's own vector
    of each question is searched: the time is a real query's, the results mean nothing), and the
    size on disk of each."""
    from archivist.query.postgres_search import PostgresSearcher
    from archivist.query.search import Searcher

    built_s = build_synthetic(index)
    url = database_url(server_url, "synthetic_bench")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "archivist", "publish", "--index", str(index), "--index-url", url, "--quiet"],
                   cwd=ROOT, check=True)
    publish_s = time.perf_counter() - started
    live = manifest.read_manifest(index)
    build = manifest.build_dir(index, live["build_id"])
    questions = [json.loads(line) for line in (index / "queries.jsonl").read_text().splitlines()]
    vectors = np.asarray([q["vector"] for q in questions], dtype=np.float32)
    faiss_index = FaissVectorIndex.load(build / manifest.VECTORS)
    ids = faiss_index.ids()
    matrix = faiss_index.vectors(ids)
    exact = _top10(matrix, ids, vectors)
    source = manifest.open_live_database(index, live)
    articles = [r[0] for r in source.execute("SELECT id FROM articles")]
    chosen = random.Random(11).sample(articles, max(1, len(articles) // 100))
    allowed = np.asarray(sorted(r[0] for r in source.execute(
        "SELECT p.id FROM passages p JOIN json_each(?) j ON j.value = p.article_id", (json.dumps(chosen),))),
        dtype=np.int64)
    position = {int(i): n for n, i in enumerate(ids)}
    rows = np.asarray([position[int(i)] for i in allowed])
    exact_filtered = _top10(matrix[rows], allowed, vectors)
    del matrix
    out: dict = {"passages": int(faiss_index.count), "faiss_kind": faiss_index.kind, "publish_s": publish_s,
                 "built_s": built_s,
                 "queries": len(questions), "allowed_passages": len(allowed), "allowed_articles": len(chosen)}
    with connect(url) as connection:
        generation = generations.live_generation(connection)
        pg = PgVectorIndex(connection, generation)
        graph = PgVectorIndex(connection, generation, exact_filter_limit=0)
        out["postgres_bytes"] = int(connection.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relname LIKE %s AND c.relkind = 'r'",
            (f"%\\_g{generation}",)).fetchone()[0] or 0)
        out["hnsw_bytes"] = int(connection.execute(
            "SELECT sum(pg_relation_size(i.indexrelid)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'hnsw'").fetchone()[0] or 0)
        connection.commit()
        for query in vectors[:warm_up]:
            pg.search(query.reshape(1, -1), 10)
            faiss_index.search(query.reshape(1, -1), 10)
        faiss_ms, faiss_found = timed_searches(lambda q: faiss_index.search(q, 10), vectors)
        hnsw_ms, hnsw_found = timed_searches(lambda q: pg.search(q, 10), vectors)
        faiss_f_ms, faiss_f_found = timed_searches(lambda q: faiss_index.search(q, 10, allowed_ids=allowed), vectors)
        hnsw_f_ms, hnsw_f_found = timed_searches(lambda q: graph.search(q, 10, allowed_ids=allowed), vectors)
        out["ef_search"] = _ef_search_sweep(connection, generation, vectors, allowed, exact, exact_filtered)
    out.update(faiss_ms=faiss_ms, hnsw_ms=hnsw_ms, faiss_filtered_ms=faiss_f_ms, hnsw_filtered_ms=hnsw_f_ms,
               recall_faiss=recall(exact, faiss_found), recall_hnsw=recall(exact, hnsw_found),
               recall_faiss_filtered=recall(exact_filtered, faiss_f_found),
               recall_hnsw_filtered=recall(exact_filtered, hnsw_f_found))
    del faiss_index
    embedder = PreparedVectors({q["query"]: q["vector"] for q in questions})
    hybrid = {}
    for name, searcher in (("embedded", Searcher.open(index, embedder=embedder)),
                           ("postgres", PostgresSearcher.open(url, embedder=embedder))):
        for q in questions[:warm_up]:
            searcher.search(q["query"], k=10)
        responses = [searcher.search(q["query"], k=10) for q in questions]
        hybrid[name] = {"took_ms": [r.took_ms for r in responses],
                        "firsts": [r.hits[0].passage_id if r.hits else None for r in responses],
                        "source_in_top10": float(np.mean([any(q["passage_id"] in (h.passage_id, *h.joined_passage_ids)
                                                              for h in r.hits) for q, r in zip(questions, responses)]))}
        del searcher
    out["hybrid"] = hybrid
    texts = [q["query"] for q in questions]
    out["served"] = {name: serve_latency(texts, backend, warm_up)
                     for name, backend in (("embedded", ("--index", str(index))), ("postgres", ("--index-url", url)))}
    out["same_first"] = sum(a == b for a, b in zip(hybrid["embedded"]["firsts"], hybrid["postgres"]["firsts"]))
    out["embedded_bytes"] = sum(f.stat().st_size for f in build.iterdir() if f.is_file())
    return out
