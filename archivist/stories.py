"""Stories: groups of articles that are the same story told again (issue 7, first part).

Three relations between two articles, strongest first:
- exact copy: the same text once case, spacing and punctuation are normalised;
- near copy: word 5-shingle sets with estimated Jaccard >= NEAR_THRESHOLD (MinHash LSH);
- rewrite: most passages of the shorter article have a close semantic counterpart (the
  `copies` pairs found at reindex) in the other.
Related articles are joined into groups (union-find); a group's kind is its weakest link, so a
group called "exact" holds only exact copies.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass

KINDS = ("exact", "near", "rewrite")  # strongest first
NEAR_THRESHOLD = 0.8
SHINGLE_WORDS = 5
MINHASH_PERMUTATIONS = 128
# Share of the shorter article's passages that need a counterpart for a rewrite.
REWRITE_SHARE = 0.5

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Story:
    id: int
    kind: str
    members: list[dict]  # article metadata plus "kind": how it joined (exact, near, rewrite)

    def to_json(self) -> dict:
        return {"id": self.id, "kind": self.kind, "members": self.members}


def normalised_words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def exact_key(text: str) -> str:
    return hashlib.sha256(" ".join(normalised_words(text)).encode("utf-8")).hexdigest()


def find_relations(connection: sqlite3.Connection) -> dict[tuple[str, str], str]:
    """(article a, article b) with a < b -> the strongest relation kind between them."""
    articles = connection.execute("SELECT id, text, body_start FROM articles").fetchall()
    bodies = {row[0]: row[1][row[2]:] for row in articles}
    relations: dict[tuple[str, str], str] = {}

    by_key: dict[str, list[str]] = defaultdict(list)
    for article_id, body in bodies.items():
        by_key[exact_key(body)].append(article_id)
    for members in by_key.values():
        _relate_all(relations, sorted(members), "exact")

    for a, b in _near_pairs(bodies):
        _relate(relations, a, b, "near")
    for a, b in _rewrite_pairs(connection):
        _relate(relations, a, b, "rewrite")
    return relations


def _relate(relations: dict[tuple[str, str], str], a: str, b: str, kind: str) -> None:
    """Record the relation, keeping the strongest kind seen for the pair."""
    key = (a, b) if a < b else (b, a)
    if key not in relations or KINDS.index(kind) < KINDS.index(relations[key]):
        relations[key] = kind


def _relate_all(relations: dict[tuple[str, str], str], members: list[str], kind: str) -> None:
    for other in members[1:]:
        _relate(relations, members[0], other, kind)


def _near_pairs(bodies: dict[str, str]) -> set[tuple[str, str]]:
    """Candidate pairs from MinHash LSH, confirmed by the estimated Jaccard."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=NEAR_THRESHOLD, num_perm=MINHASH_PERMUTATIONS)
    signatures = {}
    for article_id, body in bodies.items():
        words = normalised_words(body)
        shingles = {" ".join(words[i:i + SHINGLE_WORDS]) for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}
        signature = MinHash(num_perm=MINHASH_PERMUTATIONS)
        signature.update_batch([s.encode("utf-8") for s in shingles])
        signatures[article_id] = signature
        lsh.insert(article_id, signature)
    pairs = set()
    for article_id, signature in signatures.items():
        for other in lsh.query(signature):
            if other != article_id and signature.jaccard(signatures[other]) >= NEAR_THRESHOLD:
                pairs.add(tuple(sorted((article_id, other))))
    return pairs


def _rewrite_pairs(connection: sqlite3.Connection) -> set[tuple[str, str]]:
    """Article pairs where most passages of the shorter one have a semantic copy in the other."""
    passages_of = dict(connection.execute("SELECT article_id, count(*) FROM passages GROUP BY article_id"))
    matched: dict[tuple[str, str], set[int]] = defaultdict(set)
    rows = connection.execute(
        "SELECT p.article_id, o.article_id, p.id FROM copies c JOIN passages p ON p.id = c.passage_id "
        "JOIN passages o ON o.id = c.other_id")
    for own, other, passage_id in rows:
        matched[(own, other)].add(passage_id)
    pairs = set()
    for (own, other), passages in matched.items():
        shorter = own if passages_of[own] <= passages_of[other] else other
        covered = len(passages) if shorter == own else len(matched.get((other, own), ()))
        if covered >= REWRITE_SHARE * passages_of[shorter]:
            pairs.add(tuple(sorted((own, other))))
    return pairs


def group(relations: dict[tuple[str, str], str]) -> list[tuple[str, dict[str, str]]]:
    """Union-find over related pairs: [(group kind, {article id: how it joined})]."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in relations:
        parent[find(a)] = find(b)
    members: dict[str, dict[str, str]] = defaultdict(dict)
    kinds: dict[str, str] = {}
    for (a, b), kind in relations.items():
        root = find(a)
        for article in (a, b):
            current = members[root].get(article)
            if current is None or KINDS.index(kind) < KINDS.index(current):
                members[root][article] = kind
        if root not in kinds or KINDS.index(kind) > KINDS.index(kinds[root]):
            kinds[root] = kind
    return [(kinds[root], members[root]) for root in members]


def store_stories(connection: sqlite3.Connection) -> int:
    """Recompute the story groups from the index and store them; returns how many there are."""
    connection.execute("DELETE FROM story_members")
    connection.execute("DELETE FROM stories")
    groups = group(find_relations(connection))
    for number, (kind, members) in enumerate(groups, start=1):
        connection.execute("INSERT INTO stories(id, kind) VALUES (?, ?)", (number, kind))
        connection.executemany("INSERT INTO story_members(story_id, article_id, kind) VALUES (?, ?, ?)",
                               ((number, article, how) for article, how in members.items()))
    return len(groups)


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
