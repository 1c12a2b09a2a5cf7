"""The HTTP API: the same searches, records and errors as the CLI, as JSON over HTTP (FastAPI).

Every endpoint but /health needs `Authorization: Bearer <token>` when a token is set; searches
run on a bounded pool of workers (503 with Retry-After when it and its queue are full); a reindex
runs in the background and searches switch to its build when it is published. Query text is
not logged: the access log is off unless asked for.

Over a PostgreSQL index (`index_url`) every endpoint is served: the watchlist and the clean-ups
of names are kept in that database, and a reindex (POST /reindex, or a file added) reads this
server's archive folder into its index folder as a working copy, then publishes it there.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from starlette.concurrency import run_in_threadpool

from archivist.access import bearer_token, secret_matches
from archivist.api import search_processes
from archivist.api.jobs import ReindexJob
from archivist.api.searchers import live_searcher
from archivist.api.workers import PoolFull, SearchPool
from archivist.build.uploads import save_uploads, set_metadata
from archivist.errors import (ArchivistError, BadInput, IndexBusy, IndexIncompatible, IndexMissing,
                              NameTaken, NotFound)
from archivist.model.embedding import Embedder
from archivist.ingest.dates import parse_user_date
from archivist.query.export import check_format, encoded, export_rows
from archivist.query.search import MAX_K, MODES, SORTS
from archivist.watchlist import watchlist_at

MAX_UPLOAD_BYTES = 300 * 10**6  # the page's upload limit too (.streamlit/config.toml)
OPEN_PATHS = {"/health"}  # reachable without the token: a load balancer's probe
RETRY_AFTER_SECONDS = 1


def create_app(index: Path, archive: Path, token: str | None = None, workers: int = 2, queue: int = 32,
               embedder: Embedder | None = None, processes: bool = False, index_url: str | None = None,
               publishes: bool = True) -> FastAPI:
    """The API over one index folder (and the archive a reindex reads), or over the PostgreSQL
    index at `index_url` (`index` then the working folder a reindex builds in before publishing;
    without `publishes`, reindex and uploads are refused: the server was not started beside the
    archive on purpose). `processes`: searches run in `workers` worker processes (see
    api/search_processes.py), else on threads of this one."""
    embedder = embedder or Embedder()
    live = live_searcher(index, embedder, index_url)
    pool = SearchPool(workers, queue, processes=(lambda count: search_processes.start(index, count, index_url))
                      if processes else None, batch_function=search_processes.search_many)
    job = ReindexJob(archive, index, embedder, pause=pool.yield_to_searches, index_url=index_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await pool.warm_up(search_processes.warm)
        yield
        pool.close()
        live.close()

    app = FastAPI(title="Archivist", version="1", docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Search a news archive by meaning and by words; every result cites its source.")
    app.state.live, app.state.pool, app.state.job = live, pool, job

    if token:
        app.add_middleware(TokenGate, token=token)
    _error_handlers(app)

    @app.get("/health", summary="Liveness and whether an index is ready (no token needed)")
    async def health() -> dict:
        return {"status": "ok", **await run_in_threadpool(live.status)}

    @app.get("/search", summary="Search: the CLI's `search --json` object", response_class=JSONResponse)
    async def search(q: Annotated[str, Query(description="a question or words", max_length=20_000)],
                     filters: Annotated[dict, Depends(filter_params)],
                     k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
                     mode: Annotated[str, Query(description=" | ".join(MODES))] = "hybrid",
                     per_article: bool = False, offset: Annotated[int, Query(ge=0)] = 0,
                     sort: Annotated[str, Query(description=" | ".join(SORTS))] = "relevance") -> Response:
        # Encoded by the worker, not by FastAPI's generic encoder on the event loop: under load
        # that encoder held up every other request.
        options = dict(k=k, mode=mode, per_article=per_article, offset=offset, sort=sort, **filters)
        if pool.in_processes:
            body = await pool.run_batched((q, options))
        else:
            body = await pool.run(lambda: search_processes.encode(live.get().search(q, **options).to_json()))
        return Response(body, media_type="application/json")

    @app.get("/export", summary="Every match of a search as CSV or JSON Lines: `archivist export`",
             response_class=PlainTextResponse)
    async def export(q: Annotated[str, Query(description="a question or words", max_length=20_000)],
                     filters: Annotated[dict, Depends(filter_params)],
                     format: Annotated[str, Query(description="csv | jsonl")] = "csv",
                     mode: Annotated[str, Query(description="keyword: every passage holding the words; "
                                                "hybrid | semantic: the ranked results, at most 5,000")] = "keyword",
                     limit: Annotated[int | None, Query(ge=1)] = None) -> PlainTextResponse:
        check_format(format)
        text = await pool.run(lambda: "".join(encoded(export_rows(live.get(), q, mode, limit, **filters), format)))
        return PlainTextResponse(text, media_type="text/csv" if format == "csv" else "application/x-ndjson",
                                 headers={"Content-Disposition": f'attachment; filename="archivist-export.{format}"'})

    watchlist = watchlist_at(index, index_url)

    @app.get("/watches", summary="The watchlist, each watch with its new articles: `watch list --json`")
    async def watches() -> dict:
        return {"watches": [w.to_json() for w in await pool.run(lambda: watchlist.status(live.get()))]}

    @app.post("/watches", status_code=201, summary="Watch a search or name: `watch add`")
    async def add_watch(q: Annotated[str, Query(description="the words or name to watch", max_length=2000)],
                        filters: Annotated[dict, Depends(filter_params)],
                        mode: Annotated[str, Query(description=" | ".join(MODES))] = "keyword") -> dict:
        watch = await pool.run(lambda: watchlist.add(live.get(), q, mode, **filters))
        return {"id": watch.id, "query": watch.query, "mode": watch.mode, "seen": len(watch.seen)}

    @app.delete("/watches/{watch_id}", summary="Stop watching: `watch remove`")
    async def remove_watch(watch_id: int) -> dict:
        return {"removed": (await pool.run(lambda: watchlist.remove(watch_id))).id}

    @app.post("/watches/check", summary="Each watch's new articles, marked seen unless peek: `watch check --json`")
    async def check_watches(peek: bool = False) -> dict:
        return {"watches": [w.to_json() for w in await pool.run(lambda: watchlist.check(live.get(), peek=peek))]}

    @app.get("/entities", summary="People, organisations and places with article counts: `entities --json`")
    async def entities(type: Annotated[str | None, Query(description="person | org | place")] = None,
                       limit: Annotated[int, Query(ge=0)] = 50, hidden: bool = False) -> dict:
        listing = await pool.run(lambda: live.get().entity_names().listing(type, hidden=hidden))
        return {"entities": listing[:limit] if limit else listing, "total": len(listing)}

    @app.post("/entities/merge", summary="Read one name as another from now on: `entities --merge NAME INTO`")
    async def merge_entity(name: str, into: str) -> dict:
        return await pool.run(lambda: live.get().entity_names().merge(name, into))

    @app.post("/entities/hide", summary="Hide a wrong name: `entities --hide NAME`")
    async def hide_entity(name: str) -> dict:
        return await pool.run(lambda: live.get().entity_names().hide(name))

    @app.post("/entities/restore", summary="Undo a merge or hide: `entities --restore NAME`")
    async def restore_entity(name: str) -> dict:
        return await pool.run(lambda: live.get().entity_names().restore(name))

    @app.get("/articles/{article_id}", summary="One article: metadata, text and passages with offsets")
    async def article(article_id: str) -> dict:
        found = await pool.run(lambda: live.get().article_with_passages(article_id))
        if found is None:
            raise NotFound(f"No article {article_id!r} in the index; take ids from search results.")
        return found

    @app.get("/stories", summary="Groups of articles telling the same story: `stories --json`")
    async def stories() -> dict:
        return {"stories": [s.to_json() for s in await pool.run(lambda: live.get().stories())]}

    @app.get("/stats", summary="What the index holds: `stats --json`")
    async def stats() -> dict:
        return await pool.run(lambda: live.get().stats())

    async def check_publishes() -> None:
        if index_url and not publishes:
            raise BadInput("This server reads the PostgreSQL index without an archive of its own; start "
                           "`archivist serve --index-url ... --archive FOLDER` beside the archive to reindex "
                           "and add files through it.")

    @app.post("/reindex", status_code=202, summary="Start a reindex of the archive (409 while one runs)",
              dependencies=[Depends(check_publishes)])
    async def start_reindex() -> dict:
        return job.start()

    @app.put("/files/{name:path}", status_code=201, dependencies=[Depends(check_publishes)],
             summary="Add one file (or a .zip) to the archive and index it: `archivist add`")
    async def add_file(name: str, request: Request, replace: bool = False, outlet: str | None = None,
                       date: str | None = None, url: str | None = None) -> dict:
        declared = int(request.headers.get("content-length") or 0)
        if declared > MAX_UPLOAD_BYTES:
            raise BadInput(f"The file is {declared / 1e6:,.0f} MB; the API takes files up to "
                           f"{MAX_UPLOAD_BYTES // 10**6} MB (copy larger ones into the archive and POST /reindex).")
        content = await request.body()
        day = parse_user_date(date, "date")
        result = await run_in_threadpool(save_uploads, archive, [(name, content)], (), replace)
        if result.conflicts:
            raise NameTaken(f"A different file named {result.conflicts[0]} is already in the archive; "
                            "send replace=true to overwrite it, or use another name.")
        if result.refused:
            raise BadInput(f"{result.refused[0].path} was not added: {result.refused[0].reason}.")
        await run_in_threadpool(set_metadata, archive, result.saved,
                                {"outlet": outlet or "", "date": day or "", "url": url or ""})
        try:
            reindexing = job.start() if result.saved else None
        except IndexBusy:
            reindexing = {"state": "running", "note": "a reindex was already running; POST /reindex after it "
                                                      "ends to index this file"}
        return {"saved": result.saved, "unchanged": result.unchanged, "reindex": reindexing}

    @app.get("/reindex", summary="The running or last reindex: stage, counts, report or error")
    async def reindex_status() -> dict:
        return job.status()

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(_docs_page(app.openapi()))

    return app


class TokenGate:
    """Every path but the open ones needs `Authorization: Bearer <token>`. A plain ASGI layer:
    Starlette's decorator middleware runs each request through extra tasks and streams, which
    cost more than the check itself."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            authorization = Headers(scope=scope).get("authorization")
            if not secret_matches(bearer_token(authorization), self.token):
                refusal = JSONResponse({"error": "A valid token is required; send the header "
                                        "Authorization: Bearer <ARCHIVIST_API_TOKEN>."},
                                       status_code=401, headers={"WWW-Authenticate": "Bearer"})
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def filter_params(outlet: Annotated[list[str] | None, Query(description="only this outlet (repeatable)")] = None,
                  since: str | None = None, until: str | None = None, dated_only: bool = False,
                  author: Annotated[str | None, Query(description="the author's name contains this")] = None,
                  language: Annotated[list[str] | None, Query(
                      description="only this language, a name or ISO 639-1 code (repeatable)")] = None,
                  entity: Annotated[str | None, Query(
                      description="only articles naming this person, organisation or place")] = None) -> dict:
    """The filters every searching endpoint takes, as Searcher.search takes them."""
    return dict(outlets=outlet, since=since, until=until, include_undated=not dated_only, author=author,
                languages=language, entity=entity)


def _error_handlers(app: FastAPI) -> None:
    """Errors as JSON `{"error": one sentence}` with the status code a client can act on."""
    statuses = [(NameTaken, 409), (BadInput, 400), (NotFound, 404), (IndexBusy, 409), (IndexMissing, 503), (IndexIncompatible, 503),
                (ArchivistError, 500)]

    @app.exception_handler(ArchivistError)
    async def archivist_error(request: Request, error: ArchivistError) -> JSONResponse:
        status = next(code for kind, code in statuses if isinstance(error, kind))
        return JSONResponse({"error": str(error)}, status_code=status)

    @app.exception_handler(PoolFull)
    async def pool_full(request: Request, error: PoolFull) -> JSONResponse:
        return JSONResponse({"error": "The server is busy with other searches; retry in a second."},
                            status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())[1:]) or "the request"
        return JSONResponse({"error": f"Bad value for {where}: {first.get('msg', 'invalid')}."}, status_code=400)


def _docs_page(schema: dict) -> str:
    """The endpoints and their parameters from the OpenAPI schema, as a page served from here
    (FastAPI's own docs page loads its scripts from a CDN, which an offline newsroom cannot reach)."""
    rows = []
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            parameters = ", ".join(f"<code>{html.escape(p['name'])}</code>" for p in operation.get("parameters", []))
            rows.append(f"<tr><td><b>{method.upper()}</b></td><td><code>{html.escape(path)}</code></td>"
                        f"<td>{html.escape(operation.get('summary', ''))}</td><td>{parameters}</td></tr>")
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Archivist API</title></head>"
            "<body style='font-family:sans-serif;max-width:60rem;margin:2rem auto'>"
            f"<h1>Archivist API</h1><p>{html.escape(schema.get('info', {}).get('description', ''))} The machine-readable "
            "schema is at <a href='/openapi.json'>/openapi.json</a>. Send <code>Authorization: Bearer &lt;token&gt;"
            "</code> when the server was started with ARCHIVIST_API_TOKEN.</p>"
            "<table cellpadding='6'><tr><th>method</th><th>path</th><th>what</th><th>parameters</th></tr>"
            + "".join(rows) + "</table></body></html>")
