"""Recognizers of the model method (gazetteers, NER relabelling): positive and negative rows."""

from __future__ import annotations

import pytest

from sanitas.pii.engine import PiiEngine
from sanitas.pii.recognizers.city import CityRecognizer
from sanitas.pii.recognizers.name_lexicon import NameLexiconRecognizer


@pytest.fixture(scope="module")
def model():
    engine = PiiEngine(method="aimon_pii_m1")
    engine.setup()
    return engine


def _found(recognizer, text: str, threshold: float = 0.3) -> set[tuple[str, str]]:
    return {(text[e.start : e.end], e.label) for e in recognizer.find(text) if e.score >= threshold}


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("we returned to SAINT-GERMAIN-EN-LAYE by helicopter", "SAINT-GERMAIN-EN-LAYE", True),
        ("a flight from Tampere to Utrecht", "Utrecht", True),
        ("CAN I SPEAK TO A REAL PERSON?", "A REAL PERSON", False),  # a text in capitals
        ("can I pay in USD please", "USD", False),  # an acronym
        ("I made a transfer from China", "China", False),  # a country is the model's, not the city list's
    ],
)
def test_city_gazetteer(text, value, expected):
    assert ((value, "location") in _found(CityRecognizer(), text)) is expected


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ("Onni: What a wife.\\nMaria: Remember me?", "Maria", True),  # speaker label after an escaped break
        ("Date: 2024-06-30 | Employee: Li Wei", "Date", False),  # a dictionary word before a colon is a key
        ("Okafor: see you at six", "Okafor", True),  # a family name no dictionary holds speaks
        # A known given name and a word nobody lists: weak alone ("Male Sprague-Dawley"), the model decides.
        ("}}Halina Zielinska\\n}}EVR Holdings", "Halina Zielinska", False),
        ("Male Sprague-Dawley rats were used", "Male Sprague-Dawley", False),
        ("I painted the wall Orange today", "Orange", False),  # one known name alone stays low
        ("Halina Street is closed", "Halina Street", False),  # a street word is no surname
        ("Sofía is very reliable.", "Sofía", False),  # one name opening a sentence stays low
    ],
)
def test_name_gazetteer_forms(text, name, expected):
    assert ((name, "person") in _found(NameLexiconRecognizer(), text)) is expected


@pytest.mark.parametrize(
    ("text", "value", "label", "expected"),
    [
        ("They had 3: Sarah, Tanya and Charles.", "Tanya", "person", True),
        ("They had 3: Sarah, Tanya and Charles.", "Sarah, Tanya and Charles", "organization", False),
        ("Is ordering a new card from China available?", "China", "person", False),
        ("The letter went to Welbilt Inc. yesterday", "Welbilt Inc.", "organization", True),
    ],
)
def test_model_labels(model, text, value, label, expected):
    found = {(text[e.start : e.end], e.label) for e in model.analyze(text)}
    assert ((value, label) in found) is expected, found
