"""The page's only source of markup built from article text: escaping and nesting must be exact."""

from __future__ import annotations

import html
import re

from page.highlight import (
    BEST_CLASS,
    PASSAGE_CLASS,
    TERM_CLASS,
    escape,
    escape_markdown,
    mark_html,
    passage_html,
    stem,
    term_spans,
    unwrap_lines,
)

HOSTILE = 'Hi <script>alert(1)</script> and <img src=x onerror=alert(1)> "q" \'s\' & more'


def _text_of(fragment: str) -> str:
    """What a browser would show: tags dropped, entities decoded, <br> as newline."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment.replace("<br>", "\n")))


def _tags(fragment: str) -> list[str]:
    return re.findall(r"</?([a-z]+)", fragment)


def test_escape_neutralises_html_and_round_trips() -> None:
    out = escape(HOSTILE)
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;" in out and "&lt;img src=x onerror=alert(1)&gt;" in out
    assert _text_of(out) == HOSTILE


def test_escape_defuses_markdown_and_streamlit_directives() -> None:
    text = "**bold** _it_ `code` $x$ [link](http://e.com) :red[alert] ~strike~ a|b \\"
    out = escape(text)
    for ch in "*_`$[]:~|\\":
        assert ch not in out, ch
    assert _text_of(out) == text


def test_escape_newlines_become_br_so_the_fragment_is_one_line() -> None:
    out = escape("para one\n\npara two\r\nline")
    assert "\n" not in out and "\r" not in out
    assert out.count("<br>") == 3
    assert escape("a\n\n b", newlines=False) == "a b"


def test_stem_strips_one_suffix_but_keeps_short_words() -> None:
    assert stem("supported") == "support"
    assert stem("Countries") == "countr"
    assert stem("regional") == "regional"
    assert stem("bus") == "bus"
    assert stem("uses") == "uses"


def test_term_spans_whole_words_case_insensitive_with_stems() -> None:
    text = "Support supported SUPPORTERS unsupported; us use US."
    found = [text[a:b] for a, b in term_spans(text, ["supported", "us"])]
    assert found == ["Support", "supported", "SUPPORTERS", "us", "US"]


def test_term_spans_treats_terms_as_literals() -> None:
    assert term_spans("a.b axb (cd)", ["a.b", "(c"]) == [(0, 3)]
    assert term_spans("anything", ["", "  "]) == []


def test_mark_html_wraps_best_sentence_and_terms() -> None:
    text = "First sentence. Russia gave support. Last one."
    best = (16, 36)
    out = mark_html(text, best=best, terms=["russia", "support"])
    assert out == (
        "First sentence. "
        f'<mark class="{BEST_CLASS}"><b class="{TERM_CLASS}">Russia</b> gave '
        f'<b class="{TERM_CLASS}">support</b>.</mark> Last one.'
    )


def test_overlapping_spans_stay_well_nested() -> None:
    text = "alpha beta gamma delta"
    # The term "gamma" straddles the end of the best span; the passage covers both.
    out = mark_html(text, passage=(0, 16), best=(6, 13), terms=["gamma"])
    stack: list[str] = []
    for tag in re.findall(r"<(/?)(mark|b)\b", out):
        closing, name = tag
        if closing:
            assert stack and stack.pop() == name
        else:
            stack.append(name)
    assert not stack
    assert _text_of(out) == text
    assert out.index(f'class="{PASSAGE_CLASS}"') < out.index(f'class="{BEST_CLASS}"')


def test_spans_outside_the_text_are_clipped_or_dropped() -> None:
    assert mark_html("abc", best=(-5, 2)) == f'<mark class="{BEST_CLASS}">ab</mark>c'
    assert mark_html("abc", best=(10, 20)) == "abc"
    assert mark_html("abc", best=(2, 2)) == "abc"
    assert mark_html("", best=(0, 3), terms=["x"]) == ""


def test_hostile_text_inside_marks_is_still_escaped() -> None:
    out = mark_html(HOSTILE, passage=(0, len(HOSTILE)), best=(3, 30), terms=["script", "img"])
    assert set(_tags(out)) <= {"mark", "b", "br"}
    assert "onerror=alert(1)&gt;" in out
    assert _text_of(out) == HOSTILE


def test_anchor_id_goes_on_the_first_passage_mark_only() -> None:
    out = mark_html("one two three", passage=(4, 13), best=(4, 7), anchor_id='p"1')
    assert out.count("id=") == 1
    assert 'id="p&quot;1"' in out


def test_passage_html_converts_article_offsets() -> None:
    article = "Intro. The passage starts here. It ends here."
    start = article.index("The passage")
    passage = article[start:]
    best_abs = (start, start + len("The passage starts here."))
    out = passage_html(passage, start, best=best_abs, terms=[])
    assert out.startswith(f'<mark class="{BEST_CLASS}">The passage starts here.</mark>')


def test_unwrap_lines_joins_hard_wraps_and_keeps_paragraphs() -> None:
    text = "A sentence that was\nwrapped here.\nNext paragraph.\n\nAfter a blank line\r\nwrapped."
    out = unwrap_lines(text)
    assert len(out) == len(text)
    assert out == ("A sentence that was wrapped here.\nNext paragraph.\n\nAfter a blank line  "
                   "wrapped.")
    assert "<br>" not in mark_html("one\r\ntwo")


def test_mark_html_keeps_offsets_when_unwrapping() -> None:
    text = "One line\nwrapped. Best\nsentence here."
    best = (text.index("Best"), len(text))
    out = mark_html(text, best=best)
    assert out == f'One line wrapped. <mark class="{BEST_CLASS}">Best sentence here.</mark>'


def test_escape_markdown_keeps_links_and_emphasis_literal() -> None:
    text = "[click](javascript:alert(1)) *a* my_file.txt <img src=x>"
    out = escape_markdown(text)
    assert re.sub(r"\\(.)", r"\1", out) == text
    assert "\\[click\\]" in out and "\\*a\\*" in out and "\\<img" in out
