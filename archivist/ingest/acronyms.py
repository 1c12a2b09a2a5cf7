"""Acronyms an article defines, spelled out again wherever a passage uses them bare.

News copy defines a name once ("the National Resistance Front (NRF)") and then writes "the NRF"
for the rest of the story. A passage or sentence cut from later in the article then carries only
the letters, which the embedding model cannot connect to the name: "The NRF is led by Ahmad
Massoud" scored 0.29 against "Who leads the National Resistance Front?", and 0.55 with the name
added after the letters. So the text the model sees, and the keyword index, get the article's own
definition after the first bare use in each passage; the text shown is unchanged.

A definition is a parenthesised short form (a letter, then up to 9 letters, digits or & . -; at
least two capitals) after words whose letters spell it in order, the first letter starting the
first word: the matching rule of Schwartz and Hearst (2003), written here from its description.
News copy adds its own traps, so a long form must also be two words or more, end with a word
holding the short form's last letter, not start with a function word ("according to police
(AP)"), and not hold the short form itself; and agency credits such as "(AP)" define nothing.
"""

from __future__ import annotations

import re

_DEFINITION = re.compile(r"\(([^\W\d_][\w&.-]{1,9})\)")
_WORD = re.compile(r"[^\s()\[\]\"“”]+")
# A run of the characters an acronym may hold: "NRF" in "the NRF's", not in "NRF-led" or "NRFs".
_BARE_USE = re.compile(r"[\w&.-]+")
# Parenthesised credits of agencies and broadcasters name who reported a sentence; the words
# before them spell nothing ("He told Al Jazeera in a phone interview (AP)").
_CREDITS = frozenset("AP AFP UPI CNN BBC PTI ANI IANS DPA EFE ANSA AAP NPR ABC CBS NBC".split())
_FUNCTION_WORDS = frozenset("""a an the of to in on at by for from with without over under about after
before according as and or but nor that this these those its his her their our your my we they he
she it is was were be been who whom which while than then""".split())


def addition(long_form: str) -> str:
    """What follows a bare acronym in the text the model sees."""
    return f" ({long_form})"


def defined_acronyms(text: str) -> dict[str, str]:
    """{short form: long form} for every acronym `text` defines; the first definition wins."""
    found: dict[str, str] = {}
    for match in _DEFINITION.finditer(text):
        short = match.group(1).rstrip(".")
        if short in found or short in _CREDITS or sum(c.isupper() for c in short) < 2:
            continue
        letters = [c.lower() for c in short if c.isalnum()]
        before = text[max(0, match.start() - 300):match.start()]
        # The name ends at the parenthesis and starts after any earlier one: "(AP) said (NRF)" is no definition.
        before = before[max(before.rfind("("), before.rfind(")")) + 1:]
        words = _WORD.findall(before)
        words = words[-min(len(letters) + 5, 2 * len(letters)):]
        long_form = _long_form(letters, words)
        if long_form and _plausible(short, letters, long_form):
            found[short] = long_form
    return found


def _plausible(short: str, letters: list[str], long_form: str) -> bool:
    words = long_form.split()
    return ((len(words) > 1 or "-" in long_form)
            and letters[-1] in words[-1].lower()
            and words[0].lower() not in _FUNCTION_WORDS
            and re.search(rf"(?<!\w){re.escape(short)}(?!\w)", long_form) is None)


def _long_form(letters: list[str], words: list[str]) -> str | None:
    """The shortest run of trailing `words` whose letters contain `letters` in order, the first
    letter starting the run's first word; None when there is none."""
    phrase = " ".join(words)
    position = len(phrase) - 1
    for index in range(len(letters) - 1, -1, -1):
        letter = letters[index]
        while position >= 0:
            here = phrase[position].lower()
            at_word_start = position == 0 or not phrase[position - 1].isalnum()
            if here == letter and (index > 0 or at_word_start):
                break
            position -= 1
        if position < 0:
            return None
        position -= 1
    start = phrase.rfind(" ", 0, position + 2) + 1
    return phrase[start:].strip(",;:")


def spell_out(text: str, acronyms: dict[str, str], costs: dict[str, int] | None = None,
              room: int = 0) -> str:
    """`text` with " (long form)" after the first bare use of each acronym it leaves undefined.

    With `costs` (tokens each addition takes), additions are made in reading order, each one that
    still fits in `room` (the text must still fit the model). One pass over the text whatever the
    number of acronyms: an article defining a thousand must not take minutes."""
    return spell_out_with_insertions(text, acronyms, costs, room)[0]


def spell_out_with_insertions(text: str, acronyms: dict[str, str], costs: dict[str, int] | None = None,
                              room: int = 0) -> tuple[str, list[tuple[int, int]]]:
    """`spell_out`, plus (position in `text`, characters inserted there) for each addition, in
    order: what maps a span of `text` to its place in the result."""
    if not acronyms:
        return text, []
    insertions: list[tuple[int, str]] = []
    seen: set[str] = set()
    lowered: str | None = None
    for word in _BARE_USE.finditer(text):
        short = word.group().rstrip(".")
        if short in seen or short not in acronyms:
            continue
        seen.add(short)
        lowered = text.lower() if lowered is None else lowered
        if acronyms[short].lower() not in lowered:
            # "U.S." keeps its last dot before the addition; "the NRF." keeps the full stop after it.
            dotted = "." in short and word.group()[len(short):].startswith(".")
            insertions.append((word.start() + len(short) + dotted, short))
    if costs is not None:
        fitting, spent = [], 0
        for position, short in insertions:
            if spent + costs[short] <= room:
                fitting.append((position, short))
                spent += costs[short]
        insertions = fitting
    for position, short in reversed(insertions):
        text = text[:position] + addition(acronyms[short]) + text[position:]
    return text, [(position, len(addition(acronyms[short]))) for position, short in insertions]
