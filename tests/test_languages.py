"""Languages are matched by language, not by spelling, and a word that is no language is refused."""

from __future__ import annotations

import pytest

from directory.languages import canonical_name, index_pattern, index_value, language_code


@pytest.mark.parametrize("typed", ["Spanish", "spanish", "Español", "ESPAÑOL", "es", "ES", "Spanish language"])
def test_every_spelling_of_spanish_is_spanish(typed):
    assert language_code(typed) == "es" and canonical_name(typed) == "Spanish"


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Deutsch", "German"),
        ("français", "French"),
        ("Hindi", "Hindi"),
        ("हिन्दी", "Hindi"),
        ("Māori", "Māori"),
        ("Farsi", "Persian"),
        ("American Sign Language", "American Sign Language"),
        ("pt-BR", "Portuguese"),
    ],
)
def test_names_in_other_languages_and_tags_give_the_english_name(typed, name):
    assert canonical_name(typed) == name


@pytest.mark.parametrize(
    "typed",
    [
        "Banana",
        "Klingonish",
        "Klingonish Elvish",
        "English please",
        "Elvish",
        "qwertyuiop",
        "xx",
        "%",
        "",
        "a",
        "qaa",
        "zxx",
        "mul",
        "und",
        "a" * 61,
    ],
)
def test_words_that_are_not_a_language_are_refused(typed):
    assert language_code(typed) is None


def test_the_index_stores_subtags_once_each():
    assert index_value(["English", "Español", "Spanish", "not a language"]) == "|en|es|"
    assert index_value([]) == ""
    assert index_pattern("es") == "%|es|%"
