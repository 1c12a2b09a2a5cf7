"""Turn untrusted article text into safe HTML with highlights, for the Streamlit page.

Why a module of its own: every character of an article is hostile until escaped, and the page
renders with `unsafe_allow_html=True`. Keeping escaping and marking in small pure functions
means the one place that builds markup from article text can be tested exhaustively.

The output is meant for `st.markdown(..., unsafe_allow_html=True)`, which runs a Markdown
parser before the HTML reaches the browser. So besides `html.escape`, characters that Markdown
or Streamlit's extensions would interpret (`*`, `_`, `` ` ``, `$`, `[`, `:` ...) are written as
numeric character references, and newlines become `<br>` so the fragment is one line: a raw
HTML block in CommonMark ends at a blank line, after which text would be parsed as Markdown.
`escape_markdown` is the counterpart for elements that render Markdown without HTML
(`st.error`, `st.write`): there a backslash keeps each punctuation mark literal.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

# Characters that are harmless in HTML but meaningful to Markdown, KaTeX ($) or Streamlit's
# directives (:red[...], :material/...:). None of them occur in html.escape's own output.
_MARKDOWN_SPECIALS = str.maketrans({c: f"&#{ord(c)};" for c in "\\`*_{}[]~|$:"})

# CommonMark lets a backslash escape any ASCII punctuation character.
_MD_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")

# A lone newline after a character that cannot end a sentence (so not . ! ? : ; quotes, closing
# brackets, dashes) and before more text: a hard wrap inside a sentence.
_SOFT_NEWLINE = re.compile(r"(?<=[^\s.!?:;\"'”’»)\]…|–—*])([ \t\r]*)\n(?![\n\r])")

# Suffixes stripped from a query word so "supported" also marks "support", "supports".
_SUFFIXES = ("ingly", "edly", "ing", "ies", "ied", "ed", "es", "ly", "s")
_MIN_STEM = 4

# Layers, outermost first: a term mark nests inside the best sentence, which nests in a passage.
PASSAGE_CLASS = "ar-passage"
BEST_CLASS = "ar-best"
TERM_CLASS = "ar-term"
_ORDER = {PASSAGE_CLASS: 0, BEST_CLASS: 1, TERM_CLASS: 2}
_TAG = {PASSAGE_CLASS: "mark", BEST_CLASS: "mark", TERM_CLASS: "b"}

Span = tuple[int, int]


def escape(text: str, *, newlines: bool = True) -> str:
    """Escape untrusted text for HTML inside Markdown; newlines become `<br>` unless told not to."""
    out = html.escape(text, quote=True).translate(_MARKDOWN_SPECIALS)
    if newlines:
        out = out.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")
    else:
        out = re.sub(r"\s+", " ", out)
    return out


def escape_markdown(text: str) -> str:
    """Make untrusted text literal in Streamlit Markdown that allows no HTML (st.error, st.write).

    Paths, file names, error messages and queries from a shared URL can contain `[x](url)`,
    `*`, `_` or `<tag>`; a backslash before each ASCII punctuation mark keeps them as text.
    """
    return _MD_PUNCTUATION.sub(r"\\\g<0>", text)


def unwrap_lines(text: str) -> str:
    """Turn hard-wrapped line ends into spaces, keeping every offset where it was.

    Plain-text articles come both with one paragraph per line and hard-wrapped at ~72
    columns. A lone newline after a sentence end (or a closing quote) is kept as a line
    break; a lone newline in the middle of a sentence is a wrap and becomes a space. Blank
    lines (paragraph breaks) are always kept. One character becomes one character, so spans
    computed on the original text still point at the same words.
    """
    return _SOFT_NEWLINE.sub(lambda m: m.group(1).replace("\r", " ") + " ", text)


def stem(word: str) -> str:
    """A crude stem: drop one common English suffix while at least `_MIN_STEM` letters remain."""
    w = word.lower()
    for suffix in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= _MIN_STEM:
            return w[: -len(suffix)]
    return w


def term_spans(text: str, terms: Iterable[str]) -> list[Span]:
    """Where the query's words occur in `text`: whole words, case-insensitive, same stem.

    A term matches a word that starts at a word boundary with the term's stem (so "supported"
    finds "support", "supporters"); stems shorter than `_MIN_STEM` must match the whole word,
    so "us" does not light up every "use".
    """
    alternatives = []
    for term in {t.strip().lower() for t in terms if t and t.strip()}:
        s = stem(term)
        if len(s) >= _MIN_STEM:
            alternatives.append(re.escape(s) + r"\w*")
        else:
            alternatives.append(re.escape(term))
    if not alternatives:
        return []
    # Longest first so the regex prefers the fullest alternative at a position.
    alternatives.sort(key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)
    return [m.span() for m in pattern.finditer(text)]


def mark_html(
    text: str,
    *,
    passage: Span | None = None,
    best: Span | None = None,
    terms: Sequence[str] = (),
    newlines: bool = True,
    anchor_id: str | None = None,
) -> str:
    """Escape `text` and wrap the given spans (offsets into `text`) in highlight markup.

    `passage` and `best` become `<mark class=...>`, each occurrence of a query term inside the
    text becomes `<b class="ar-term">`. Spans may overlap or extend past the text; they are
    clipped, and tags are closed and reopened at boundaries so the HTML stays well nested.
    `anchor_id` puts an `id` on the first passage mark so a link can jump to it.
    """
    layers: list[tuple[int, int, str]] = []
    for span, css in ((passage, PASSAGE_CLASS), (best, BEST_CLASS)):
        if span is not None:
            layers.append((span[0], span[1], css))
    layers.extend((a, b, TERM_CLASS) for a, b in term_spans(text, terms))
    shown = unwrap_lines(text) if newlines else text
    return _render(shown, layers, newlines=newlines, anchor_id=anchor_id)


def passage_html(
    passage: str,
    passage_start: int,
    *,
    best: Span | None = None,
    terms: Sequence[str] = (),
) -> str:
    """Markup for a result card: the passage alone, with `best` given in article offsets."""
    relative = None
    if best is not None:
        relative = (best[0] - passage_start, best[1] - passage_start)
    return mark_html(passage, best=relative, terms=terms)


def _render(
    text: str, layers: list[tuple[int, int, str]], *, newlines: bool, anchor_id: str | None
) -> str:
    """Cut `text` at every layer boundary and emit each piece inside its active layers' tags."""
    n = len(text)
    # Sweep over the cut points, counting how many spans of each class cover the piece ahead.
    changes: dict[int, dict[str, int]] = {0: {}, n: {}}
    for a, b, css in layers:
        a, b = max(0, a), min(n, b)
        if b > a:
            changes.setdefault(a, {})[css] = changes.get(a, {}).get(css, 0) + 1
            changes.setdefault(b, {})[css] = changes.get(b, {}).get(css, 0) - 1
    cuts = sorted(changes)
    depth = dict.fromkeys(_ORDER, 0)
    out: list[str] = []
    open_stack: list[str] = []
    anchored = anchor_id is None
    for left, right in zip(cuts, cuts[1:]):
        for css, delta in changes[left].items():
            depth[css] += delta
        active = [css for css in sorted(_ORDER, key=_ORDER.__getitem__) if depth[css] > 0]
        # Close down to the longest common prefix, then open what is new, outermost first.
        keep = 0
        while keep < len(open_stack) and keep < len(active) and open_stack[keep] == active[keep]:
            keep += 1
        while len(open_stack) > keep:
            out.append(f"</{_TAG[open_stack.pop()]}>")
        for css in active[keep:]:
            attrs = f' class="{css}"'
            if not anchored and css == PASSAGE_CLASS:
                attrs = f' id="{html.escape(anchor_id or "", quote=True)}"' + attrs
                anchored = True
            out.append(f"<{_TAG[css]}{attrs}>")
            open_stack.append(css)
        out.append(escape(text[left:right], newlines=newlines))
    while open_stack:
        out.append(f"</{_TAG[open_stack.pop()]}>")
    return "".join(out)
