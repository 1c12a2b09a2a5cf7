"""Sentence splitting and passages: whole sentences, sizes, overlap, clutter, token limit."""

from __future__ import annotations

from conftest import SEED_ARCHIVE

from archivist.ingest.articles import scan_archive
from archivist.ingest.chunking import ChunkingSettings, chunk_article
from archivist.model.embedding import bundled_model_path
from archivist.records import Article
from archivist.ingest.sentences import sentence_spans
from archivist.model.tokens import token_counter

COUNT = token_counter(bundled_model_path())


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_sentences_respect_abbreviations_and_quotes():
    text = 'Mr. Smith met the U.S. envoy on Aug. 3 in Kabul. "It failed," he said. Why? Nobody knows.\nNew line'
    assert sentences(text) == ['Mr. Smith met the U.S. envoy on Aug. 3 in Kabul.', '"It failed," he said.',
                               'Why?', 'Nobody knows.', 'New line']


def article(text: str, title: str = "Title", body_start: int = 0) -> Article:
    return Article(id="x", path="x.txt", title=title, outlet=None, date=None, url=None, author=None,
                   text=text, sha256="h", body_start=body_start)


def test_seed_passages_point_into_the_text_and_fit_the_model():
    for item in scan_archive(SEED_ARCHIVE).articles:
        chunks = chunk_article(item, COUNT)
        assert chunks
        for chunk in chunks:
            assert item.text[chunk.start:chunk.end] == chunk.text
            assert chunk.start >= item.body_start
            # [CLS] and [SEP] are added by the model on top of these
            assert COUNT([chunk.embed_text])[0] + 2 <= 256
            # the headline gives the text and its captions their story's context; a link is another story's
            assert chunk.embed_text.startswith(item.title + "\n") == (chunk.kind != "link")
            words = len(chunk.text.split())
            assert words <= 210


def test_consecutive_passages_overlap_by_one_sentence():
    body = " ".join(f"Sentence number {i} talks about the valley and its people at some length." for i in range(60))
    chunks = chunk_article(article(body), COUNT)
    assert len(chunks) > 2
    for previous, following in zip(chunks, chunks[1:]):
        last_sentence = sentences(previous.text)[-1]
        assert following.text.startswith(last_sentence)
        assert 90 <= len(previous.text.split()) <= 200


def test_overlap_carries_a_real_sentence_past_an_inline_teaser():
    """A passage that ends on an inline "(RELATED: ...)" teaser still hands its last sentence on:
    the seed case is Waltz being introduced at the end of one passage and quoted in the next."""
    intro = "Congressman Michael Waltz spoke about the allies in a recent interview."
    teaser = "(RELATED: Another Story You May Like To Read Today)"
    quote = "Biden gave all of our bases away, he told Fox News in that interview."
    filler = " ".join(f"Sentence {i} adds one more plain detail to this report." for i in range(18))
    text = f"{filler} {intro} {teaser}\n{quote} " + " ".join(
        f"Later sentence {i} continues the report with more detail." for i in range(18))
    chunks = chunk_article(article(text), COUNT, ChunkingSettings(min_words=50, max_words=200))
    holding_quote = next(c for c in chunks if quote in c.clean_text)
    assert intro in holding_quote.clean_text
    assert "RELATED" not in holding_quote.embed_text


def test_paragraph_break_ends_a_passage_once_it_is_long_enough():
    para = " ".join(f"Words in sentence {i} of the first paragraph go here." for i in range(12))
    text = para + "\n\n" + "Second paragraph starts here. " * 5
    chunks = chunk_article(article(text), COUNT)
    assert chunks[0].end == len(para)


def test_clutter_lines_never_make_or_enter_a_passage_of_the_text():
    items = {a.path[:3]: a for a in scan_archive(SEED_ARCHIVE).articles}
    chunks = [c for a in items.values() for c in chunk_article(a, COUNT)]
    joined = "\n".join(c.text for c in chunks if c.kind == "text")
    for clutter in ("Font Size:", "Credit: screengrab", "Leave a Reply", "Source link", "Your email address",
                    "Anti, Taliban, resistance, fighter", "What are the odds Brandon", "Black Hawk helicopter"):
        assert clutter not in joined, clutter
    # inline "(RELATED: ...)" teasers may sit inside a passage but are never embedded with it
    embedded = "\n".join(c.embed_text for c in chunks if c.kind == "text")
    assert "RELATED:" not in embedded and "Coke And Pepsi" not in embedded
    # page furniture is in no passage at all
    everything = "\n".join(c.text for c in chunks)
    assert not any(f in everything for f in ("Font Size:", "Leave a Reply", "Your email address", "Credit: screengrab"))


def test_captions_keyword_lines_and_links_become_asides_marked_as_what_they_are():
    items = {a.path[:3]: a for a in scan_archive(SEED_ARCHIVE).articles}
    asides = {(a.path[:3], c.kind, c.clean_text) for a in items.values() for c in chunk_article(a, COUNT)
              if c.kind != "text"}
    captions = [text for where, kind, text in asides if kind == "caption"]
    assert len(captions) == 2 and all(where == "001" for where, kind, _ in asides if kind == "caption")
    assert any(t.startswith("Taliban, parade, weapons") and "operable Black Hawk helicopter" in t for t in captions)
    links = sorted(text for where, kind, text in asides if kind == "link")
    assert len(links) == 3 and "Afghan Vice President Says Difference Between Taliban And Al Qaida Is Like ‘Coke And Pepsi’" in links
    assert not any(t.startswith(("RELATED", "(")) or t.endswith(")") for t in links)  # the label is not indexed
    for chunk in chunk_article(items["002"], COUNT):
        assert items["002"].text[chunk.start:chunk.end] == chunk.text  # offsets point at what the page marks


def test_a_link_line_and_a_lone_keyword_line_are_asides_but_a_byline_is_not():
    text = ("First real sentence of the report is here, long enough that nobody takes the page for "
            "hard-wrapped wire copy. Another sentence follows it.\n"
            "RELATED: Mayor Resigns After Budget Vote\n"
            "By John Smith\n"
            "Budget, council, vote, mayor, city\n\n"
            "Last sentence of the report closes it.")
    kinds = {c.kind: c.clean_text for c in chunk_article(article(text), COUNT)}
    assert kinds["link"] == "Mayor Resigns After Budget Vote"
    assert "Budget, council, vote, mayor, city" in kinds["caption"]  # a keyword line takes the next line as its caption
    assert not any("John Smith" in t for t in kinds.values())


def test_a_sentence_longer_than_the_model_window_is_cut_to_fit():
    long_sentence = "word " * 600 + "end."
    chunks = chunk_article(article(long_sentence), COUNT, ChunkingSettings())
    assert len(chunks) >= 3
    assert all(COUNT([c.embed_text])[0] + 2 <= 256 for c in chunks)


def test_hard_wrapped_newswire_paragraphs_are_joined():
    text = ("Showers continued throughout the week in\nthe Bahia cocoa zone, alleviating the drought since early\n"
            "January and improving prospects for the coming temporao,\nalthough normal humidity levels have not "
            "been restored,\nComissaria Smith said in its weekly review.\n    The dry period means the temporao "
            "will be late this year.\n    Arrivals for the week ended February 22 were 155,221 bags\nof 60 kilos.\n")
    chunk = chunk_article(article(text), COUNT)[0]
    assert [chunk.text[s - chunk.start:e - chunk.start].split()[:3] for s, e in chunk.sentences] == [
        ["Showers", "continued", "throughout"], ["The", "dry", "period"], ["Arrivals", "for", "the"]]


def test_a_very_long_headline_is_shortened_where_it_is_embedded():
    title = " ".join(f"headline{i}" for i in range(200))
    body = " ".join(f"Body sentence {i} says something different about item {i}." for i in range(60))
    chunks = chunk_article(article(body, title=title), COUNT)
    assert len(chunks) > 3
    for chunk in chunks:
        assert COUNT([chunk.embed_text])[0] + 2 <= 256
        assert COUNT([chunk.embed_text.split("\n")[0]])[0] <= 48
        assert chunk.clean_text and chunk.clean_text in chunk.embed_text
