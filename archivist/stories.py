"""Stories: groups of articles that are the same story told again (exact copies, near copies, rewrites).

Three relations between two articles, strongest first:
- exact copy: the same text once case, spacing and punctuation are normalised;
- near copy: word 5-shingle sets with estimated Jaccard >= NEAR_THRESHOLD (MinHash LSH);
- rewrite: at least REWRITE_SHARE of the shorter article's passages have a close semantic
  counterpart (a `copies` pair found at reindex, cosine >= REWRITE_SIMILARITY) in the other, and
  the two open with the same news (their first sentences meet at cosine >= LEAD_SIMILARITY) and
  report the same occasion (dated within REWRITE_MAX_DAYS, the shorter one's figures kept).

Work is incremental: each article's normalised-text key and MinHash signature are stored once, and
only relations that involve articles added in this build are computed; relations between two
unchanged articles are kept (their text did not change). Groups are then re-formed from the stored
relations, which is cheap.

Grouping is leader-based, not a transitive closure: articles are taken earliest first, and one joins
a group when it copies (exactly or nearly) any member, or rewrites the group's first article. A
transitive closure of "rewrites" chained a running story (eleven BBC articles on one doping case,
each a new development) into one group although the first and last shared little.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from archivist import store
from archivist.keyword import lowercase_words
from archivist.config import MODEL_DIMENSION, MODEL_NAME
from archivist.embedding import text_hash

KINDS = ("exact", "near", "rewrite")  # strongest first
# Texts to L2-normalised vectors (Embedder.encode): stories embed the leads of rewrite candidates.
Embed = Callable[[list[str]], np.ndarray]
NEAR_THRESHOLD = 0.8
# LSH finds candidates above this estimated Jaccard, each then checked against NEAR_THRESHOLD. Banded
# for 0.8 itself, LSH missed one pair in 13 at Jaccard 0.9 (a 5-word change in 85 words).
LSH_THRESHOLD = 0.5
SHINGLE_WORDS = 5
MINHASH_PERMUTATIONS = 128
# Stored signatures are only comparable when made with the same seed and hashing scheme.
MINHASH_SEED = 1
MINHASH_SCHEME = "affine32"
# Share of the shorter article's passages that need a counterpart for a rewrite.
REWRITE_SHARE = 0.5
# How close a counterpart must be to count for a rewrite. Passage copies for search use 0.85, but
# at 0.85 articles on different days of a running story paired through their shared background
# paragraphs (14 of 22 BBC "rewrite" groups read were different events); true rewrites pair at
# 0.92-1.0 (the seed rewrite at 0.95-0.98), unrelated follow-ups mostly below 0.90. Of the 13
# rewrite groups then read, the 4 wrong ones were later developments whose opening sentences
# differed, hence the lead condition in `_same_lead`.
LEAD_SENTENCES = 2
LEAD_SIMILARITY = 0.85
# A rewrite reports the same occasion: dated within this many days of the other (when both are
# dated), and keeping most of the shorter article's figures (when it has a few).
REWRITE_MAX_DAYS = 2
MIN_FIGURES = 3
FIGURES_KEPT = 0.95
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
REWRITE_SIMILARITY = 0.90

@dataclass(frozen=True)
class Story:
    id: int
    kind: str
    members: list[dict]  # article metadata plus "kind": its strongest relation inside the group

    def to_json(self) -> dict:
        return {"id": self.id, "kind": self.kind, "members": self.members}


def words_key(words: list[str]) -> str:
    """The exact-copy key: the normalised words, hashed."""
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


def shingles(words: list[str]) -> set[str]:
    return {" ".join(words[i:i + SHINGLE_WORDS]) for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}


def stronger(kind: str, other: str | None) -> bool:
    return other is None or KINDS.index(kind) < KINDS.index(other)


def passage_kind(text: str, other: str) -> str:
    """How one passage is carried by an article that is not otherwise the same story."""
    words, other_words = lowercase_words(text), lowercase_words(other)
    if words == other_words:
        return "exact"
    a, b = shingles(words), shingles(other_words)
    return "near" if len(a & b) >= NEAR_THRESHOLD * len(a | b) else "rewrite"


def update_stories(connection: sqlite3.Connection, new_articles: Iterable[str], embed: Embed) -> int:
    """Relate the articles added in this build to all others, regroup, store; returns the group count.

    Rows of removed or changed articles have already gone with them (foreign keys cascade)."""
    new = sorted(set(new_articles))
    if new:
        _store_signatures(connection, new)
        relations: dict[tuple[str, str], str] = {}
        for a, b in _exact_pairs(connection, new):
            _relate(relations, a, b, "exact")
        for a, b in _near_pairs(connection, new):
            _relate(relations, a, b, "near")
        for a, b in _rewrite_pairs(connection, new, embed):
            _relate(relations, a, b, "rewrite")
        connection.executemany("INSERT OR REPLACE INTO relations(a, b, kind) VALUES (?, ?, ?)",
                               ((a, b, kind) for (a, b), kind in relations.items()))
    return _store_groups(connection)


def _store_signatures(connection: sqlite3.Connection, article_ids: list[str]) -> None:
    from datasketch import MinHash

    rows = store.rows_for_ids(
        connection, "SELECT id, substr(text, body_start + 1) FROM articles WHERE id IN ({marks})", article_ids)
    signatures = []
    for article_id, body in rows:
        words = lowercase_words(body)
        signature = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=MINHASH_SEED, scheme=MINHASH_SCHEME)
        signature.update_batch([s.encode("utf-8") for s in shingles(words)])
        signatures.append((article_id, words_key(words), signature.hashvalues.astype(np.uint64).tobytes()))
    connection.executemany(
        "INSERT OR REPLACE INTO signatures(article_id, exact_key, minhash) VALUES (?, ?, ?)", signatures)


def _exact_pairs(connection: sqlite3.Connection, new: list[str]) -> set[tuple[str, str]]:
    return set(store.rows_for_ids(
        connection, "SELECT n.article_id, o.article_id FROM signatures n JOIN signatures o "
        "ON o.exact_key = n.exact_key AND o.article_id != n.article_id WHERE n.article_id IN ({marks})", new))


def _near_pairs(connection: sqlite3.Connection, new: list[str]) -> set[tuple[str, str]]:
    """Pairs with a new article among LSH candidates, confirmed by the estimated Jaccard."""
    from datasketch import LeanMinHash, MinHashLSH

    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=MINHASH_PERMUTATIONS)
    signatures: dict[str, LeanMinHash] = {}
    for article_id, blob in connection.execute("SELECT article_id, minhash FROM signatures"):
        signature = LeanMinHash(seed=MINHASH_SEED, hashvalues=np.frombuffer(blob, dtype=np.uint64),
                                scheme=MINHASH_SCHEME)
        signatures[article_id] = signature
        lsh.insert(article_id, signature, check_duplication=False)
    pairs = set()
    for article_id in new:
        signature = signatures.get(article_id)
        if signature is None:
            continue
        for other in lsh.query(signature):
            if other != article_id and signature.jaccard(signatures[other]) >= NEAR_THRESHOLD:
                pairs.add((article_id, other))
    return pairs


def _rewrite_pairs(connection: sqlite3.Connection, new: list[str], embed: Embed) -> set[tuple[str, str]]:
    """Pairs (new article, other) where most passages of the shorter one have a semantic copy in the other."""
    connection.execute("CREATE TEMP TABLE IF NOT EXISTS new_articles(id TEXT PRIMARY KEY)")
    connection.execute("DELETE FROM new_articles")
    connection.executemany("INSERT INTO new_articles(id) VALUES (?)", ((a,) for a in new))
    # Passages of one article that have a copy in the other, for every pair touching a new article.
    rows = connection.execute(
        "SELECT p.article_id, o.article_id, count(DISTINCT p.id) FROM copies c "
        "JOIN passages p ON p.id = c.passage_id JOIN passages o ON o.id = c.other_id "
        "WHERE c.similarity >= ? AND (p.article_id IN (SELECT id FROM new_articles) "
        "OR o.article_id IN (SELECT id FROM new_articles)) "
        "GROUP BY p.article_id, o.article_id", (REWRITE_SIMILARITY,)).fetchall()
    connection.execute("DROP TABLE new_articles")
    covered = {(own, other): count for own, other, count in rows}
    involved = {a for pair in covered for a in pair}
    sizes = _passage_counts(connection, involved)
    candidates = []
    for (own, other), count in covered.items():
        if own > other and (other, own) in covered:
            continue  # each unordered pair once
        shorter, longer = (own, other) if sizes[own] <= sizes[other] else (other, own)
        if covered.get((shorter, longer), 0) >= REWRITE_SHARE * sizes[shorter]:
            candidates.append((own, other))
    leads = _lead_vectors(connection, {a for pair in candidates for a in pair}, embed)
    return {(own, other) for own, other in candidates
            if _same_lead(leads[own], leads[other]) and _same_occasion(connection, own, other)}


def _same_occasion(connection: sqlite3.Connection, a: str, b: str) -> bool:
    """Whether two articles that read alike report the same occasion, not a recurring one.

    Wire services send the same template every day (market tables, central bank operations,
    monthly statistics, earnings): such items embed alike but differ in date and in figures. On a
    30-group Reuters sample, every true rewrite was dated within a day of its original and kept
    all the figures of the one with fewer, while 12 of 18 wrong groups were recurring items;
    same-day market tables kept only 75-92% of each other's figures."""
    rows = dict((r[0], (r[1], r[2])) for r in connection.execute(
        "SELECT id, date, substr(text, body_start + 1) FROM articles WHERE id IN (?, ?)", (a, b)))
    (date_a, body_a), (date_b, body_b) = rows[a], rows[b]
    if date_a and date_b:
        gap = abs((dt.date.fromisoformat(date_a[:10]) - dt.date.fromisoformat(date_b[:10])).days)
        if gap > REWRITE_MAX_DAYS:
            return False
    figures, others = sorted((_FIGURE.findall(body_a), _FIGURE.findall(body_b)), key=len)
    if len(figures) < MIN_FIGURES:
        return True
    kept = set(others)
    return sum(f in kept for f in figures) >= FIGURES_KEPT * len(figures)


def _same_lead(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two articles open with the same news: a rewrite keeps the news of its lead, while
    a report of a later development reuses background lower down under a new first sentence.

    Compares the first LEAD_SENTENCES sentences of each: on BBC pairs read by hand, true rewrites'
    leads met at cosine 0.93-1.0, later developments' at 0.49-0.76."""
    return bool(len(a) and len(b)) and float((a @ b.T).max()) >= LEAD_SIMILARITY


def _lead_vectors(connection: sqlite3.Connection, article_ids: set[str], embed: Embed) -> dict[str, np.ndarray]:
    """The first LEAD_SENTENCES sentences of each article, each embedded on its own (cached).

    Not the stored sentence vectors: those are pooled inside their passage (for highlighting), so
    they carry the headline and the paragraph around them, which the threshold above never saw.
    Only articles of candidate pairs get here, a few per hundred articles."""
    rows = store.rows_for_ids(
        connection, "SELECT p.article_id, substr(a.text, s.start + 1, s.end - s.start) FROM sentences s "
        "JOIN passages p ON p.id = s.passage_id JOIN articles a ON a.id = p.article_id "
        "WHERE p.ordinal = 0 AND p.article_id IN ({marks}) ORDER BY p.article_id, s.start", sorted(article_ids))
    texts: dict[str, list[str]] = defaultdict(list)
    for article_id, text in rows:
        if len(texts[article_id]) < LEAD_SENTENCES:
            texts[article_id].append(text)
    wanted = {text_hash(t): t for group in texts.values() for t in group}
    cached = {h: store.blob_to_vectors([blob], MODEL_DIMENSION)[0] for h, blob in store.rows_for_ids(
        connection, "SELECT text_hash, vector FROM embeddings WHERE model = ? AND text_hash IN ({marks})",
        list(wanted), MODEL_NAME)}
    missing = [h for h in wanted if h not in cached]
    if missing:
        fresh = embed([wanted[h] for h in missing])
        cached.update(zip(missing, fresh))
        store.save_vectors(connection, MODEL_NAME, zip(missing, fresh))
    empty = np.zeros((0, MODEL_DIMENSION), np.float32)
    return {a: np.vstack([cached[text_hash(t)] for t in texts[a]]) if texts.get(a) else empty
            for a in article_ids}


def _passage_counts(connection: sqlite3.Connection, article_ids: set[str]) -> dict[str, int]:
    return dict(store.rows_for_ids(
        connection, "SELECT article_id, count(*) FROM passages WHERE article_id IN ({marks}) GROUP BY article_id",
        list(article_ids)))


def _relate(relations: dict[tuple[str, str], str], a: str, b: str, kind: str) -> None:
    """Record the relation under (smaller id, larger id), keeping the strongest kind seen."""
    key = (a, b) if a < b else (b, a)
    if stronger(kind, relations.get(key)):
        relations[key] = kind


def group(relations: dict[tuple[str, str], str], order: list[str]) -> list[tuple[str, dict[str, str]]]:
    """Leader grouping over related pairs, articles taken in `order` (earliest first).

    Returns [(group kind, {article id: its strongest relation inside the group})]."""
    neighbours: dict[str, dict[str, str]] = defaultdict(dict)
    for (a, b), kind in relations.items():
        neighbours[a][b] = kind
        neighbours[b][a] = kind
    group_of: dict[str, int] = {}
    leaders: list[str] = []
    for article in order:
        if article not in neighbours:
            continue
        best: tuple[int, int] | None = None  # (kind rank, group number)
        for other, kind in neighbours[article].items():
            number = group_of.get(other)
            if number is None or (kind == "rewrite" and other != leaders[number]):
                continue
            candidate = (KINDS.index(kind), number)
            if best is None or candidate < best:
                best = candidate
        if best is None:
            group_of[article] = len(leaders)
            leaders.append(article)
        else:
            group_of[article] = best[1]
    members: dict[int, dict[str, str]] = defaultdict(dict)
    for (a, b), kind in relations.items():
        number = group_of[a]
        if group_of[b] != number:
            continue
        for article in (a, b):
            if stronger(kind, members[number].get(article)):
                members[number][article] = kind
    groups = []
    for number in sorted(members):
        kinds = members[number].values()
        groups.append((max(kinds, key=KINDS.index), members[number]))
    return groups


def _store_groups(connection: sqlite3.Connection) -> int:
    relations = {(a, b): kind for a, b, kind in connection.execute("SELECT a, b, kind FROM relations")}
    order = [r[0] for r in connection.execute(
        "SELECT id FROM articles WHERE id IN (SELECT a FROM relations UNION SELECT b FROM relations) "
        "ORDER BY coalesce(date, '9999'), path, id")]
    connection.execute("DELETE FROM story_members")
    connection.execute("DELETE FROM stories")
    groups = group(relations, order)
    for number, (kind, members) in enumerate(groups, start=1):
        connection.execute("INSERT INTO stories(id, kind) VALUES (?, ?)", (number, kind))
        connection.executemany("INSERT INTO story_members(story_id, article_id, kind) VALUES (?, ?, ?)",
                               ((number, article, how) for article, how in members.items()))
    return len(groups)


def relation(connection: sqlite3.Connection, a: str, b: str) -> str | None:
    """How two articles relate directly (exact, near, rewrite), or None. Related articles can still
    sit in different stories: grouping does not chain rewrites (see `group`)."""
    key = (a, b) if a < b else (b, a)
    row = connection.execute("SELECT kind FROM relations WHERE a = ? AND b = ?", key).fetchone()
    return row[0] if row else None


def relation_in_story(connection: sqlite3.Connection, a: str, b: str) -> str | None:
    """How two articles of the same story relate: their direct relation, else (joined through other
    members) the weaker of their kinds in the group; None when they are not one story."""
    row = connection.execute(
        "SELECT x.kind, y.kind FROM story_members x JOIN story_members y ON y.story_id = x.story_id "
        "WHERE x.article_id = ? AND y.article_id = ?", (a, b)).fetchone()
    if row is None:
        return None
    return relation(connection, a, b) or max(row, key=KINDS.index)


def read_stories(connection: sqlite3.Connection) -> list[Story]:
    """Every stored group with its members, earliest dated first."""
    rows = connection.execute(
        "SELECT s.id, s.kind, m.kind, a.id, a.path, a.title, a.outlet, a.date, a.url "
        "FROM stories s JOIN story_members m ON m.story_id = s.id JOIN articles a ON a.id = m.article_id "
        "ORDER BY s.id, coalesce(a.date, '9999'), a.path").fetchall()
    stories: dict[int, Story] = {}
    for story_id, kind, how, *meta in rows:
        story = stories.setdefault(story_id, Story(story_id, kind, []))
        story.members.append({**dict(zip(("id", "path", "title", "outlet", "date", "url"), meta)), "kind": how})
    return list(stories.values())
