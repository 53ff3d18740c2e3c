"""The word and name lists the recognizers read."""

from __future__ import annotations

import pytest

from sanitas.pii.lexicons import lexicons


@pytest.mark.parametrize("word", ["admitted", "ADMITTED", "running", "carried", "stories", "directed"])
def test_inflected_dictionary_words_are_words(word):
    assert lexicons().is_english_word(word)


@pytest.mark.parametrize("word", ["Zielinska", "Ibragimov"])
def test_names_are_no_dictionary_words(word):
    assert not lexicons().is_english_word(word)


@pytest.mark.parametrize("token", ["O'Neill", "O'Connor", "Maria"])
def test_names_with_an_apostrophe_are_names(token):
    # capitalize() alone turns "O'Neill" into "O'neill", which no list holds.
    assert lexicons().is_name_token(token)


@pytest.mark.parametrize(
    ("token", "common"),
    [("Hey", True), ("I'm", True), ("you’re", True), ("it's", True), ("O'Neill", False), ("D'Angelo", False)],
)
def test_interjections_and_pronoun_contractions_are_common_words(token: str, common: bool) -> None:
    """A greeting or "I'm" before a name is no rare given name ("Hey Siri", "I'm Zoe")."""
    assert lexicons().is_common_word(token) is common
