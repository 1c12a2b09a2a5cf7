"""Ray embedding throughput (`reindex --ray`) with 1 and 2 actors against the in-process embedder,
on the same Reuters-21578 passages, in one run.

Usage: .venv/bin/python benchmarks/ray_embedding.py [--index /tmp/archivist-load/index] [--passages 2000]

Passages and their sentence spans come from an embedded Reuters index (e.g. the one
benchmarks/load.py builds). The Ray runs use a local cluster started in this process (loopback,
no dashboard); a pool of 2 actors is given a cluster of 3 logical CPUs so Ray Data's reading
stage keeps one (on a 2-core machine the actors then share the cores with it). Times include
starting the actors and loading the model in each, as a reindex pays them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from machine import cpu_model, package_version  # noqa: E402

from archivist.build.ray_embedding import RayEmbedder  # noqa: E402
from archivist.model.embedding import Embedder  # noqa: E402
from archivist.storage import manifest  # noqa: E402


def passages(index: Path, count: int) -> tuple[list[str], list[list[tuple[int, int]]]]:
    connection = manifest.open_live_database(index, manifest.read_manifest(index))
    rows = connection.execute(
        "SELECT p.id, substr(a.text, p.start + 1, p.end - p.start) FROM passages p JOIN articles a "
        "ON a.id = p.article_id ORDER BY p.id LIMIT ?", (count,)).fetchall()
    spans = {pid: [] for pid, _ in rows}
    starts = dict(connection.execute(f"SELECT id, start FROM passages WHERE id IN ({','.join('?' * len(rows))})",
                                     [pid for pid, _ in rows]).fetchall())
    for pid, start, end in connection.execute(
            f"SELECT passage_id, start, end FROM sentences WHERE passage_id IN ({','.join('?' * len(rows))})",
            [pid for pid, _ in rows]):
        spans[pid].append((start - starts[pid], end - starts[pid]))
    return [text for _, text in rows], [spans[pid] or [(0, len(text))] for pid, text in rows]


def ray_rates(index: Path, count: int, repeat: int) -> tuple[int, dict[str, list[float]]]:
    """Passages a second of the in-process embedder and of Ray with 1 and 2 actors, `repeat`
    times each in turn, on the first `count` passages of `index`."""
    import ray

    texts, spans = passages(index, count)
    local = Embedder()
    local.load()
    local.encode_passages(texts[:64], spans[:64])  # warm: kernels for the shapes
    rates: dict[str, list[float]] = {"in-process": [], "Ray, 1 actor": [], "Ray, 2 actors": []}
    for _ in range(repeat):
        started = time.perf_counter()
        local.encode_passages(texts, spans)
        rates["in-process"].append(len(texts) / (time.perf_counter() - started))
        for actors, cpus in ((1, 2), (2, 3)):
            ray.init(num_cpus=cpus, object_store_memory=10**9, include_dashboard=False,
                     _node_ip_address="127.0.0.1", log_to_driver=False)
            try:
                started = time.perf_counter()
                RayEmbedder(local, actors=actors).encode_passages(texts, spans)
                rates[f"Ray, {actors} actor{'s' if actors > 1 else ''}"].append(len(texts) / (time.perf_counter() - started))
            finally:
                ray.shutdown()
    return len(texts), rates


def ray_lines(count: int, rates: dict[str, list[float]]) -> list[str]:
    base = statistics.median(rates["in-process"])
    repeat = len(rates["in-process"])
    lines = [f"Embedding {count:,} Reuters-21578 passages (passage and sentence vectors), median of {repeat}; "
             f"CPU {cpu_model()} ({os.cpu_count()} cores), ray {package_version('ray')}, "
             f"openvino {package_version('openvino')}", "",
             "| embedder | passages/s | against in-process |", "|---|---|---|"]
    for name, values in rates.items():
        lines.append(f"| {name} | {statistics.median(values):.1f} | {statistics.median(values) / base:.2f}x |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path("/tmp/archivist-load/index"))
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    count, rates = ray_rates(args.index, args.passages, args.repeat)
    print("\n".join(ray_lines(count, rates)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
