"""Exact words win when they are exact: a sentence pasted from an article finds that article
first, and a rare name puts an article that holds it first (hybrid search, Reuters-21578).

Usage: .venv/bin/python benchmarks/exact_words.py --index DIR [--count 200] [--seed 11]

Draws, by a fixed seed, `count` sentences of at least eight words from random articles of the
index (each asked as it is written, line breaks as spaces) and `count` rare names (a capitalised
word, not opening a sentence, never written in lower case, found in at most three articles), and prints hit@1 for both: the
first result's article is the source (or holds the sentence word for word: wire copies repeat
it), and the first result's article holds the name.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archivist.query.search import Searcher  # noqa: E402

_NAME = re.compile(r"(?<=[a-z,] )([A-Z][a-z]{3,})\b")
_LOWER = re.compile(r"\b[a-z]{4,}\b")
MAX_NAME_ARTICLES = 3
MIN_SENTENCE_WORDS = 8


def flat(text: str) -> str:
    return " ".join(text.split())


def draw(searcher: Searcher, count: int, seed: int) -> tuple[list[tuple[str, str]], list[str]]:
    """(sentence, its article id) pairs and rare names, drawn at random from the index."""
    rng = random.Random(seed)
    rows = searcher.connection.execute(
        "SELECT p.article_id, substr(a.text, s.start + 1, s.end - s.start) FROM sentences s "
        "JOIN passages p ON p.id = s.passage_id JOIN articles a ON a.id = p.article_id").fetchall()
    sentences = sorted({(flat(text), article) for article, text in rows if len(text.split()) >= MIN_SENTENCE_WORDS})
    picked = rng.sample(sentences, min(count, len(sentences)))
    texts = [r[0] for r in searcher.connection.execute("SELECT text FROM articles")]
    articles_with = Counter(name for text in texts for name in set(_NAME.findall(text)))
    # A name, not a capitalised everyday word: never written in lower case anywhere in the archive.
    lowercase = {w for text in texts for w in _LOWER.findall(text)}
    rare = sorted(name for name, n in articles_with.items()
                  if n <= MAX_NAME_ARTICLES and name.lower() not in lowercase)
    return picked, rng.sample(rare, min(count, len(rare)))


def exact_rates(searcher: Searcher, count: int = 200, seed: int = 11) -> dict:
    sentences, names = draw(searcher, count, seed)
    sentence_hits = 0
    for sentence, article in sentences:
        top = searcher.search(sentence, k=1).hits
        if top and (top[0].article.id == article or sentence in flat(searcher.article(top[0].article.id)["text"])):
            sentence_hits += 1
    name_hits = 0
    for name in names:
        top = searcher.search(name, k=1).hits
        if top and re.search(rf"\b{re.escape(name)}\b", searcher.article(top[0].article.id)["text"]):
            name_hits += 1
    return {"sentences": len(sentences), "sentence_hit_at_1": sentence_hits / max(1, len(sentences)),
            "names": len(names), "rare_name_hit_at_1": name_hits / max(1, len(names))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    print(json.dumps(exact_rates(Searcher.open(args.index), args.count, args.seed), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
