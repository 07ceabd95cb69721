"""Languages matched by language, not by spelling: "Spanish", "spanish", "Español" and "es" are one.

langcodes (with language_data's names in many languages) turns what people type into a BCP 47
language subtag; profiles store the English name, and the search index stores the subtags, so
a filter typed in any spelling finds every practitioner who listed that language.
"""

from __future__ import annotations

import functools

import langcodes

# A language the search index and the API know by its subtag ("es"), shown by its English name.
INDEX_SEPARATOR = "|"
# Codes that name no language: several, undetermined, none, missing.
NOT_LANGUAGES = frozenset({"mul", "und", "zxx", "mis"})


def _a_language(code: str | None) -> str | None:
    """The code, unless it names no language or is for private use (qaa–qtz)."""
    if not code or code in NOT_LANGUAGES or "qaa" <= code <= "qtz":
        return None
    return code


@functools.lru_cache(maxsize=4096)
def language_code(text: str) -> str | None:
    """The language subtag ("es") of a name in any language or a tag, or None when unknown."""
    text = " ".join((text or "").split())
    if len(text) < 2 or len(text) > 60:
        return None
    try:
        if len(text) <= 3 or "-" in text or "_" in text:
            if langcodes.tag_is_valid(text.replace("_", "-")):
                language = langcodes.Language.get(text.replace("_", "-")).language
                if language and langcodes.Language.get(language).is_valid():
                    return _a_language(language)
        found = langcodes.find(text)
        if not _whole_name(text, found):
            return None
    except (LookupError, ValueError):
        return None
    return _a_language(found.language)


def _whole_name(text: str, found: langcodes.Language) -> bool:
    """Whether text is the found language's whole name, not a name with something after it.

    langcodes.find also accepts a known name followed by anything ("Klingonish" is Klingon,
    "Banana" is Bana); a profile must name a language. Accepted: a name the data knows exactly
    in some language ("Español", "Deutsch"), or the language's English name or its own name
    ("Hindi", which the data keeps only under longer names), with or without "language" after it.
    """
    from language_data.names import TRIES, normalize_name

    typed = normalize_name(text)
    lookups = {typed, typed.removesuffix(" language")}
    trie = TRIES.get("und/name_to_language")
    if trie is not None and any(lookup in trie for lookup in lookups):
        return True
    return bool(lookups & {normalize_name(found.display_name("en")), normalize_name(found.autonym())})


@functools.lru_cache(maxsize=4096)
def english_name(code: str) -> str:
    """The English name of a language subtag ("es" -> "Spanish")."""
    return langcodes.Language.get(code).display_name("en")


def canonical_name(text: str) -> str | None:
    """The English name of a language typed in any spelling, or None when it is not a language."""
    code = language_code(text)
    return english_name(code) if code else None


def index_value(names) -> str:
    """What the search index stores for a list of language names: "|en|es|" ("" for none)."""
    codes = dict.fromkeys(code for code in (language_code(name) for name in names) if code)
    return f"{INDEX_SEPARATOR}{INDEX_SEPARATOR.join(codes)}{INDEX_SEPARATOR}" if codes else ""


def index_pattern(code: str) -> str:
    """The LIKE pattern that finds a language subtag in an index value (subtags hold only letters)."""
    return f"%{INDEX_SEPARATOR}{code}{INDEX_SEPARATOR}%"


def preload() -> None:
    """Load the language names now (about 0.4 s) rather than on a first search."""
    language_code("Español")
    english_name("es")
