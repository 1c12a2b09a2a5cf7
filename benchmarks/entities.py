"""Named-entity extraction (archivist/ingest/entities.py): accuracy on hand-labelled news sentences, and speed.

Usage: .venv/bin/python benchmarks/entities.py [--data ../shared/data] [--articles 2000] [--repeat 1]
                                               [--out benchmarks/results/entities-<date>.txt]

Accuracy: the sentences in tests/data/entity_sentences.tsv (written and labelled for this
project; the file's first line gives the conventions). A prediction counts when its type and its
exact character span equal a labelled one. spaCy's labels map as PERSON -> person, ORG -> org,
GPE/LOC/FAC -> place; NORP (nationalities, religious and political groups) and all other labels
are not scored. Three rows per type:
- "model, full pipeline": every component the package ships, raw spaCy spans (what the
  package's stated accuracy describes);
- "model, ner only": the recogniser alone, as the project loads it, raw spans;
- "Mention (stored)": `extract_entities` output, i.e. after trimming a lower-case leading "the",
  possessives and punctuation.
Beside them the precision/recall/F the package's meta.json states, measured by its authors on
OntoNotes 5 (PERSON, ORG, GPE, LOC, FAC are stated separately; the stated overall ents_p/r/f
covers all 18 OntoNotes types, so it is a reference, not the same measure). A sample of about 48
sentences gives wide error bars (one name is 0.5-1 point); it is a check that the installed weights
behave like the package says, not a new measurement of the model.

Speed: the first --articles records of Reuters-21578 (JSON Lines under --data; skipped with a
line when absent) read as the reindex reads them (the body is the article's text; records
without one are skipped), through `extract_entities` in one call, model load timed apart.
Reported: articles/s, characters/s, seconds per 1000 articles, and a rough share of a reindex,
with passages estimated as one per 150 words (the chunker makes 100-200-word passages) and the
embedding at 80 and 160 passages/s.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import io
import json
import math
import os
import platform
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archivist.ingest import entities  # noqa: E402

SAMPLE = ROOT / "tests" / "data" / "entity_sentences.tsv"
STATED_LABELS = {"person": ["PERSON"], "org": ["ORG"], "place": ["GPE", "LOC", "FAC"]}
Span = tuple[int, int, int, str]  # (sentence number, start, end, type)


def read_sample(path: Path = SAMPLE) -> list[tuple[str, set[Span]]]:
    """(sentence, its labelled spans) per row; each listed name is found as a whole word, longest first."""
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        lines = (line for line in handle if not line.startswith("#"))
        for number, row in enumerate(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)):
            text, columns = row[1], row[2:5]
            wanted = [(name.strip(), kind) for kind, column in zip(entities.TYPES, columns)
                      for name in column.split("|") if name.strip()]
            taken: list[tuple[int, int]] = []
            spans: set[Span] = set()
            for name, kind in sorted(wanted, key=lambda item: -len(item[0])):
                for match in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text):
                    if not any(match.start() < end and start < match.end() for start, end in taken):
                        taken.append((match.start(), match.end()))
                        spans.add((number, match.start(), match.end(), kind))
                        break
                else:
                    raise SystemExit(f"{path}: row {row[0]}: {name!r} is not in the sentence (or listed too often)")
            rows.append((text, spans))
    return rows


def raw_spans(nlp, texts: list[str]) -> set[Span]:
    """spaCy's own spans, label-mapped, untouched."""
    found = set()
    for number, doc in enumerate(nlp.pipe(texts)):
        for ent in doc.ents:
            if ent.label_ in entities.LABELS:
                found.add((number, ent.start_char, ent.end_char, entities.LABELS[ent.label_]))
    return found


def scores(gold: set[Span], predicted: set[Span], kind: str | None) -> tuple[float, float, float, int, int, int]:
    """(precision, recall, F1, true positives, predicted, labelled) for one type, or all when kind is None."""
    gold = {span for span in gold if kind in (None, span[3])}
    predicted = {span for span in predicted if kind in (None, span[3])}
    hits = len(gold & predicted)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, hits, len(predicted), len(gold)


def stated_accuracy() -> dict:
    """The performance block of the installed package's meta.json."""
    import importlib

    module = importlib.import_module(entities.MODEL_PACKAGE)
    meta_path = next(Path(module.__file__).parent.glob("*/meta.json"))
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    return {"version": meta.get("version"), "spacy_version": meta.get("spacy_version"),
            "license": meta.get("license"), **meta.get("performance", {})}


def accuracy_section(out) -> None:
    import spacy

    rows = read_sample()
    texts = [text for text, _ in rows]
    gold = set().union(*(spans for _, spans in rows))
    full = spacy.load(entities.MODEL_PACKAGE)
    ner_only = entities._pipeline()
    systems = {
        "model, full pipeline": raw_spans(full, texts),
        "model, ner only": raw_spans(ner_only, texts),
        "Mention (stored)": {(number, m.start, m.end, m.type)
                             for number, mentions in enumerate(entities.extract_entities(texts))
                             for m in mentions},
    }
    stated = stated_accuracy()
    print(f"Sample: {len(rows)} sentences, {len(gold)} labelled names "
          f"({', '.join(f'{k} {v}' for k, v in sorted(Counter(s[3] for s in gold).items()))}); exact span and type.",
          file=out)
    print(f"Full pipeline components: {', '.join(full.pipe_names)}; loaded by the project: "
          f"{', '.join(ner_only.pipe_names)}", file=out)
    print(file=out)
    print(f"{'type':<7} {'system':<22} {'P':>6} {'R':>6} {'F1':>6}  {'hits/pred/gold':>15}", file=out)
    for kind in (*entities.TYPES, None):
        for name, predicted in systems.items():
            p, r, f, hits, n_pred, n_gold = scores(gold, predicted, kind)
            print(f"{kind or 'all':<7} {name:<22} {p:6.3f} {r:6.3f} {f:6.3f}  {hits:>4}/{n_pred:>4}/{n_gold:>4}", file=out)
        per_type = stated.get("ents_per_type", {})
        labels = STATED_LABELS.get(kind, []) if kind else []
        for label in labels:
            s = per_type.get(label, {})
            print(f"{'':<7} {'stated ' + label:<22} {s.get('p', 0):6.3f} {s.get('r', 0):6.3f} {s.get('f', 0):6.3f}"
                  f"  (OntoNotes 5)", file=out)
        if kind is None:
            print(f"{'':<7} {'stated, all 18 types':<22} {stated.get('ents_p', 0):6.3f} {stated.get('ents_r', 0):6.3f} "
                  f"{stated.get('ents_f', 0):6.3f}  (OntoNotes 5)", file=out)
    print("Raw spans lose mostly on boundaries, not on names: OntoNotes-trained spans often take in a leading "
          "\"the\" and a possessive 's (\"the Federal Reserve\", \"Volkswagen AG's\"), which the sample's labels "
          "and the stored mentions leave out.", file=out)
    print(file=out)
    print("Misses and false alarms of the stored mentions (- labelled, not found; + found, not labelled):", file=out)
    stored = systems["Mention (stored)"]
    for number, (text, spans) in enumerate(rows):
        predicted = {s for s in stored if s[0] == number}
        for sign, group in (("-", spans - predicted), ("+", predicted - spans)):
            for _, start, end, kind in sorted(group, key=lambda s: s[1]):
                print(f"  {sign} row {number + 1:>2} {kind:<6} {text[start:end]!r}", file=out)


def reuters_articles(data: Path, limit: int) -> list[str] | None:
    """Texts of the first `limit` Reuters-21578 records as the reindex reads them, or None without the data."""
    path = data / "reuters21578" / "reuters21578.jsonl"
    if not path.exists():
        return None
    texts = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number >= limit:
                break
            body = json.loads(line).get("body")
            if isinstance(body, str) and body.strip():
                texts.append(body.replace("\r\n", "\n").replace("\r", "\n"))
    return texts


def speed_section(out, data: Path, limit: int, repeat: int) -> None:
    texts = reuters_articles(data, limit)
    if texts is None:
        print(f"Speed: skipped, no Reuters-21578 under {data} (reuters21578/reuters21578.jsonl).", file=out)
        return
    entities._nlp = None
    started = time.perf_counter()
    entities._pipeline()
    load_s = time.perf_counter() - started
    runs, mentions = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        found = entities.extract_entities(texts)
        runs.append(time.perf_counter() - started)
        mentions = sum(len(m) for m in found)
    seconds = statistics.median(runs)
    chars = sum(len(t) for t in texts)
    words = sum(len(t.split()) for t in texts)
    passages = sum(max(1, math.ceil(len(t.split()) / 150)) for t in texts)
    per_1000 = seconds / len(texts) * 1000
    print(f"Speed: first {limit} Reuters-21578 records, {len(texts)} with a body, {chars:,} characters, "
          f"{words:,} words; {mentions:,} mentions found.", file=out)
    print(f"  model load (import spaCy, weights, ner only): {load_s:.2f} s, once per process", file=out)
    print(f"  extraction: {seconds:.2f} s (median of {repeat}: {', '.join(f'{r:.2f}' for r in runs)})", file=out)
    print(f"  {len(texts) / seconds:.1f} articles/s, {chars / seconds:,.0f} characters/s, "
          f"{per_1000:.1f} s per 1000 articles", file=out)
    print(f"  rough reindex share, ~{passages / len(texts):.2f} passages per article (one per 150 words):", file=out)
    for rate in (80, 160):
        embed_per_1000 = passages / len(texts) * 1000 / rate
        print(f"    embedding at {rate} passages/s: {embed_per_1000:.1f} s per 1000 articles -> entities "
              f"{per_1000 / (per_1000 + embed_per_1000):.0%} of embedding + entities", file=out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", type=Path,
                        default=ROOT / "benchmarks" / "results" / f"entities-{dt.date.today().isoformat()}.txt")
    args = parser.parse_args()
    if not entities.available():
        raise SystemExit(f"The entity model is not installed: run {entities.INSTALL_COMMAND}")
    import spacy

    buffer = io.StringIO()
    stated = stated_accuracy()
    print(f"Entity extraction benchmark, {dt.datetime.now().isoformat(timespec='seconds')}", file=buffer)
    print(f"{entities.model_id()} (meta: version {stated['version']}, spaCy {stated['spacy_version']}, "
          f"licence {stated['license']}); spaCy {spacy.__version__}; Python {platform.python_version()}; "
          f"{os.cpu_count()} CPUs", file=buffer)
    print("Labels: PERSON->person, ORG->org, GPE/LOC/FAC->place; NORP and other labels not counted.", file=buffer)
    print(file=buffer)
    accuracy_section(buffer)
    print(file=buffer)
    speed_section(buffer, args.data, args.articles, args.repeat)
    text = buffer.getvalue()
    print(text, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"written to {args.out}")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
