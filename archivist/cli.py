"""`python -m archivist reindex | search | stats | stories | eval | serve`: the command line over the core.

Errors the user can act on are printed as one sentence on stderr, with exit code 1 (failed)
or 2 (bad usage or input); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Sequence
from contextlib import closing
from typing import TextIO
from pathlib import Path

from archivist import config

from archivist.storage import manifest
from archivist.errors import ArchivistError, BadInput
from archivist.build.failpoints import with_failpoint
from archivist.progress import ProgressBars
from archivist.ingest.clutter import ASIDE_LABELS
from archivist.ingest.language import language_label, not_english_note
from archivist.query.relevance import STRONG
from archivist.query.search import MODES, SORTS, Searcher, check_page
from archivist.model.embedding import shared_embedder


def main(argv: Sequence[str] | None = None) -> int:
    config.use_offline_model()
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except ArchivistError as error:
        print(f"archivist: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("archivist: interrupted; the previous index is unchanged.", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m archivist",
                                     description="Searchable archive of news articles.")
    commands = parser.add_subparsers(dest="command")

    reindex = commands.add_parser("reindex", help="read archive/ and (re)build index/ incrementally")
    reindex.add_argument("--archive", help="archive folder (default: archive/ or $ARCHIVIST_ARCHIVE)")
    _index_option(reindex)
    reindex.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    reindex.add_argument("--quiet", action="store_true", help="no progress bars")
    reindex.add_argument("--index-url", help="postgresql://...: reindex into that PostgreSQL index (built in --index "
                                             "as a working copy, vectors shared through the database, then published "
                                             "there as a new generation; default: $ARCHIVIST_INDEX_URL)")
    reindex.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                         help="embed the passages on a Ray cluster at ADDRESS (default $RAY_ADDRESS, else a "
                              "local one in this process)")
    reindex.set_defaults(run=_reindex)

    add = commands.add_parser("add", help="copy files (or a .zip of them) into the archive, then reindex")
    add.add_argument("files", nargs="+", help="files to add; a .zip is unpacked into the archive")
    add.add_argument("--archive", help="archive folder (default: archive/ or $ARCHIVIST_ARCHIVE)")
    _index_option(add)
    add.add_argument("--replace", action="store_true",
                     help="overwrite archive files of the same name that hold something else")
    add.add_argument("--outlet", help="the outlet of every added file (written to archive/metadata.csv)")
    add.add_argument("--date", help="their date, YYYY-MM-DD (metadata.csv)")
    add.add_argument("--url", help="their URL (metadata.csv)")
    add.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    add.add_argument("--quiet", action="store_true", help="no progress bars")
    add.set_defaults(run=_add)

    search = commands.add_parser("search", help="search the index")
    search.add_argument("query", nargs="?", help="a question or words; omit with --batch")
    search.add_argument("-k", type=int, default=10, help="number of results (default 10)")
    search.add_argument("--mode", choices=MODES, default="hybrid")
    _filter_options(search)
    search.add_argument("--per-article", action="store_true",
                        help="one result per article (its best passage), with how many more passages matched")
    search.add_argument("--offset", type=int, default=0, help="skip this many results (the next page)")
    search.add_argument("--sort", choices=SORTS, default="relevance",
                        help="newest/oldest: the strong matches among the best-ranked, by date")
    search.add_argument("--json", action="store_true", help="print JSON (the contract: docs/ARCHITECTURE.md)")
    search.add_argument("--batch", metavar="FILE", help="one query per line from FILE ('-' = stdin); JSON Lines out")
    search.add_argument("--summary", action="store_true",
                        help="with --batch: one row a line (matching articles, best hit, first and last date) "
                             "as CSV, or JSON Lines with --json; a list of names wants --mode keyword")
    search.add_argument("--column", metavar="NAME", help="with --batch: the queries are this column of a CSV file")
    _index_option(search)
    _index_url_option(search, "search")
    search.set_defaults(run=_search)

    export = commands.add_parser("export", help="every match of a search as CSV or JSON Lines, no cap")
    export.add_argument("query", help="a question or words (the search syntax)")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.add_argument("--mode", choices=MODES, default="keyword",
                        help="keyword (default): every passage holding the words, however many; hybrid and "
                             "semantic: the ranked results, at most 5,000")
    export.add_argument("--limit", type=int, help="stop after this many rows")
    export.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    _filter_options(export)
    _index_option(export)
    _index_url_option(export, "export from")
    export.set_defaults(run=_export)

    watch = commands.add_parser("watch", help="searches kept in a watchlist, each knowing what is new")
    actions = watch.add_subparsers(dest="action", required=True, metavar="add|list|remove|check")
    watch_add = actions.add_parser("add", help="watch a search or a name (what matches now counts as seen)")
    watch_add.add_argument("query", help='the words or name, e.g. "Ahmad Massoud" (the search syntax)')
    watch_add.add_argument("--mode", choices=MODES, default="keyword",
                           help="keyword (default): articles holding the words; hybrid/semantic: strong matches")
    _filter_options(watch_add)
    watch_list = actions.add_parser("list", help="the watches, with how many new articles each has")
    watch_remove = actions.add_parser("remove", help="stop watching")
    watch_remove.add_argument("id", type=int, help="the watch's number (see watch list)")
    watch_check = actions.add_parser("check", help="print each watch's new articles and mark them seen")
    watch_check.add_argument("id", type=int, nargs="*", help="only these watches")
    watch_check.add_argument("--peek", action="store_true", help="do not mark them seen")
    for sub in (watch_add, watch_list, watch_remove, watch_check):
        sub.add_argument("--json", action="store_true", help="print JSON")
        _index_option(sub)
        _index_url_option(sub, "keep the watchlist in a table of, and search,")
    watch.set_defaults(run=_watch)

    entities = commands.add_parser("entities", help="people, organisations and places, with article counts")
    entities.add_argument("--type", choices=("person", "org", "place"), help="only this kind")
    entities.add_argument("--limit", type=int, default=50, help="the most named this many (default 50; 0: all)")
    entities.add_argument("--hidden", action="store_true", help="list the hidden names instead")
    entities.add_argument("--merge", nargs=2, metavar=("NAME", "INTO"),
                          help="read NAME as INTO from now on (two spellings of one name); survives reindexing")
    entities.add_argument("--hide", metavar="NAME", help="hide a wrong name (survives reindexing)")
    entities.add_argument("--restore", metavar="NAME", help="undo a merge or hide of NAME")
    entities.add_argument("--json", action="store_true", help="print JSON")
    _index_option(entities)
    _index_url_option(entities, "list the names of")
    entities.set_defaults(run=_entities)

    evaluate = commands.add_parser("eval", help="retrieval quality on a BEIR-format collection")
    evaluate.add_argument("collection", help="folder with corpus.jsonl, queries.jsonl, qrels/<split>.tsv")
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--mode", choices=MODES, default="hybrid")
    evaluate.add_argument("--aggregate", choices=("max", "sum", "top2"), default="max",
                          help="a document's score from its passages (default: max)")
    evaluate.add_argument("--run-out", metavar="FILE", help="write a TREC run file (100 documents a query)")
    evaluate.add_argument("--json", action="store_true")
    evaluate.add_argument("--quiet", action="store_true")
    evaluate.add_argument("--index", help="index folder for the collection (default: a cache folder, reused)")
    evaluate.add_argument("--index-url", help="postgresql://...: publish the collection's index there and rank "
                                              "through PostgreSQL + pgvector (default: $ARCHIVIST_INDEX_URL)")
    evaluate.set_defaults(run=_eval)

    stories = commands.add_parser("stories", help="groups of articles telling the same story")
    _index_option(stories)
    _index_url_option(stories, "read the stories of")
    stories.add_argument("--json", action="store_true")
    stories.set_defaults(run=_stories)

    serve = commands.add_parser("serve", help="the HTTP API (JSON; docs at /docs, schema at /openapi.json)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (beyond loopback only with ARCHIVIST_API_TOKEN set)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--archive", help="archive folder a POST /reindex reads (default: archive/ or $ARCHIVIST_ARCHIVE)")
    _index_option(serve)
    _index_url_option(serve, "serve (a POST /reindex builds in --index, then publishes there)")
    serve.add_argument("--workers", type=int, default=2,
                       help="searches run at once, each in its own process with its own model, "
                            "about 0.4 GB each (default 2)")
    serve.add_argument("--threads", action="store_true",
                       help="run searches on threads of the server process instead: one model in "
                            "memory, but searches take turns on Python's lock (about 0.8x the throughput)")
    serve.add_argument("--queue", type=int, default=32,
                       help="searches that may wait for a worker; beyond that 503 with Retry-After (default 32)")
    serve.add_argument("--access-log", action="store_true",
                       help="log each request line, query text included (off by default: it can identify sources)")
    serve.set_defaults(run=_serve)

    publish = commands.add_parser(
        "publish", help="copy the embedded index into PostgreSQL (pgvector) as its live build, without re-embedding")
    _index_option(publish)
    publish.add_argument("--index-url", help="postgresql://... (default: $ARCHIVIST_INDEX_URL)")
    publish.add_argument("--quiet", action="store_true", help="no progress bars")
    publish.add_argument("--json", action="store_true")
    publish.set_defaults(run=_publish)

    stats = commands.add_parser("stats", help="what the index holds")
    _index_option(stats)
    _index_url_option(stats, "describe")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(run=_stats)
    return parser


def _index_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", help="index folder (default: index/ or $ARCHIVIST_INDEX)")


def _index_url_option(parser: argparse.ArgumentParser, verb: str) -> None:
    """--index-url for the commands that read a PostgreSQL index as they read the embedded one."""
    parser.add_argument("--index-url", help=f"postgresql://...: {verb} an index published there instead "
                                            "(default: $ARCHIVIST_INDEX_URL; unset: the embedded index)")


def _reindex(args: argparse.Namespace) -> int:
    from archivist.build.indexer import reindex

    embedder = None
    if getattr(args, "ray", None):  # `add` reindexes through here too, without --ray
        from archivist.build.ray_embedding import RayEmbedder, check_ray

        check_ray()
        from archivist.model.embedding import Embedder

        embedder = RayEmbedder(Embedder(), None if args.ray == "local" else args.ray,
                               actors=config.ray_actors())
    bars = ProgressBars(enabled=not args.quiet)
    url = config.index_url(getattr(args, "index_url", None))  # `add` reindexes through here too
    try:
        if url:
            from archivist.build.reindex_postgres import reindex_into_postgres

            report = reindex_into_postgres(config.archive_dir(args.archive), config.index_dir(args.index), url,
                                           progress=with_failpoint(bars.update), embedder=embedder)
        else:
            report = reindex(config.archive_dir(args.archive), config.index_dir(args.index),
                             progress=with_failpoint(bars.update), embedder=embedder)
    finally:
        bars.close()
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        print(report.summary())
        for skipped in report.skipped:
            print(f"  {skipped.line()}")
    return 0


def _add(args: argparse.Namespace) -> int:
    from archivist.build.uploads import save_uploads, set_metadata
    from archivist.ingest.dates import parse_user_date

    date = parse_user_date(args.date, "--date")
    files = []
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            raise BadInput(f"{name} is not a file; give the files to add (a folder: zip it, or copy it "
                           "into the archive and run reindex).")
        files.append((path.name, path.read_bytes()))
    archive = config.archive_dir(args.archive)
    result = save_uploads(archive, files, replace_all=args.replace)
    set_metadata(archive, result.saved, {"outlet": args.outlet or "", "date": date or "", "url": args.url or ""})
    if result.conflicts:
        print(f"archivist: not replaced (a different file has that name; add --replace to overwrite): "
              f"{', '.join(result.conflicts)}", file=sys.stderr)
    for refused in result.refused:
        print(f"archivist: not added {refused.path}: {refused.reason}", file=sys.stderr)
    args.quiet = args.quiet or args.json
    if not result.saved:
        print("Nothing new was added" + (f" ({len(result.unchanged)} already in the archive)" if result.unchanged
                                         else "") + ".")
        return 1 if result.refused or result.conflicts else 0
    print(f"Added {len(result.saved)} file{'s' if len(result.saved) != 1 else ''} to {archive}: "
          f"{', '.join(result.saved)}", file=sys.stderr if args.json else sys.stdout)
    return _reindex(args)


def _search(args: argparse.Namespace) -> int:
    check_page(args.k, args.offset)
    if (args.query is None) == (args.batch is None):
        raise BadInput("Give a query, or --batch FILE (or --batch - for standard input), not both.")
    searcher = _searcher_for(args)
    options = dict(k=args.k, mode=args.mode, per_article=args.per_article, offset=args.offset, sort=args.sort,
                   **_filter_values(args))
    if args.batch is not None and (args.summary or args.column):
        return _batch_summary(searcher, args)
    if args.batch is not None:
        return _search_batch(searcher, args.batch, options)
    response = searcher.search(args.query, **options)
    if args.json:
        print(json.dumps(response.to_json(), ensure_ascii=False))
    else:
        _print_hits(response, sys.stdout)
    return 0


def _searcher_for(args: argparse.Namespace) -> Searcher:
    """The Searcher of the PostgreSQL index named by --index-url or $ARCHIVIST_INDEX_URL, else of the embedded one."""
    url = config.index_url(getattr(args, "index_url", None))
    if url:
        from archivist.query.postgres_search import PostgresSearcher

        return PostgresSearcher.open(url, shared_embedder())
    return Searcher.open(config.index_dir(args.index), shared_embedder())


def _export(args: argparse.Namespace) -> int:
    from archivist.query.export import encoded, export_rows

    searcher = _searcher_for(args)
    rows = export_rows(searcher, args.query, args.mode, args.limit, **_filter_values(args))
    first = next(rows, None)  # a bad query or filter fails here, before any file is written
    out = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout
    count = 0

    def counted(rows):
        nonlocal count
        for count, row in enumerate(rows, start=1):
            yield row

    try:
        for text in encoded(counted(itertools.chain([first] if first is not None else [], rows)), args.format):
            out.write(text)
    finally:
        if args.output:
            out.close()
    print(f"Exported {count:,} row{'s' if count != 1 else ''}" + (f" to {args.output}" if args.output else "")
          + ".", file=sys.stderr)
    return 0


def _watch(args: argparse.Namespace) -> int:
    from archivist.watchlist import watchlist_of

    searcher = _searcher_for(args)
    watchlist = watchlist_of(searcher)
    if args.action == "add":
        watch = watchlist.add(searcher, args.query, args.mode, **_filter_values(args))
        print(json.dumps({"id": watch.id, "query": watch.query, "seen": len(watch.seen)}) if args.json else
              f"Watching {watch.label()!r} as watch {watch.id}; {len(watch.seen)} matching articles now count as seen.")
        return 0
    if args.action == "remove":
        watch = watchlist.remove(args.id)
        print(json.dumps({"removed": watch.id}) if args.json else f"Stopped watching {watch.label()!r}.")
        return 0
    statuses = (watchlist.status(searcher) if args.action == "list" else
                watchlist.check(searcher, peek=args.peek, watch_ids=args.id))
    if args.json:
        print(json.dumps({"watches": [s.to_json() for s in statuses]}, ensure_ascii=False))
        return 0
    if not statuses and args.action == "list":
        print("No watches yet; add one with: python -m archivist watch add \"a name or words\"")
    for status in statuses:
        if args.action == "check" and not status.new:
            continue  # from cron, no output means nothing new (and so no mail)
        watch = status.watch
        print(f"{watch.id}. {watch.label()}: {len(status.new)} new of {len(status.matching)} matching"
              + (f" (filters: {watch.filters})" if watch.filters else ""))
        if args.action == "check":
            for article in status.new:
                print(f"   {article.date or 'undated'}  {article.title}  ({article.outlet or 'outlet unknown'}, "
                      f"{article.url or article.path})")
    return 0


def _entities(args: argparse.Namespace) -> int:
    names = _searcher_for(args).entity_names()
    if args.merge or args.hide or args.restore:
        done = (names.merge(*args.merge) if args.merge else names.hide(args.hide) if args.hide
                else names.restore(args.restore))
        print(json.dumps(done) if args.json else
              f"Merged {args.merge[0]!r} into {args.merge[1]!r}." if args.merge else
              f"Hid {args.hide!r}." if args.hide else f"Restored {args.restore!r}.")
        return 0
    listing = names.listing(args.type, hidden=args.hidden)
    shown = listing[:args.limit] if args.limit > 0 else listing
    if args.json:
        print(json.dumps({"entities": shown, "total": len(listing)}, ensure_ascii=False))
        return 0
    if not listing:
        print("No hidden names." if args.hidden else "No people, organisations or places found; reindex to extract them.")
    for row in shown:
        merged = [name for name in row["spellings"] if name != row["name"]]
        print(f"{row['articles']:6,}  {row['type']:<6}  {row['name']}" + (f"  (also: {', '.join(merged)})" if merged else ""))
    if len(shown) < len(listing):
        print(f"... and {len(listing) - len(shown):,} more (--limit 0 lists all)")
    return 0


def _filter_options(parser: argparse.ArgumentParser) -> None:
    """The filters every command that searches takes (search, export, watch add)."""
    parser.add_argument("--outlet", action="append",
                        help="only this outlet (repeatable; '(unknown outlet)' for articles without one)")
    parser.add_argument("--author", help="only articles whose author's name contains this")
    parser.add_argument("--since", help="only articles dated on or after YYYY-MM-DD")
    parser.add_argument("--until", help="only articles dated on or before YYYY-MM-DD")
    parser.add_argument("--dated-only", action="store_true",
                        help="with --since/--until, leave out articles that have no date")
    parser.add_argument("--entity", metavar="NAME",
                        help="only articles naming this person, organisation or place (see `entities`)")
    parser.add_argument("--language", action="append",
                        help="only articles in this language: a name or ISO code, e.g. German or de "
                             "(repeatable; 'unknown' for articles whose language could not be told)")


def _filter_values(args: argparse.Namespace) -> dict:
    """The filters of `_filter_options` as Searcher.search takes them."""
    return dict(outlets=args.outlet, since=args.since, until=args.until, include_undated=not args.dated_only,
                author=args.author, languages=args.language, entity=args.entity)


def _batch_summary(searcher: Searcher, args: argparse.Namespace) -> int:
    from archivist.query.batch import COLUMNS, read_lines, summarise
    from archivist.query.export import encoded

    text = _batch_source(args.batch).read()
    failed = False

    def noted(rows):
        nonlocal failed
        for row in rows:
            failed = failed or bool(row["error"])
            yield row

    rows = noted(summarise(searcher, read_lines(text, args.column), args.mode, **_filter_values(args)))
    for chunk in encoded(rows, "jsonl" if args.json else "csv", COLUMNS):
        sys.stdout.write(chunk)
        sys.stdout.flush()
    return 2 if failed else 0


def _batch_source(source: str):
    """The batch's lines: standard input for '-', else the file (one-line error when unreadable)."""
    if source == "-":
        sys.stdin.reconfigure(errors="replace")
        return sys.stdin
    try:
        return open(source, encoding="utf-8", errors="replace")
    except OSError as error:
        raise BadInput(f"Cannot read the batch file {source} ({error.strerror}).") from None


def _search_batch(searcher: Searcher, source: str, options: dict) -> int:
    """One JSON object per input line; a bad line gets an object with "error" and the rest go on."""
    handle = _batch_source(source)
    failed = False
    with handle:
        for line in handle:
            query = line.strip()
            if not query:
                continue
            try:
                print(json.dumps(searcher.search(query, **options).to_json(), ensure_ascii=False), flush=True)
            except BadInput as error:
                failed = True
                print(json.dumps({"query": query, "error": str(error), "results": []}), flush=True)
    return 2 if failed else 0


def _print_hits(response, out: TextIO) -> None:
    if not response.hits:
        print(f"No results for {response.query!r}. Try other words, --mode semantic, or fewer filters.", file=out)
        return
    if response.no_strong_match:
        print("No strong match in the archive; the closest passages are:\n", file=out)
    if response.matching_articles is not None:
        print(f"{'' if response.matching_exact else 'About '}{response.matching_articles} matching "
              f"article{'' if response.matching_articles == 1 else 's'}\n", file=out)
    for hit in response.hits:
        meta = hit.article
        source = " · ".join(x for x in (meta.outlet or "outlet unknown", meta.date or "undated", meta.place,
                                        meta.path, hit.page_label, not_english_note(meta.language)) if x)
        strength = "" if hit.relevance is None else f"relevance {hit.relevance:.2f}, " + (
            "strong" if hit.relevance >= STRONG else "weak") + "; "
        print(f"{hit.rank}. {meta.title}", file=out)
        print(f"   {source}   ({strength}score {hit.score:.4f})", file=out)
        if hit.kind in ASIDE_LABELS:
            print(f"   [{ASIDE_LABELS[hit.kind]}]", file=out)
        for line in _wrap(hit.passage):
            print(f"   {line}", file=out)
        if hit.more_in_article:
            print(f"   ({hit.more_in_article} more passage{'s' if hit.more_in_article > 1 else ''} "
                  "in this article)", file=out)
        for other in hit.also_in:
            o = other.article
            print(f"   also in: {o.title} ({o.outlet or 'outlet unknown'}, {o.date or 'undated'}, {o.path})",
                  file=out)
        print(file=out)
    print(f"{len(response.hits)} results in {response.took_ms:.0f} ms", file=out)


def _wrap(text: str, width: int = 96) -> list[str]:
    import textwrap

    return textwrap.wrap(" ".join(text.split()), width=width) or [""]


def _eval(args: argparse.Namespace) -> int:
    from pathlib import Path

    from archivist.evaluation import evaluate, write_trec_run

    collection = Path(args.collection)
    if not collection.is_dir():
        raise BadInput(f"{collection} is not a folder; give a BEIR collection folder.")
    url = config.index_url(args.index_url)
    result = evaluate(collection, args.split, Path(args.index) if args.index else None, args.mode,
                      args.aggregate, quiet=args.quiet, index_url=url)
    if args.run_out:
        write_trec_run(result.run, Path(args.run_out), f"archivist-{args.mode}")
    if args.json:
        print(json.dumps({"collection": str(collection), "split": args.split, "mode": args.mode,
                          "backend": "postgresql" if url else "embedded", **result.to_json()}))
    else:
        metrics = "  ".join(f"{name} {value:.4f}" for name, value in result.metrics.items())
        backend = ", PostgreSQL" if url else ""
        print(f"{collection.name} {args.split} ({result.queries} queries, {args.mode}{backend}): {metrics}")
    return 0


def _stories(args: argparse.Namespace) -> int:
    from archivist.build.stories import read_stories

    if config.index_url(args.index_url):
        with closing(_searcher_for(args)) as searcher:
            stories = searcher.stories()
    else:
        index = config.index_dir(args.index)  # the database alone: no vectors need loading
        with closing(manifest.open_live_database(index, manifest.read_manifest(index))) as connection:
            stories = read_stories(connection)
    if args.json:
        print(json.dumps({"stories": [s.to_json() for s in stories]}, ensure_ascii=False))
        return 0
    if not stories:
        print("No stories: no two articles in the index carry the same text or rewrite each other.")
    for story in stories:
        print(f"Story {story.id} ({story.kind}, {len(story.members)} articles)")
        for member in story.members:
            ref = member.article
            print(f"   {ref.date or 'undated':10}  {member.kind:8} {ref.title} "
                  f"({ref.outlet or 'outlet unknown'}, {ref.path})")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from archivist.access import check_bind
    from archivist.api.server import create_app
    from archivist.storage.postgres.connection import redacted

    token = config.api_token()
    check_bind(args.host, token, "ARCHIVIST_API_TOKEN")
    if args.workers < 1 or args.queue < 0:
        raise BadInput("--workers must be 1 or more and --queue 0 or more.")
    url = config.index_url(args.index_url)
    app = create_app(config.index_dir(args.index), config.archive_dir(args.archive), token=token,
                     workers=args.workers, queue=args.queue, processes=not args.threads, index_url=url,
                     publishes=config.archive_named(args.archive))
    print(f"archivist: serving http://{args.host}:{args.port} (docs at /docs)"
          + (f", the PostgreSQL index at {redacted(url)} (read-only)" if url else "")
          + ("; token required" if token else "; loopback only, no token"), file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=args.access_log)
    return 0


def _publish(args: argparse.Namespace) -> int:
    from archivist.build.publish_postgres import publish_embedded
    from archivist.storage.postgres.connection import redacted

    url = config.index_url(args.index_url)
    if not url:
        raise BadInput("Say which database to publish to: --index-url postgresql://... or $ARCHIVIST_INDEX_URL.")
    bars = ProgressBars(enabled=not args.quiet)
    try:
        report = publish_embedded(config.index_dir(args.index), url, progress=with_failpoint(bars.update))
    finally:
        bars.close()
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        counts = report.counts
        print(f"Published build {report.build_id} to {redacted(url)} as generation {report.generation}"
              + (f" (replacing {report.replaced})" if report.replaced else "")
              + f": {counts['articles']:,} articles, {counts['passages']:,} passages with their vectors, "
              f"in {report.seconds:.1f} s"
              + (f" (resumed: {report.resumed_articles:,} articles were in from an interrupted publish)"
                 if report.resumed_articles else "") + ".")
    return 0


def _stats(args: argparse.Namespace) -> int:
    stats = _searcher_for(args).stats()
    if args.json:
        print(json.dumps(stats, ensure_ascii=False))
        return 0
    outlets = ", ".join(f"{o['outlet']} ({o['articles']})" for o in stats["outlets"]) or "none named"
    print(f"Articles:   {stats['articles']} ({stats['without_outlet']} without outlet, {stats['undated']} undated)")
    print(f"Passages:   {stats['passages']}")
    print(f"Outlets:    {outlets}")
    print("Languages:  " + (", ".join(f"{language_label(row['language'])} ({row['articles']})"
                                      for row in stats["languages"]) or "-"))
    print(f"Dates:      {stats['date_min'] or '-'} to {stats['date_max'] or '-'}")
    print(f"Model:      {stats['model']} (embedded with {stats['backend']}, queries with {stats['query_backend']})")
    print(f"Vectors:    passages {stats['vectors']['passages']}")
    print(f"Built at:   {stats['built_at']}  (build {stats['build_id']})")
    print(f"Index:      {stats['index']}")
    return 0
