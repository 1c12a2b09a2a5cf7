"""Acronyms an article defines are spelled out for the model and the keyword index, never shown."""

from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import write

from archivist.ingest.acronyms import defined_acronyms, spell_out
from archivist.ingest.chunking import chunk_article
from archivist.model.embedding import bundled_model_path
from archivist.build.indexer import reindex
from archivist.records import Article
from archivist.query.search import Searcher
from archivist.model.tokens import token_counter

COUNT = token_counter(bundled_model_path())
# Forty sentences that put a later passage far from the article's definitions.
FILLER = " ".join(f"Sentence {i} describes the roads and the weather in district {i}." for i in range(40))

DEFINING = ("Fighters of the National Resistance Front (NRF) held the valley on Monday. "
            "The Afghan National Security Forces (ANSF) had collapsed weeks earlier, the group said (AP). "
            "A spokesman (Ali Nazary) spoke to Newsweek (Reuters).")


def article(text: str, title: str = "Valley report") -> Article:
    return Article(id="a", path="a.txt", title=title, outlet=None, date=None, url=None, author=None,
                   text=text, sha256="h", body_start=0)


def test_definitions_are_found_and_parentheses_that_define_nothing_are_not():
    assert defined_acronyms(DEFINING) == {"NRF": "National Resistance Front",
                                          "ANSF": "Afghan National Security Forces"}
    assert defined_acronyms("Levels of interleukin-6 (IL-6) and messenger RNA (mRNA) rose.") == {
        "IL-6": "interleukin-6", "mRNA": "messenger RNA"}
    # the commonest acronyms of news, whose letters also occur inside their names
    assert defined_acronyms("Officials of the United Nations (UN) and the European Union (EU) met.") == {
        "UN": "United Nations", "EU": "European Union"}
    assert defined_acronyms("The United States (U.S.) said so.") == {"U.S": "United States"}
    # letters that the words before do not spell in order, or a one-word "long form"
    assert defined_acronyms("He met the envoy (UN) and the Pentagon (DOD) on Friday.") == {}
    assert defined_acronyms("Officials at the Pentagon (PG) said so.") == {}
    # agency credits and names that would start with a function word or end before the last letter
    assert defined_acronyms("He told Al Jazeera in a phone interview (AP) that it was true.") == {}
    assert defined_acronyms("The report was false, according to police (ACP).") == {}
    assert defined_acronyms("It said Prime Minister Boris Johnson (PM) agreed.") == {}
    # a name never reaches back across another parenthesis
    assert defined_acronyms("The Global Fund (in full) Peace Forces (GFPF) met.") == {}


def test_only_the_first_bare_use_is_spelled_out_and_never_where_the_name_is_already():
    acronyms = {"NRF": "National Resistance Front", "ANSF": "Afghan National Security Forces"}
    assert spell_out("The NRF said the NRF would fight.", acronyms) == \
        "The NRF (National Resistance Front) said the NRF would fight."
    assert spell_out("The National Resistance Front (NRF) said so.", acronyms) == \
        "The National Resistance Front (NRF) said so."
    assert spell_out("NRFs and ANSF-led units", acronyms) == "NRFs and ANSF-led units"  # not whole words
    assert spell_out("The U.S. said the U.S. would act.", {"U.S": "United States"}) == \
        "The U.S. (United States) said the U.S. would act."


def test_spelling_out_stops_at_the_room_given_in_reading_order():
    acronyms = {"NRF": "National Resistance Front", "ANSF": "Afghan National Security Forces"}
    costs = {"NRF": 5, "ANSF": 7}
    text = "The ANSF fled and the NRF stayed."
    assert spell_out(text, acronyms, costs, room=12) == \
        "The ANSF (Afghan National Security Forces) fled and the NRF (National Resistance Front) stayed."
    assert spell_out(text, acronyms, costs, room=8) == "The ANSF (Afghan National Security Forces) fled and the NRF stayed."
    assert spell_out(text, acronyms, costs, room=0) == text


def test_a_later_passage_is_embedded_and_keyword_indexed_with_the_name_but_shown_as_written():
    text = f"{DEFINING}\n\n{FILLER}\n\nThe NRF is led by Ahmad Massoud."
    chunks = chunk_article(article(text), COUNT)
    last = chunks[-1]
    assert "National Resistance Front (NRF)" not in last.text
    assert last.text.endswith("The NRF is led by Ahmad Massoud.")
    assert "The NRF (National Resistance Front) is led by Ahmad Massoud." in last.embed_text
    assert "The NRF (National Resistance Front) is led" in last.keyword_text
    assert "(National Resistance Front)" not in last.clean_text
    start, end = last.sentence_embed_spans[-1]  # where the sentence's vector is pooled from
    assert last.embed_text[start:end] == "The NRF (National Resistance Front) is led by Ahmad Massoud."
    # the sentence offsets still point at the words as written
    start, end = last.sentences[-1]
    assert text[start:end] == "The NRF is led by Ahmad Massoud."


def test_passages_of_an_article_full_of_acronyms_still_fit_the_model():
    definitions = " ".join(f"The {w} Regional Liaison Office number {i} (RLO{i}) opened." for i, w in
                           enumerate(["northern", "southern", "eastern", "western", "central", "coastal"]))
    uses = " ".join(f"Officials of RLO{i % 6} and RLO{(i + 1) % 6} met about matter {i} on the border crossing."
                    for i in range(120))
    for chunk in chunk_article(article(f"{definitions}\n\n{uses}"), COUNT):
        assert COUNT([chunk.embed_text])[0] + 2 <= 256


def test_keyword_search_for_the_name_finds_a_passage_that_uses_only_the_letters(tmp_path, fake_embedder):
    searcher = valley_searcher(tmp_path, fake_embedder)
    # Keyword mode requires every word (issue 15): these are all in the passage once "NRF" is spelled out.
    hits = searcher.search("resistance front led by Massoud", mode="keyword").hits
    assert hits[0].passage.endswith("The NRF is led by Ahmad Massoud.")
    assert "(National Resistance Front)" not in hits[0].passage


def test_every_sentence_is_found_in_the_embedded_text_with_its_additions():
    names = ["western", "eastern", "northern", "southern", "central", "maritime"]
    definitions = " ".join(f"The {n} Army Command ({n[0].upper()}AC) opened." for n in names)
    uses = " ".join(f"The {n[0].upper()}AC and the {names[(i - 1) % 6][0].upper()}AC met on day {i}."
                    for i, n in enumerate(names * 8))
    # the last: an addition at the very end of a sentence (a line with no full stop)
    text = f"{definitions}\n\n{uses}\n\n{FILLER}\n\nStatement by the WAC\n\nIt said the valley was calm."
    chunks = chunk_article(article(text), COUNT)
    added = 0
    for chunk in chunks:
        assert len(chunk.sentence_embed_spans) == len(chunk.sentences)
        for (start, end), (embed_start, embed_end) in zip(chunk.sentences, chunk.sentence_embed_spans):
            embedded = chunk.embed_text[embed_start:embed_end]
            without = re.sub(r" \((?:western|eastern|northern|southern|central|maritime) Army Command\)", "", embedded)
            assert without == text[start:end]
            added += embedded != without
    assert added >= 3
    start, end = chunks[-1].sentence_embed_spans[-2]
    assert chunks[-1].embed_text[start:end] == "Statement by the WAC (western Army Command)"


def test_definitions_in_reader_comments_spell_nothing_in_the_story():
    text = ("The VDC reported that fighters held the valley on Monday.\n\nLeave a Reply\n\n"
            "Speaking for the Valley Defence Council (VDC), a reader said it was true.\n")
    chunks = chunk_article(article(text), COUNT)
    assert [c.embed_text[start:end] for c in chunks for start, end in c.sentence_embed_spans] == [
        "The VDC reported that fighters held the valley on Monday."]


def test_a_sentence_vector_is_pooled_over_the_sentence_as_spelled_out(tmp_path, fake_embedder):
    searcher = valley_searcher(tmp_path, fake_embedder)
    blob = searcher.connection.execute(
        "SELECT e.vector FROM sentences s JOIN embeddings e ON e.text_hash = s.embed_hash "
        "ORDER BY s.start DESC LIMIT 1").fetchone()[0]
    stored = np.frombuffer(blob, dtype=np.float32)
    spelled, plain = fake_embedder._vectors(["The NRF (National Resistance Front) is led by Ahmad Massoud.",
                                             "The NRF is led by Ahmad Massoud."])
    assert float(stored @ spelled) == pytest.approx(1.0, abs=1e-5)
    assert float(stored @ plain) < 0.99


def valley_searcher(tmp_path, embedder) -> Searcher:
    """An indexed article defining NRF at the top and using the bare letters passages later."""
    archive = tmp_path / "archive"
    write(archive / "valley.txt", f"Valley report\n\n{DEFINING}\n\n{FILLER}\n\nThe NRF is led by Ahmad Massoud.\n")
    reindex(archive, tmp_path / "index", embedder=embedder)
    return Searcher.open(tmp_path / "index", embedder=embedder)
