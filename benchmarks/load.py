"""Load on the HTTP API: concurrent clients over Reuters-21578, during a reindex, and a soak.

Usage: .venv/bin/python benchmarks/load.py [--data ../shared/data] [--work /tmp/archivist-load]
           [--levels 1 4 16 64] [--seconds 20] [--soak-seconds 600] [--workers 2] [--queue 32]

Starts `python -m archivist serve` on 127.0.0.1 (never another address) over a Reuters-21578
index (built under --work on first use, or reused), then for each level N runs N client threads
of its own bounded client (keep-alive HTTP/1.1, no think time; after a 503 it waits as
Retry-After says) sending real queries, Reuters
headlines asked as questions, for a fixed time. It prints a table with throughput, p50/p95/p99
latency and errors per level; the same at 16 clients while a reindex of 500 changed articles
runs; the server's RSS before and after a soak; and, in the same run, the CLI's `search --batch`
throughput on the same queries (one process, one query at a time, model load subtracted).
Every number is also written to benchmarks/results/load-<date>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402

from machine import cpu_flags, cpu_line, cpu_model  # noqa: E402
from speed import reuters_records, write_jsonl  # noqa: E402

PYTHON = sys.executable
HOST = "127.0.0.1"  # the benchmark talks to this machine only
REQUEST_TIMEOUT_S = 30
CHANGED_ARTICLES = 500


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def build_index(data: Path, work: Path) -> tuple[Path, Path, list[dict]]:
    """The Reuters archive (one JSON Lines file) and its index, built once and reused."""
    records = reuters_records(data)
    archive = work / "archive" / "reuters21578.jsonl"
    index = work / "index"
    write_jsonl(records, archive)
    subprocess.run([PYTHON, "-m", "archivist", "reindex", "--archive", str(archive), "--index", str(index),
                    "--quiet"], cwd=ROOT, check=True)
    return archive, index, records


def questions_from(records: list[dict], count: int, seed: int = 5) -> list[str]:
    """Headlines asked as questions, drawn at random (distinct, so no answer comes from a cache)."""
    titled = [r["title"].strip().lower() for r in records if (r.get("title") or "").strip()]
    rng = random.Random(seed)
    return rng.sample(sorted(set(titled)), min(count, len(set(titled))))


class Server:
    """`archivist serve` in its own process, so its RSS is its own."""

    def __init__(self, index: Path, archive: Path, workers: int, queue: int, log: Path) -> None:
        self.port = free_port()
        self._log = open(log, "w")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "archivist", "serve", "--host", HOST, "--port", str(self.port), "--index", str(index),
             "--archive", str(archive), "--workers", str(workers), "--queue", str(queue)],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if k != "ARCHIVIST_API_TOKEN"})
        deadline = time.monotonic() + 120
        while True:
            try:
                if request(self.port, "/health")[0] == 200:
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; see {log}")
            time.sleep(0.2)

    def rss_bytes(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) * 1024

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def request(port: int, path: str, method: str = "GET", connection: http.client.HTTPConnection | None = None,
            headers: dict | None = None) -> tuple[int, bytes]:
    own = connection is None
    connection = connection or http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        if headers is not None:
            headers.update(response.getheaders())
        return response.status, response.read()
    finally:
        if own:
            connection.close()


def run_clients(port: int, questions: list[str], clients: int, seconds: float, stop: threading.Event | None = None
                ) -> dict:
    """`clients` threads, each sending one query after another until time is up (or `stop`)."""
    latencies: list[float] = []
    outcomes = {"ok": 0, "refused_503": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    counter = iter(range(10**9))

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
        while time.monotonic() < deadline and not (stop and stop.is_set()):
            question = questions[next(counter) % len(questions)]
            path = "/search?" + urllib.parse.urlencode({"q": question, "k": 10})
            started = time.perf_counter()
            headers: dict = {}
            try:
                status, _ = request(port, path, connection=connection, headers=headers)
            except (OSError, http.client.HTTPException):
                status = -1
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
            took = (time.perf_counter() - started) * 1000
            with lock:
                if status == 200:
                    outcomes["ok"] += 1
                    latencies.append(took)
                elif status == 503:
                    outcomes["refused_503"] += 1
                else:
                    outcomes["errors"] += 1
            if status == 503:  # a well-behaved client waits as the server asks before trying again
                time.sleep(min(float(headers.get("retry-after", 1)), max(0.0, deadline - time.monotonic())))
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    times = np.asarray(latencies or [float("nan")])
    return {"clients": clients, "seconds": elapsed, **outcomes, "throughput_qps": outcomes["ok"] / elapsed,
            "p50_ms": float(np.percentile(times, 50)), "p95_ms": float(np.percentile(times, 95)),
            "p99_ms": float(np.percentile(times, 99))}


def cli_batch_rate(index: Path, questions: list[str], work: Path) -> dict:
    """Queries per second of `search --batch` (one process, sequential), start-up subtracted."""
    def timed(lines: list[str]) -> float:
        path = work / "batch.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        started = time.perf_counter()
        subprocess.run([PYTHON, "-m", "archivist", "search", "--batch", str(path), "-k", "10", "--index", str(index)],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started

    one = timed(questions[:1])
    many = timed(questions)
    return {"queries": len(questions), "seconds": many, "startup_seconds": one,
            "throughput_qps": (len(questions) - 1) / (many - one)}


def change_articles(archive: Path, records: list[dict], count: int, round_: int) -> None:
    """Append a sentence to `count` articles spread over the archive (a day of corrections)."""
    step = max(1, len(records) // count)
    for record in records[::step][:count]:
        record["body"] += f"\nCorrection {round_}: an earlier version of this report misstated a figure."
    write_jsonl(records, archive)


def during_reindex(server: Server, questions: list[str], clients: int) -> dict:
    """Searches at `clients` concurrency from the moment a reindex starts until it is published."""
    stop = threading.Event()
    before = json.loads(request(server.port, "/health")[1])["build_id"]
    status, body = request(server.port, "/reindex", method="POST")
    if status != 202:
        raise SystemExit(f"POST /reindex answered {status}: {body[:200]!r}")
    result: dict = {}
    load = threading.Thread(target=lambda: result.update(run_clients(server.port, questions, clients, 3600, stop)))
    started = time.perf_counter()
    load.start()
    while json.loads(request(server.port, "/reindex")[1])["state"] == "running":
        time.sleep(0.5)
    reindex_seconds = time.perf_counter() - started
    stop.set()
    load.join()
    state = json.loads(request(server.port, "/reindex")[1])
    after = json.loads(request(server.port, "/health")[1])["build_id"]
    return {**result, "reindex_seconds": reindex_seconds, "reindex_state": state["state"],
            "changed": (state.get("report") or {}).get("updated"), "switched_build": after != before}


def row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def level_row(name: str, r: dict) -> str:
    return row(name, r["clients"], f"{r['throughput_qps']:.1f}", f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}",
               f"{r['p99_ms']:.1f}", r["ok"], r["refused_503"], r["errors"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=Path("/tmp/archivist-load"))
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--soak-seconds", type=float, default=600.0)
    parser.add_argument("--soak-clients", type=int, default=4)
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--queue", type=int, default=32)
    args = parser.parse_args()
    if not (args.data / "reuters21578").is_dir():
        print(f"load.py: {args.data}/reuters21578 not found; pass --data DIR.", file=sys.stderr)
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    print("building or reusing the Reuters index ...", file=sys.stderr)
    archive, index, records = build_index(args.data, args.work)
    questions = questions_from(records, args.questions)
    results: dict = {"date": dt.date.today().isoformat(), "workers": args.workers, "queue": args.queue,
                     "questions": len(questions), "cpu": cpu_model(), "cores": os.cpu_count(), "flags": cpu_flags()}
    print("CLI batch ...", file=sys.stderr)
    results["cli_batch"] = cli_batch_rate(index, questions[:300], args.work)
    server = Server(index, archive, args.workers, args.queue, args.work / "server.log")
    try:
        run_clients(server.port, questions[-50:], 2, 5)  # warm-up: model, caches
        results["levels"] = []
        for clients in args.levels:
            print(f"{clients} clients ...", file=sys.stderr)
            results["levels"].append(run_clients(server.port, questions, clients, args.seconds))
        print("during a reindex of 500 changed articles ...", file=sys.stderr)
        change_articles(archive, records, CHANGED_ARTICLES, 1)
        results["during_reindex"] = during_reindex(server, questions, 16)
        results["rss_before_soak"] = server.rss_bytes()
        print(f"soak, {args.soak_clients} clients for {args.soak_seconds:.0f} s ...", file=sys.stderr)
        results["soak"] = run_clients(server.port, questions, args.soak_clients, args.soak_seconds)
        results["rss_after_soak"] = server.rss_bytes()
    finally:
        server.stop()
    out = ROOT / "benchmarks" / "results" / f"load-{results['date']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    cli = results["cli_batch"]["throughput_qps"]
    print(f"Archivist HTTP API under load, Reuters-21578, {results['date']} "
          f"({args.workers} workers, queue {args.queue}; {len(questions)} distinct questions)")
    print(cpu_line())
    print(row("run", "clients", "queries/s", "p50 ms", "p95 ms", "p99 ms", "answered", "refused (503)", "errors"))
    print(row(*["---"] * 9))
    for level in results["levels"]:
        print(level_row("search", level))
    reindexing = results["during_reindex"]
    print(level_row(f"during reindex ({reindexing['reindex_seconds']:.0f} s)", reindexing))
    print(level_row(f"soak ({args.soak_seconds / 60:.0f} min)", results["soak"]))
    print()
    print(f"- CLI search --batch, same questions: {cli:.1f} queries/s (one process, sequential)")
    for level in results["levels"]:
        print(f"- {level['clients']} clients: {level['throughput_qps'] / cli:.2f}x the CLI batch rate")
    print(f"- reindex during load: {reindexing['reindex_state']}, {reindexing['changed']} articles updated, "
          f"searches switched to the new build: {reindexing['switched_build']}")
    before, after = results["rss_before_soak"], results["rss_after_soak"]
    print(f"- server RSS before / after the soak: {before / 1e6:.0f} / {after / 1e6:.0f} MB "
          f"({(after - before) / before:+.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
