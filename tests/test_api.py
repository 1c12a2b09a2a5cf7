"""The HTTP API against a real uvicorn server on 127.0.0.1: endpoints, errors, token, bind rule,
a reindex while searches go on, and the queue's 503."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from conftest import SEED_ARCHIVE, write
from test_cli import run

from archivist.access import check_bind, is_loopback
from archivist.api.server import create_app
from archivist.errors import BadInput
from archivist.model.embedding import Embedder

QUESTION = "who supported the Northern Alliance"


@contextmanager
def serving(index: Path, archive: Path, embedder: Embedder, **options) -> Iterator[str]:
    """A real server on a free loopback port, stopped afterwards; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(index, archive, embedder=embedder, **options)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def call(url: str, method: str = "GET", token: str | None = None) -> tuple[int, dict, dict]:
    """(status, JSON body, headers) of one request; error statuses are returned, not raised."""
    request = urllib.request.Request(url, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null"), dict(error.headers)


def query(**params) -> str:
    return urllib.parse.urlencode(params, doseq=True)


@pytest.fixture(scope="module")
def api(seed_index, real_embedder) -> Iterator[str]:
    with serving(seed_index, SEED_ARCHIVE, real_embedder) as base:
        yield base


def test_search_answers_the_cli_json_object(api, seed_index):
    status, body, _ = call(f"{api}/search?{query(q=QUESTION, k=3)}")
    assert status == 200
    cli = json.loads(run("search", QUESTION, "--json", "-k", "3", "--index", str(seed_index)).stdout)
    body.pop("took_ms"), cli.pop("took_ms")
    assert body == cli
    assert "regional countries including Russia" in body["results"][0]["passage"]


def test_filters_paging_and_one_card_per_article(api):
    status, page_one, _ = call(f"{api}/search?{query(q='Panjshir resistance', k=2)}")
    _, page_two, _ = call(f"{api}/search?{query(q='Panjshir resistance', k=2, offset=2)}")
    _, both, _ = call(f"{api}/search?{query(q='Panjshir resistance', k=4)}")
    assert status == 200
    assert page_one["results"] + page_two["results"] == both["results"]
    assert [r["rank"] for r in page_two["results"]] == [3, 4]
    _, per_article, _ = call(f"{api}/search?{query(q='Panjshir resistance', k=5, per_article='true')}")
    ids = [r["article"]["id"] for r in per_article["results"]]
    assert len(ids) == len(set(ids)) and all("more_in_article" in r for r in per_article["results"])
    _, newsweek, _ = call(f"{api}/search?{query(q='Taliban', outlet='Newsweek')}")
    assert {r["article"]["outlet"] for r in newsweek["results"]} == {"Newsweek"}
    assert per_article["matching_articles"]["exact"] is False and per_article["matching_articles"]["count"] >= 1
    _, counted, _ = call(f"{api}/search?{query(q='Taliban', mode='keyword', per_article='true')}")
    assert counted["matching_articles"] == {"count": 5, "exact": True}  # every seed report names them
    _, newest, _ = call(f"{api}/search?{query(q='Taliban Panjshir', sort='newest', k=20)}")
    dated = [r["article"]["date"] for r in newest["results"] if r["article"]["date"]]
    assert dated == sorted(dated, reverse=True) and all(r["relevance"] >= 0.5 for r in newest["results"])
    assert call(f"{api}/search?{query(q='x', sort='sideways')}")[0] == 400


def test_articles_stats_stories_and_health(api, seed_index):
    _, found, _ = call(f"{api}/search?{query(q=QUESTION, k=1)}")
    article_id = found["results"][0]["article"]["id"]
    status, article, _ = call(f"{api}/articles/{article_id}")
    assert status == 200 and article["article"]["id"] == article_id
    text = article["article"]["text"]
    assert article["passages"] and all(text[p["start"]:p["end"]] == p["text"] for p in article["passages"])
    status, stats, _ = call(f"{api}/stats")
    cli_stats = json.loads(run("stats", "--json", "--index", str(seed_index)).stdout)
    assert status == 200 and stats["articles"] == cli_stats["articles"] == 5 and set(stats) == set(cli_stats)
    status, stories, _ = call(f"{api}/stories")
    assert status == 200 and stories == json.loads(run("stories", "--json", "--index", str(seed_index)).stdout)
    status, health, _ = call(f"{api}/health")
    assert status == 200 and health["status"] == "ok" and health["index"] == "ready"
    status, schema, _ = call(f"{api}/openapi.json")
    assert status == 200 and {"/search", "/articles/{article_id}", "/stories", "/stats", "/health",
                              "/reindex"} <= set(schema["paths"])
    with urllib.request.urlopen(f"{api}/docs", timeout=30) as page:
        docs = page.read().decode()
    assert "/search" in docs and "cdn" not in docs.lower()


@pytest.mark.parametrize("path, status, words", [
    ("/search?q=x&k=0", 400, "k"),
    ("/search?q=x&k=5000", 400, "k"),
    ("/search?q=x&mode=bogus", 400, "Unknown search mode"),
    ("/search?q=x&since=last+tuesday-ish", 400, "--since"),
    ("/search?q=x&outlet=Pravda", 400, "Unknown outlet"),
    ("/search?q=+++", 400, "The query is empty"),
    ("/search", 400, "q"),
    ("/articles/nope", 404, "No article"),
])
def test_bad_requests_get_one_sentence_and_a_status(api, path, status, words):
    got, body, _ = call(api + path)
    assert got == status and words in body["error"] and "\n" not in body["error"]


def test_no_index_is_503_and_health_says_so(tmp_path, real_embedder):
    with serving(tmp_path / "index", tmp_path / "archive", real_embedder) as base:
        status, body, _ = call(f"{base}/search?q=x")
        assert status == 503 and "reindex" in body["error"]
        assert call(f"{base}/health")[1]["index"] == "missing"


def test_a_token_is_required_and_compared(seed_index, real_embedder):
    with serving(seed_index, SEED_ARCHIVE, real_embedder, token="s3cret-token") as base:
        assert call(f"{base}/search?q=Taliban")[0] == 401
        status, body, headers = call(f"{base}/search?q=Taliban", token="wrong")
        assert status == 401 and "Bearer" in body["error"] and headers.get("www-authenticate") == "Bearer"
        assert call(f"{base}/openapi.json")[0] == 401
        assert call(f"{base}/search?q=Taliban", token="s3cret-token")[0] == 200
        assert call(f"{base}/health")[0] == 200  # the probe needs no token


def test_listening_beyond_loopback_needs_a_token(tmp_path):
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        assert is_loopback(host)
        check_bind(host, None, "ARCHIVIST_API_TOKEN")
    for host in ("0.0.0.0", "::", "192.168.1.5", "archive.example.org"):
        assert not is_loopback(host)
        with pytest.raises(BadInput, match="ARCHIVIST_API_TOKEN"):
            check_bind(host, None, "ARCHIVIST_API_TOKEN")
    check_bind("0.0.0.0", "a-token", "ARCHIVIST_API_TOKEN")
    refused = run("serve", "--host", "0.0.0.0", "--index", str(tmp_path / "index"))
    assert refused.returncode == 2 and "Refusing to listen on 0.0.0.0" in refused.stderr


class HeldEmbedder(Embedder):
    """The real model, whose passage embedding (reindex) or query embedding waits for a signal."""

    def __init__(self, real: Embedder) -> None:
        super().__init__(real.model_path)
        self._model, self._backend = real.load(), real.backend
        self.hold_passages = threading.Event()
        self.hold_queries = threading.Event()
        self.release = threading.Event()
        self.entered = threading.Event()  # set once a held call is waiting

    def encode_passages(self, *args, **kwargs):
        if self.hold_passages.is_set():
            self.release.wait(60)
        return super().encode_passages(*args, **kwargs)

    def encode(self, texts, *args, **kwargs):
        if self.hold_queries.is_set() and len(texts) == 1:
            self.entered.set()
            self.release.wait(60)
        return super().encode(texts, *args, **kwargs)


def test_a_reindex_through_the_api_keeps_searches_answering_then_switches(tmp_path, seed_index, real_embedder):
    archive, index = tmp_path / "archive", tmp_path / "index"
    shutil.copytree(SEED_ARCHIVE, archive)
    shutil.copytree(seed_index, index)
    write(archive / "glaciers.txt", "Glacier report\n\nThe Pamir glaciers retreated forty metres this summer, "
                                    "surveyors in Khorog said.\n")
    embedder = HeldEmbedder(real_embedder)
    with serving(index, archive, embedder) as base:
        before = call(f"{base}/health")[1]["build_id"]
        embedder.hold_passages.set()
        status, started, _ = call(f"{base}/reindex", method="POST")
        assert status == 202 and started["state"] == "running"
        assert call(f"{base}/reindex", method="POST")[0] == 409  # one at a time
        for _ in range(5):  # searches answer from the previous build meanwhile
            status, body, _ = call(f"{base}/search?{query(q='Pamir glaciers', k=3)}")
            assert status == 200 and "glaciers.txt" not in [r["article"]["path"] for r in body["results"]]
        assert call(f"{base}/reindex")[1]["state"] == "running"
        embedder.release.set()
        deadline = time.monotonic() + 120
        while (state := call(f"{base}/reindex")[1])["state"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert state["state"] == "done" and state["report"]["added"] == 1
        assert call(f"{base}/health")[1]["build_id"] not in (None, before)
        _, body, _ = call(f"{base}/search?{query(q='Pamir glaciers', k=1)}")
        assert body["results"][0]["article"]["path"] == "glaciers.txt"


def test_a_full_queue_answers_503_with_retry_after(seed_index, real_embedder):
    embedder = HeldEmbedder(real_embedder)
    with serving(seed_index, SEED_ARCHIVE, embedder, workers=1, queue=0) as base:
        assert call(f"{base}/search?{query(q='warm', k=1)}")[0] == 200
        embedder.hold_queries.set()
        first: dict = {}
        busy = threading.Thread(target=lambda: first.update(status=call(f"{base}/search?{query(q='held', k=1)}")[0]))
        busy.start()
        assert embedder.entered.wait(30)  # the held search occupies the only worker
        status, body, headers = call(f"{base}/search?{query(q='refused', k=1)}")
        assert status == 503 and headers.get("retry-after") == "1" and "busy" in body["error"]
        embedder.hold_queries.clear()
        embedder.release.set()
        busy.join(30)
        assert first["status"] == 200
        assert call(f"{base}/search?{query(q='after', k=1)}")[0] == 200


def test_a_reindex_gives_way_to_running_searches_between_batches():
    import asyncio

    from archivist.api.workers import SearchPool

    pool = SearchPool(workers=1, queue=0)
    started = time.monotonic()
    pool.yield_to_searches(0.3)
    assert time.monotonic() - started < 0.05  # idle: the reindex goes straight on
    gate = threading.Event()

    async def one_search() -> None:
        await pool.run(lambda: gate.wait(5))

    runner = threading.Thread(target=lambda: asyncio.run(one_search()))
    runner.start()
    deadline = time.monotonic() + 5
    while not pool.busy and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    pool.yield_to_searches(0.3)
    waited = time.monotonic() - started
    gate.set()
    runner.join(5)
    assert 0.25 <= waited < 2  # busy: it waited, but only as long as it may
    pool.close()


def test_searches_in_worker_processes_answer_as_on_threads_and_survive_a_dead_worker(api, seed_index, real_embedder):
    """What `serve` runs: searches in worker processes, those that wait handed over together."""
    import os
    import signal
    from concurrent.futures import ThreadPoolExecutor

    asked = [dict(q=QUESTION, k=3), dict(q="Panjshir resistance", k=4, per_article="true"),
             dict(q="Taliban", mode="keyword", k=5), dict(q='"Lion of Panjshir" -Massoud', k=3),
             dict(q="price of cocoa in Brazil", k=2), dict(q="Massoud", mode="semantic", k=2, outlet="Newsweek"),
             dict(q="   ", k=2), dict(q="Taliban", k=2, sort="sideways")] * 2

    def answers(base: str) -> list[tuple[int, dict]]:
        with ThreadPoolExecutor(len(asked)) as clients:  # all at once, so several wait together
            return [(status, body) for status, body, _ in
                    clients.map(lambda params: call(f"{base}/search?{query(**params)}"), asked)]

    def ranking(body: dict) -> tuple:
        """Each result's place and relevance, and the rest of the object but its timing."""
        return ([(r["article"]["id"], r["start"], round(r["relevance"], 1)) for r in body.get("results", [])],
                {key: value for key, value in body.items() if key not in ("results", "took_ms")})

    on_threads = answers(api)
    with serving(seed_index, SEED_ARCHIVE, real_embedder, workers=2, queue=32, processes=True) as base:
        in_processes = answers(base)
        assert [status for status, _ in in_processes] == [status for status, _ in on_threads]
        assert [status for status, _ in in_processes[:8]] == [200] * 6 + [400, 400]
        for (_, mine), (_, theirs) in zip(in_processes, on_threads):
            assert ranking(mine) == ranking(theirs)
            assert set(mine) == set(theirs)  # the same JSON object: same keys, same errors
        children = os.popen(f"ps -o pid=,args= --ppid {os.getpid()}").read().splitlines()
        workers = [int(line.split()[0]) for line in children if "multiprocessing.spawn" in line and "ps -o" not in line]
        assert len(workers) == 2
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        statuses = [call(f"{base}/search?{query(q=QUESTION, k=1)}")[0] for _ in range(3)]
        assert statuses[0] in (200, 503) and statuses[1:] == [200, 200]  # fresh workers take over
