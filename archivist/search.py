"""Search: dense (FAISS) and keyword (FTS5) candidates, fused by score, copies grouped.

`Searcher` is the one object the CLI and the page use. It opens the live build named by the
manifest and switches to a newer build on the next query after a reindex publishes one.
"""

from __future__ import annotations

import functools
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from archivist import keyword, store, stories, vectors
from archivist.dates import parse_user_date
from archivist.embedding import Embedder
from archivist.errors import BadInput
from archivist.fusion import score_fusion
from archivist.records import Hit, Source

MODES = ("hybrid", "semantic", "keyword")
MAX_QUERY_CHARS = 2000
# Candidates fetched from each retriever per result wanted; copies and overlaps are folded away.
CANDIDATES_PER_RESULT = 5
MIN_CANDIDATES = 50
# A neighbouring passage of the same article is shown as part of a result when it scores at least
# this share of the result (the team's questions: the answers that came second to their
# neighbour scored 0.94 and 0.99 of it; joins of neighbours at a third of the hit only pushed
# its answer down the card).
JOIN_SHARE = 0.8

# Score fusion: passage cosine + 0.3 x bm25 / the query's top bm25 (see fusion.score_fusion).
# Chosen on SciFact's train split, where score fusion beat every rank fusion tried; keyword 0.4-0.5
# scored 0.002-0.003 higher there, within noise, and 0.4 had put seed answers below third before.
FUSION_WEIGHTS = {"keyword": 0.3}

current_build_id = store.current_build_id


@dataclass
class SearchResponse:
    query: str
    hits: list[Hit]
    took_ms: float
    mode: str = "hybrid"
    terms: list[str] = field(default_factory=list)
    # The query's embedding, so a caller asking again (the page's timeline) need not embed it twice.
    vector: np.ndarray | None = None

    def to_json(self) -> dict:
        return {"query": self.query, "mode": self.mode, "took_ms": round(self.took_ms, 2),
                "results": [h.to_json() for h in self.hits]}


@dataclass
class _Filters:
    clause: str
    params: tuple

    @property
    def active(self) -> bool:
        return bool(self.clause)


class Searcher:
    """Reads one published build; cheap to query, loads the model on the first semantic query.

    With `follow_updates` (the default, for one-thread use such as the CLI) each query first
    switches to a newer published build. A multi-threaded owner such as the page passes False
    and opens a new Searcher per build instead, so no query ever sees a build swapped under it.
    """

    def __init__(self, index: Path, embedder: Embedder | None = None, follow_updates: bool = True) -> None:
        self.index = index
        self.embedder = embedder or Embedder()
        self.follow_updates = follow_updates
        self._keyword_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archivist-keyword")
        self._open()

    @classmethod
    def open(cls, index: Path, embedder: Embedder | None = None, follow_updates: bool = True) -> "Searcher":
        return cls(index, embedder, follow_updates)

    def _open(self) -> None:
        manifest = store.read_manifest(self.index)
        build = store.build_dir(self.index, manifest["build_id"])
        connection = store.open_live_database(self.index, manifest)
        try:
            dense = vectors.load(build / store.VECTORS)
        except Exception as error:  # RuntimeError from FAISS
            connection.close()
            raise store.damaged(self.index, error) from None
        self.manifest = manifest
        self.build_id = manifest["build_id"]
        self.connection = connection
        self.dense = dense

    def refresh(self) -> bool:
        """Switch to a newer published build if there is one (and updates are followed)."""
        if not self.follow_updates:
            return False
        live = store.current_build_id(self.index)
        if live and live != self.build_id:
            # The old connection is left to the garbage collector: another thread may be reading it.
            self._open()
            return True
        return False

    # ------------------------------------------------------------------ queries

    def search(self, query: str, k: int = 10, mode: str = "hybrid", outlets: list[str] | None = None,
               since: str | None = None, until: str | None = None, include_undated: bool = True,
               highlight: bool = False, vector: np.ndarray | None = None) -> SearchResponse:
        """The best `k` passages for `query`, one per story passage, with the articles that carry it.

        `vector` is the query's embedding when the caller has it (from an earlier response).
        `took_ms` counts the search itself; the one-time model load happens before the clock starts.
        """
        if mode != "keyword":
            self.embedder.load()
        started = time.perf_counter()
        query = _check_query(query)
        self.refresh()
        filters = self._filters(outlets, since, until, include_undated)
        ranked, vector = self._ranked(query, vector, _depth(k), mode, filters)
        hits = self._collapse(ranked, k)
        terms = keyword.query_terms(query)
        if highlight:
            self._mark_best_sentences(query, vector, hits)
        for hit in hits:
            hit.terms = terms
        return SearchResponse(query, hits, (time.perf_counter() - started) * 1000, mode, terms, vector)

    def more_like_passage(self, passage_id: int, k: int = 10, outlets: list[str] | None = None,
                          since: str | None = None, until: str | None = None,
                          include_undated: bool = True) -> SearchResponse:
        """Passages of other articles closest in meaning to a stored passage (its copies left out)."""
        started = time.perf_counter()
        self.refresh()
        label = self._passage_row(passage_id)
        if label is None:
            raise BadInput(f"Passage {passage_id} is no longer in the index (the archive was reindexed "
                           "since); search again to get fresh results.")
        filters = self._filters(outlets, since, until, include_undated)
        vector = vectors.reconstruct(self.dense, passage_id)
        ranked, _ = self._ranked("", vector, _depth(k * 3), "semantic", filters)
        same_article = {r[0] for r in self.connection.execute(
            "SELECT id FROM passages WHERE article_id = ?", (label["article_id"],))}
        # Copies of any passage of the article, not just this one: a result may show two of its
        # passages joined, and another outlet's copy of either is not "more like" it, it is it.
        excluded = {r[0] for r in self.connection.execute(
            "SELECT other_id FROM copies WHERE passage_id IN (SELECT id FROM passages WHERE article_id = ?)",
            (label["article_id"],))}
        ranked = [r for r in ranked if r[0] not in excluded and r[0] not in same_article]
        hits = self._collapse(ranked, k)
        return SearchResponse(f"more like: {label['title'] if label else passage_id}", hits,
                              (time.perf_counter() - started) * 1000, "semantic")

    def rank_passages(self, query: str, vector: np.ndarray | None, depth: int,
                      mode: str = "hybrid") -> list[tuple[int, float, dict[str, int]]]:
        """Fused passage ranking with no grouping, for evaluation; `vector` may be precomputed."""
        if vector is not None:
            vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        return self._ranked(query, vector, depth, mode, _Filters("", ()))[0]

    def _ranked(self, query: str, vector: np.ndarray | None, depth: int, mode: str, filters: _Filters
                ) -> tuple[list[tuple[int, float, dict[str, int]]], np.ndarray | None]:
        """Fused (passage id, score, ranks per list) from `depth` candidates of each retriever, and
        the query vector (embedded here when not given)."""
        if mode not in MODES:
            raise BadInput(f"Unknown search mode {mode!r}; use one of: {', '.join(MODES)}.")
        allowed = self._allowed_passages(filters) if filters.active else None
        scored: dict[str, list[tuple[int, float]]] = {}
        search_keywords = functools.partial(keyword.search, self.connection, query, depth, filters.clause,
                                            filters.params, passages=self.dense.ntotal)
        # bm25 runs in SQLite (no GIL) beside the query embedding and vector search: on two cores
        # the slowest list, not the sum of all three, sets the search time.
        keyword_pairs = self._keyword_worker.submit(search_keywords) if mode == "hybrid" else None
        if mode in ("hybrid", "semantic"):
            if vector is None:
                vector = self.embedder.encode_query(query)
            found_scores, found_ids = vectors.search(self.dense, vector, depth, allowed)
            scored["semantic"] = [(int(i), float(s)) for s, i in zip(found_scores[0], found_ids[0]) if i >= 0]
        if mode in ("hybrid", "keyword"):
            scored["keyword"] = keyword_pairs.result() if keyword_pairs else search_keywords()
        if mode == "keyword":
            return [(i, s, {"keyword": r}) for r, (i, s) in enumerate(scored["keyword"], start=1)], None
        return score_fusion(scored, FUSION_WEIGHTS,
                            lambda ids: dict(zip(ids, vectors.cosines(self.dense, ids, vector)))), vector

    def _collapse(self, ranked: list[tuple[int, float, dict[str, int]]], k: int) -> list[Hit]:
        """Keep the best of overlapping passages of one article, fold copies into `also_in`, and
        show a passage that continues a better hit of its article as part of that hit."""
        hits: list[Hit] = []
        folded: set[int] = set()
        for passage_id, score, ranks in ranked:
            full = len(hits) >= k
            # Past k, candidates are read only for neighbours to join, so a result is the same
            # whatever k is; `ranked` is best first, so none can qualify below the weakest hit's share.
            if full and score < JOIN_SHARE * min((h.score for h in hits if not h.joined_passage_ids), default=np.inf):
                break
            if passage_id in folded:
                continue
            if full and self._article_of(passage_id) not in {h.article["id"] for h in hits}:
                continue  # only a neighbour of a result can still be joined; skip reading its text
            row = self._passage_row(passage_id)
            if row is None:
                continue
            same_article = [h for h in hits if h.article["id"] == row["article_id"]]
            span = _without_overlaps(row, same_article)
            if span is None:
                continue
            continued = _continued_hit(row, span, same_article, score)
            if continued is not None:
                _join(continued, row, span)
                copies = self._copies_of(passage_id)
                folded.update(copies)
                continued.also_in = _union_of_sources(
                    continued.also_in, self._sources(copies, row["article_id"], row["text"]))
                continue
            if full:
                continue
            row["start"], row["end"] = span
            whole_text = row["text"]  # how the passage is worded, before trimming, to compare copies
            row["text"] = row["text"][span[0] - row["passage_start"]:span[1] - row["passage_start"]]
            copies = self._copies_of(passage_id)
            folded.update(copies)
            hit = Hit(rank=len(hits) + 1, score=score, passage=row["text"], start=row["start"],
                      end=row["end"], article=_article_meta(row), passage_id=passage_id,
                      also_in=self._sources(copies, row["article_id"], whole_text), ranks=ranks)
            hits.append(hit)
        return hits

    def _article_of(self, passage_id: int) -> str | None:
        row = self.connection.execute("SELECT article_id FROM passages WHERE id = ?", (int(passage_id),)).fetchone()
        return row[0] if row else None

    def _copies_of(self, passage_id: int) -> dict[int, float]:
        return dict(self.connection.execute(
            "SELECT other_id, similarity FROM copies WHERE passage_id = ? ORDER BY similarity DESC",
            (passage_id,)).fetchall())

    def _sources(self, copies: dict[int, float], own_article: str, own_text: str) -> list[Source]:
        """One entry per other article (its best-matching passage), earliest date first, each marked
        with how that article relates to the result's: its story relation when the two articles are
        the same story, else how closely this one passage is worded."""
        best: dict[str, tuple[dict, float]] = {}
        for other_id, similarity in copies.items():
            row = self._passage_row(other_id)
            if row is None or row["article_id"] == own_article:
                continue
            if row["article_id"] not in best or similarity > best[row["article_id"]][1]:
                best[row["article_id"]] = (row, similarity)
        sources = [Source(_article_meta(row), row["text"], row["start"], row["end"], similarity,
                          kind=stories.relation_in_story(self.connection, own_article, article_id)
                          or stories.passage_kind(own_text, row["text"]))
                   for article_id, (row, similarity) in best.items()]
        return _earliest_first(sources)

    def _passage_row(self, passage_id: int) -> dict | None:
        row = self.connection.execute(
            "SELECT p.id, p.article_id, p.start, p.end, p.start AS passage_start, "
            "substr(a.text, p.start + 1, p.end - p.start) AS text, "
            "a.path, a.title, a.outlet, a.date, a.url FROM passages p JOIN articles a ON a.id = p.article_id "
            "WHERE p.id = ?", (int(passage_id),)).fetchone()
        return dict(row) if row else None

    def _mark_best_sentences(self, query: str, vector: np.ndarray | None, hits: list[Hit]) -> None:
        """Set `hit.highlight` to the sentence of each passage closest in meaning to the query,
        from the stored sentence vectors (no model call but the query's, in keyword mode).

        A joined hit compares the sentences of all its passages; only sentences the card shows
        count (a trimmed one is marked in a better card).
        """
        for hit in hits:
            rows = store.rows_for_ids(
                self.connection, "SELECT s.start, s.end, e.vector FROM sentences s JOIN embeddings e "
                "ON e.model = ? AND e.text_hash = s.embed_hash WHERE s.start >= ? AND s.end <= ? "
                "AND s.passage_id IN ({marks}) ORDER BY s.start",
                [hit.passage_id, *hit.joined_passage_ids], self.embedder.name, hit.start, hit.end)
            if not rows:
                continue
            if vector is None:  # keyword mode: the query was not embedded for ranking
                vector = self.embedder.encode_query(query)
            stored = store.blob_to_vectors([r["vector"] for r in rows], self.embedder.dimension)
            best = rows[int(np.argmax(stored @ vector[0]))]
            hit.highlight = (best["start"], best["end"])

    # ------------------------------------------------------------------ filters

    def _filters(self, outlets: list[str] | None, since: str | None, until: str | None,
                 include_undated: bool) -> _Filters:
        since_iso = parse_user_date(since, "--since")
        until_iso = parse_user_date(until, "--until")
        if since_iso and until_iso and since_iso > until_iso:
            raise BadInput(f"--since {since_iso} is after --until {until_iso}; swap them.")
        clauses: list[str] = []
        params: list = []
        if outlets:
            known = {o["outlet"].lower(): o["outlet"] for o in self.outlets()}
            unknown = [o for o in outlets if o.lower() not in known]
            if unknown:
                names = ", ".join(sorted(known.values())) or "none"
                raise BadInput(f"Unknown outlet {unknown[0]!r}; outlets in this index: {names}.")
            clauses.append(f"a.outlet IN ({','.join('?' * len(outlets))})")
            params.extend(known[o.lower()] for o in outlets)
        if since_iso or until_iso:
            dated = []
            if since_iso:
                dated.append("a.date >= ?")
                params.append(since_iso)
            if until_iso:
                dated.append("a.date <= ?")
                params.append(until_iso)
            range_clause = " AND ".join(dated)
            clauses.append(f"(({range_clause}) OR a.date IS NULL)" if include_undated else f"({range_clause})")
        elif not include_undated:
            clauses.append("a.date IS NOT NULL")
        return _Filters(" AND ".join(clauses), tuple(params))

    def _allowed_passages(self, filters: _Filters) -> np.ndarray:
        rows = self.connection.execute(
            f"SELECT p.id FROM passages p JOIN articles a ON a.id = p.article_id WHERE {filters.clause}",
            filters.params).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    # ------------------------------------------------------------------ browsing

    def article(self, article_id: str) -> dict | None:
        row = self.connection.execute(
            "SELECT id, path, title, outlet, date, url, author, text FROM articles WHERE id = ?",
            (article_id,)).fetchone()
        return dict(row) if row else None

    def outlets(self) -> list[dict]:
        rows = self.connection.execute(
            "SELECT outlet, count(*) AS n FROM articles WHERE outlet IS NOT NULL GROUP BY outlet "
            "ORDER BY n DESC, outlet").fetchall()
        return [{"outlet": r["outlet"], "articles": r["n"]} for r in rows]

    def stats(self) -> dict:
        c = self.connection
        dates = c.execute("SELECT min(date), max(date), sum(date IS NULL) FROM articles").fetchone()
        return {
            "articles": c.execute("SELECT count(*) FROM articles").fetchone()[0],
            "passages": c.execute("SELECT count(*) FROM passages").fetchone()[0],
            "outlets": self.outlets(),
            "without_outlet": c.execute("SELECT count(*) FROM articles WHERE outlet IS NULL").fetchone()[0],
            "date_min": dates[0],
            "date_max": dates[1],
            "undated": dates[2] or 0,
            "built_at": self.manifest.get("built_at"),
            "model": self.manifest["model"]["name"],
            "backend": self.manifest["model"].get("backend"),
            "query_backend": self.embedder.backend,
            "vectors": {"passages": vectors.kind_of(self.dense)},
            "build_id": self.build_id,
            "index": str(self.index),
        }

    def close(self) -> None:
        self._keyword_worker.shutdown(wait=True)
        self.connection.close()


def _depth(k: int) -> int:
    """Candidates fetched from each retriever for `k` results; copies and overlaps fold some away."""
    return max(MIN_CANDIDATES, k * CANDIDATES_PER_RESULT)


def _article_meta(row: dict) -> dict:
    return {"id": row["article_id"], "path": row["path"], "title": row["title"],
            "outlet": row["outlet"], "date": row["date"], "url": row["url"]}


def _without_overlaps(row: dict, same_article: list[Hit]) -> tuple[int, int] | None:
    """The part of a passage not already shown by a better hit of the same article.

    Neighbouring passages share one sentence; trimming it keeps the new text visible without
    showing anything twice. A passage mostly covered by a better hit is dropped.
    """
    start, end = row["start"], row["end"]
    for hit in same_article:
        if hit.start < end and start < hit.end:
            if hit.start <= start and hit.end < end:
                start = hit.end
            elif start < hit.start and end <= hit.end:
                end = hit.start
            else:
                return None
    text = row["text"][start - row["start"]:end - row["start"]]
    start += len(text) - len(text.lstrip())
    end -= len(text) - len(text.rstrip())
    if end - start < 0.5 * (row["end"] - row["start"]):
        return None
    return start, end


def _continued_hit(row: dict, span: tuple[int, int], same_article: list[Hit], score: float) -> Hit | None:
    """The better hit of the same article that this passage (scoring `score`) runs on from (or
    into), if any, and if the passage scores at least JOIN_SHARE of it.

    Neighbouring passages share a sentence, and both rank high when the answer sits near their
    boundary: shown as two results, the second repeats the first's context and takes a place
    from another article; shown as one, the reader gets the whole stretch of text, with its best
    sentence marked. A weak neighbour is not joined: it would only push the hit's own text down
    the card. A hit takes at most one neighbour, so a result stays two passages at most."""
    for hit in same_article:
        if hit.joined_passage_ids or hit.score <= 0 or score < JOIN_SHARE * hit.score:
            continue
        if span[0] >= hit.end and row["start"] < hit.end:
            return hit
        if span[1] <= hit.start and row["end"] > hit.start:
            return hit
    return None


def _join(hit: Hit, row: dict, span: tuple[int, int]) -> None:
    """Extend `hit` with the part `span` of the overlapping passage `row` (offsets in the article)."""
    text, first = row["text"], row["passage_start"]
    if span[0] >= hit.end:
        hit.passage += text[hit.end - first:span[1] - first]
        hit.end = span[1]
    else:
        hit.passage = text[span[0] - first:hit.start - first] + hit.passage
        hit.start = span[0]
    hit.joined_passage_ids.append(int(row["id"]))


def _union_of_sources(first: list[Source], second: list[Source]) -> list[Source]:
    """One entry per article, the closer wording kept, earliest date first."""
    best: dict[str, Source] = {}
    for source in [*first, *second]:
        known = best.get(source.article["id"])
        if known is None or source.similarity > known.similarity:
            best[source.article["id"]] = source
    return _earliest_first(list(best.values()))


def _earliest_first(sources: list[Source]) -> list[Source]:
    """How `also_in` is ordered: who ran the passage first leads (undated last)."""
    return sorted(sources, key=lambda s: (s.article["date"] or "9999", s.article["title"]))


def _check_query(query: str) -> str:
    if query is None or not query.strip():
        raise BadInput("The query is empty; type a question or some words to search for.")
    query = " ".join(query.split())
    # Very long input (a pasted article) is cut: the model reads 256 tokens anyway.
    return query[:MAX_QUERY_CHARS]
