"""Uncased names and addresses, residence places, firm cues and the errors they must not make: positive
and negative rows (invented text)."""

from __future__ import annotations

import pytest

from sanitas.pii.recognizers.location import LocationCueRecognizer
from sanitas.pii.recognizers.name_lexicon import NameLexiconRecognizer
from sanitas.pii.recognizers.street_address import StreetAddressRecognizer
from sanitas.pii.recognizers.street_uncased import UncasedStreetRecognizer


def _found(recognizer, text: str, threshold: float = 0.3) -> set[tuple[str, str]]:
    return {(text[e.start : e.end], e.label) for e in recognizer.find(text) if e.score >= threshold}


@pytest.mark.parametrize(
    ("text", "address", "expected"),
    [
        ("meet me at 412 juniper court tomorrow", "412 juniper court", True),
        ("send it to 18 rue des lilas 4, valmont", "18 rue des lilas 4, valmont", True),
        ("the cab stops at 5512 hagavej 17 st.", "5512 hagavej 17 st", True),
        ("we live at 77 oak hill road, millbrook", "77 oak hill road, millbrook", True),
        ("book a table for 4 at olive garden", None, False),  # stop words inside: a clause
        ("i need 2 tickets for the 7 pm show at madison square garden", None, False),
        ("transfer 500 to my savings account", None, False),
        ("Meet me at 412 Juniper Court", None, False),  # cased text: street_address's job
    ],
)
def test_street_uncased(text, address, expected):
    found = {v for v, label in _found(UncasedStreetRecognizer(), text) if label == "street_address"}
    assert (address in found if address else bool(found)) is expected


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # "at 255" is tried first as a glued street ("at") and rejected; the number is given back.
        ("eva lives at 255 hersnapvej 18, nordby", "255 hersnapvej 18, nordby"),
        ("Jon lives at 44 Lindenweg 7, Kelbach", "44 Lindenweg 7, Kelbach"),
        # A town, an empty region ("nan") and a postcode on the next line belong to the address; the
        # particle "na" must not stop the town at "nan".
        ("Ship to 6343 Lindeveien 106\nBERGEN nan 1386", "6343 Lindeveien 106\nBERGEN nan 1386"),
    ],
)
def test_street_rejected_match_gives_text_back(text, address):
    assert (address, "street_address") in _found(StreetAddressRecognizer(), text)


@pytest.mark.parametrize(
    ("text", "place", "expected"),
    [
        ("i'm originally from switzerland", "switzerland", True),  # uncased, after a residence cue
        ("my sister lives in new york now", "new york", True),
        ("i'm travelling to japan next week", "japan", False),  # a trip, not where someone lives
        ("i live in my car these days", "my car", False),
        ("what city were you born in You can call me", "You", False),  # a pronoun is no place
        ("She lives in Harburg.", "Harburg", True),
    ],
)
def test_location_cue(text, place, expected):
    assert ((place, "location") in _found(LocationCueRecognizer(), text)) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("What is 'Haus' in English? Tell me.", "English", False),  # a surname that is a word
        ("Please Forget what I said earlier.", "Forget", False),
        # One known name alone is weak evidence (on real text about one time in three a person): it
        # stays under the default threshold, for the model to decide.
        ("I spoke with Andersson yesterday.", "Andersson", False),
        ("I spoke with Smith yesterday.", "Smith", False),
    ],
)
def test_lone_dictionary_surname(text, value, expected):
    assert ((value, "person") in _found(NameLexiconRecognizer(), text)) is expected


@pytest.mark.parametrize("value", ["Andersson", "Smith"])
def test_lone_names_are_found_by_the_engine(value):
    from sanitas.pii.engine import PiiEngine

    text = f"I spoke with {value} yesterday."
    engine = PiiEngine(method="aimon_pii_m1", pii_types=["person"])
    assert value in {text[e.start : e.end] for e in engine.analyze(text)}
