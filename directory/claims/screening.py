"""Screening of what practitioners write for claims that advertising rules forbid.

Health advertising rules (the UK's CAP Code and the ASA's rulings on craniosacral therapy, the
US FTC's health claims guidance) forbid claims to cure or treat medical conditions, guarantees,
success rates and offers to replace medical care without robust evidence. Admins keep the list
of phrases (`ClaimPhrase`); this module finds them in a text, whatever the case, plurals and
simple tenses ("cure", "cures", "cured"), punctuation, accents, invisible characters and letters
spelled out ("c-u-r-e-s", "C U R E S"), but only as whole words, so that "secured parking" or
"curious" raise nothing.

No library does this: profanity filters (better-profanity, profanity-check) match single words
from a fixed list or a model, not admin-edited phrases with explanations and highlight spans.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# A word, or a percent sign (so that "100%" and "100 percent" are one phrase).
_TOKEN_RE = re.compile(r"[^\W_]+|%")
# Letters spelled out one by one ("c-u-r-e-s", "c.u.r.e.s", "c u r e s"): at least this many.
MIN_SPELLED_OUT = 3
# A phrase right after one of these words is a denial ("does not replace medical care", "never
# promises a cure"), not a claim: the two words before a match are checked. "n't" is split off
# as "t" by the tokenizer. "no" before a number ("No. 1 cure") is no denial.
NEGATIONS = frozenset({"not", "no", "never", "nor", "cannot", "t", "without", "neither"})
NEGATION_WINDOW = 2
# What may stand between spelled-out letters.
_SPELLING_GAP_RE = re.compile(r"^[\s\-_.·*'’/|]{1,3}$")


@dataclass(frozen=True)
class Token:
    """A word of the text (normalised) and where it stands in the original text."""

    word: str
    start: int
    end: int


@dataclass(frozen=True)
class Flag:
    """A phrase found in one field's text: what it is, why it is refused, and where it stands."""

    field: str
    phrase: str
    explanation: str
    start: int
    end: int
    # The text as written at that place (shown highlighted to the practitioner).
    found: str


def _fold(text: str) -> str:
    """Lower case without accents: "Garantié" -> "garantie"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _visible(text: str) -> tuple[str, list[int]]:
    """The text without invisible format characters (zero-width spaces, ...), and each kept character's index."""
    kept, where = [], []
    for index, ch in enumerate(text):
        if unicodedata.category(ch) != "Cf":
            kept.append(ch)
            where.append(index)
    return "".join(kept), where


def tokens(text: str) -> list[Token]:
    """The words of a text, normalised, with letters spelled out one by one joined into words."""
    visible, where = _visible(text or "")
    raw = [
        Token("percent" if m.group() == "%" else _fold(m.group()), where[m.start()], where[m.end() - 1] + 1)
        for m in _TOKEN_RE.finditer(visible)
    ]
    joined: list[Token] = []
    i = 0
    while i < len(raw):
        j = i
        while (
            j + 1 < len(raw)
            and len(raw[j].word) == 1
            and len(raw[j + 1].word) == 1
            and raw[j].word.isalpha()
            and raw[j + 1].word.isalpha()
            and _SPELLING_GAP_RE.match(text[raw[j].end : raw[j + 1].start])
        ):
            j += 1
        if j - i + 1 >= MIN_SPELLED_OUT:
            joined.append(Token("".join(t.word for t in raw[i : j + 1]), raw[i].start, raw[j].end))
            i = j + 1
        else:
            joined.append(raw[i])
            i += 1
    return joined


@lru_cache(maxsize=65_536)
def stems(word: str) -> frozenset[str]:
    """A word and the forms it may stand for without plural or past endings ("cured" -> cure, cur)."""
    forms = {word}
    if len(word) > 3:
        if word.endswith("ies"):
            forms.add(word[:-3] + "y")
        if word.endswith("es"):
            forms.add(word[:-2])
        if word.endswith("s") and not word.endswith("ss"):
            forms.add(word[:-1])
        if word.endswith("ed"):
            forms.update({word[:-2], word[:-1]})
        elif word.endswith("d"):
            forms.add(word[:-1])
    return frozenset(forms)


def _same_word(word: str, phrase_word: str) -> bool:
    return word == phrase_word or bool(stems(word) & stems(phrase_word))


def phrase_words(phrase: str) -> list[str]:
    """The words a phrase is matched by ("100%" -> ["100", "percent"])."""
    return list(_phrase_words(phrase))


@lru_cache(maxsize=4096)
def _phrase_words(phrase: str) -> tuple[str, ...]:
    # Cached: every text is screened against the same few dozen phrases (a CSV import, many thousand times).
    return tuple(t.word for t in tokens(phrase))


@lru_cache(maxsize=8)
def _prepared(phrases: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str, tuple[frozenset[str], ...]], ...]:
    """Each (phrase, explanation) with the forms each of its words may take."""
    return tuple(
        (phrase, explanation, tuple(stems(w) for w in _phrase_words(phrase))) for phrase, explanation in phrases
    )


def find_phrase(text: str, phrase: str, text_tokens: list[Token] | None = None) -> list[tuple[int, int]]:
    """Where a phrase stands in a text: (start, end) spans in the original text, as whole words."""
    wanted = _phrase_words(phrase)
    if not wanted:
        return []
    words = tokens(text) if text_tokens is None else text_tokens
    spans = []
    for i in range(len(words) - len(wanted) + 1):
        if all(_same_word(words[i + k].word, wanted[k]) for k in range(len(wanted))) and not _denied(words, i):
            spans.append((words[i].start, words[i + len(wanted) - 1].end))
    return spans


def _denied(words: list[Token], i: int) -> bool:
    """Whether the match starting at word i follows a negation ("not", "never", "doesn't")."""
    for j in range(max(0, i - NEGATION_WINDOW), i):
        if words[j].word in NEGATIONS and not (words[j].word == "no" and words[j + 1].word.isdigit()):
            return True
    return False


def screen(fields: dict[str, str], phrases) -> list[Flag]:
    """The flags raised by each text of `fields` (name -> text) against (phrase, explanation) pairs."""
    flags = []
    prepared = _prepared(tuple((phrase, explanation) for phrase, explanation in phrases))
    for field, text in fields.items():
        if not text:
            continue
        words = tokens(text)
        # A phrase can match only where each of its words shares a form with a word of the text;
        # checked first, so that a text with no phrase in it (most) costs one set test per phrase.
        forms = frozenset().union(*(stems(t.word) for t in words))
        for phrase, explanation, word_forms in prepared:
            if not all(word & forms for word in word_forms):
                continue
            for start, end in find_phrase(text, phrase, words):
                flags.append(Flag(field, phrase, explanation, start, end, text[start:end]))
    return sorted(flags, key=lambda f: (f.field, f.start))
