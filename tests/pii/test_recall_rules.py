"""Rules that relate a name to people, firms and places: positive and negative rows (examples invented)."""

from __future__ import annotations

import pytest

from sanitas.pii.address_lead import extend_street_heads
from sanitas.pii.chunking import CHUNK_CHARS
from sanitas.pii.coreference import list_siblings, repeat_people
from sanitas.pii.engine import PiiEngine
from sanitas.pii.entities import Entity
from sanitas.pii.escapes import unescape_breaks
from sanitas.pii.postpass import refine
from sanitas.pii.recognizers.iban import IbanRecognizer
from sanitas.pii.recognizers.name_lexicon import NameLexiconRecognizer
from sanitas.pii.recognizers.org_cue import OrganizationCueRecognizer
from sanitas.pii.recognizers.org_relation import OrganizationRelationRecognizer
from sanitas.pii.recognizers.person import PersonCueRecognizer
from sanitas.pii.recognizers.person_context import PersonContextRecognizer
from sanitas.pii.recognizers.person_uncased import PersonUncasedRecognizer
from sanitas.pii.recognizers.phone import PhoneRecognizer
from sanitas.pii.recognizers.place_topic import PlaceTopicRecognizer
from sanitas.pii.recognizers.street_address import StreetAddressRecognizer
from sanitas.pii.recognizers.street_named import NamedStreetRecognizer


def _found(recognizer, text: str, threshold: float = 0.3) -> set[tuple[str, str]]:
    recognizer.setup()
    return {(text[e.start : e.end], e.label) for e in recognizer.find(text) if e.score >= threshold}


def _span(text: str, value: str, label: str, score: float = 0.8) -> Entity:
    start = text.index(value)
    return Entity(start, start + len(value), label, score)


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("Ilse Varga of Quorblex is our new treasurer.", "Quorblex", True),
        ("Tomas Reyes from Zentrivo Labs is the speaker today.", "Zentrivo Labs", True),
        ("Our guests: Ana Lima of Brindle, Quorblex's Tomas Reyes and more.", "Quorblex", True),
        ("Zentrivo is a small design agency based in Oslo.", "Zentrivo", True),
        ("Founded in Oslo, Quorblex is a 501(c)(3) that helps kids.", "Quorblex", True),
        ("Details are on the Zentrivo website.", "Zentrivo", True),
        ("Hi, this is Maria Lopez from Lisbon.", "Lisbon", False),  # a place
        ("Hi, this is Brett Orm from Lake Verrintown. I lost my card.", "Lake Verrintown", False),  # a town
        ("Maria Lopez of Accounts Payable sent it.", "Accounts Payable", False),  # everyday words
        ("I sent it to Anna's John Smith", "Anna", False),  # a person's relative
        ("Details are on the Money Transfer website.", "Money Transfer", False),
        ("Hello. The Money Team is a group of friends.", "The Money Team", False),
    ],
)
def test_organization_relation(text, value, expected):
    assert ((value, "organization") in _found(OrganizationRelationRecognizer(), text)) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("The choir tours Northern Portugal each May.", "Portugal", True),
        ("We hear Norway is cutting taxes.", "Norway", True),
        ("We hear New Zealand is cutting taxes.", "New Zealand", True),  # a place of two words
        ("Chile leader visits the port.", "Chile", True),
        ("In Chile, people eat late.", "Chile", True),
        ("His hometown Tarvisio is small.", "Tarvisio", True),
        ("When: tomorrow 10:00\nWhere: Kessel Community Hall", "Kessel Community Hall", True),
        ("Can I send money to Spain?", "Spain", False),  # an errand, not the topic
        ("Is Germany one of the countries you serve?", "Germany", False),
        ("Victoria was late today.", "Victoria", False),  # a given name
        ("Mobile is down again.", "Mobile", False),  # an everyday word
        ("Where: Zoom", "Zoom", False),  # a word
        ("Where: Anna's place", "Anna's place", False),
    ],
)
def test_place_topic(text, value, expected):
    assert ((value, "location") in _found(PlaceTopicRecognizer(), text)) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("She lives on Orvieto Lane street.", "Orvieto Lane street", True),
        ("The shop on Varnhem 12 street opens late.", "Varnhem 12 street", True),
        ("The bakery on C/ Olmo Verde 4 street in Teruel.", "C/ Olmo Verde 4 street", True),
        ("A song about Kessel Row street.", "Kessel Row street", False),  # no "on / along / off"
        ("I saw him on the street.", "the street", False),
        ("We met on Main street.", "Main street", False),  # everyday words
    ],
)
def test_named_street(text, value, expected):
    assert ((value, "street_address") in _found(NamedStreetRecognizer(), text)) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        (
            "Meet at the corner of 12 Varga Str. and Olmo Way today.",
            "the corner of 12 Varga Str. and Olmo Way",
            True,
        ),
        (
            "Meet at the corner of 9 Kelby Street and van Rijn Lane.",
            "the corner of 9 Kelby Street and van Rijn Lane",
            True,
        ),
        ("Meet in the corner of the room and wait.", "the corner of the room", False),
    ],
)
def test_street_corner(text, value, expected):
    assert ((value, "street_address") in _found(StreetAddressRecognizer(), text)) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("We need to add Noor K Costa as guardian.", "Noor K Costa", True),  # an initial: a person
        ("Have you heard Tamara T Vuković speak?", "Tamara T Vuković", True),  # Latin letters beyond Latin-1
        ("The Halina Zielinska show starts now.", "Halina Zielinska", True),  # a leading word left out
        ("Vostrid Halvorsen lives here.", "Vostrid Halvorsen", True),  # a rare given name, a known surname
        ("The Princess Royal arrived.", "Princess Royal", False),  # dictionary words
        ("The Big Apple is busy.", "Big Apple", False),
    ],
)
def test_name_lexicon_runs(text, value, expected):
    assert ((value, "person") in _found(NameLexiconRecognizer(), text)) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("Orvenka spent a year at Quorblex as an intern.", "Orvenka", True),
        ("Tavrik began writing as a teenager.", "Tavrik", True),
        ("Brisela P Oyelaran lives on Elm Row 4.", "Brisela P Oyelaran", True),  # an initial without a dot
        ("Here is Maria's phone number: 555 0101.", "Maria", True),
        ('"Fine!" said Orm to Tallqvist.', "Orm", True),
        ("He said to Tallqvist.", "Tallqvist", True),
        ("My grandfather was called Žarko Vuković.", "Žarko Vuković", True),
        ("Orvenka, can you call me back?", "Orvenka", True),  # addressed before a request
        ("Thanks. Maria, could you check?", "Maria", True),
        ("Hello, can you help?", "Hello", False),  # a greeting
        ("Vex, can I get a card?", "Vex", False),  # a short rare word
        ("Quorblex's address is on the card.", "Quorblex", False),  # a firm has an address too
        ("Work began writing the report.", "Work", False),  # an everyday word
    ],
)
def test_person_context_cues(text, value, expected):
    assert ((value, "person") in _found(PersonContextRecognizer(), text)) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("please follow up with monika žilková next week", "monika žilková", True),
        ("please follow up with anna tomorrow", "anna tomorrow", False),
        ("please follow up with anna kowalski soon", "anna kowalski", True),
    ],
)
def test_person_uncased_rare_surname(text, value, expected):
    assert ((value, "person") in _found(PersonUncasedRecognizer(), text)) is expected


@pytest.mark.parametrize(
    ("text", "label", "value", "expected"),
    [
        ("my iban is gb82west12345698765432", "iban", "gb82west12345698765432", True),  # valid checksum
        ("my code is gb82west12345698765433", "iban", "gb82west12345698765433", False),  # checksum fails
        ("Desk\\,+44 20 7946 0958 (office)", "phone_number", "+44 20 7946 0958", True),
        ("paid 1,234567890 today", "phone_number", "234567890", False),  # a thousands separator
    ],
)
def test_lowercase_iban_and_comma_phone(text, label, value, expected):
    recognizer = IbanRecognizer() if label == "iban" else PhoneRecognizer()
    view = unescape_breaks(text)
    assert ((value, label) in _found(recognizer, view)) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ltd\\nName: Vera", "Ltd \nName: Vera"),
        ("a\\tb", "a \tb"),
        ("Office\\,+44", "Office ,+44"),
        ("plain text", "plain text"),
    ],
)
def test_unescape_breaks(text, expected):
    out = unescape_breaks(text)
    assert out == expected and len(out) == len(text)


@pytest.mark.parametrize(
    ("text", "seed", "repeat", "expected"),
    [
        ("Ilvara Quent wrote it. Everyone calls her Ilvara.", "Ilvara Quent", "Ilvara", True),
        ("Will Rose came. We will see.", "Will Rose", "will", False),  # a different case: a word
        ("Tormund Vasq came. The Vasquez family left.", "Tormund Vasq", "Vasquez", False),  # whole words only
    ],
)
def test_repeat_people(text, seed, repeat, expected):
    ents = repeat_people(text, [_span(text, seed, "person")], min_score=0.3)
    found = {text[e.start : e.end] for e in ents if e.start != text.index(seed)}
    assert (repeat in found) is expected


@pytest.mark.parametrize(
    ("text", "seed", "label", "sibling", "expected"),
    [
        (
            "Firms here: Quorblex, Zentrivo Labs Inc and Brindle.",
            "Zentrivo Labs Inc",
            "organization",
            "Quorblex",
            True,
        ),
        ("We asked Tavrik and Vedrana Holm.", "Vedrana Holm", "person", "Tavrik", True),
        ("Ask Monday and Vedrana Holm.", "Vedrana Holm", "person", "Monday", False),  # an everyday word
        ("Shops in Oslo and Vedrana Holm.", "Vedrana Holm", "person", "Oslo", False),  # a place
    ],
)
def test_list_siblings(text, seed, label, sibling, expected):
    ents = list_siblings(text, [_span(text, seed, label)], min_score=0.3)
    assert any(text[e.start : e.end] == sibling and e.label == label for e in ents) is expected


@pytest.mark.parametrize(
    ("text", "street", "expected"),
    [
        ("Vostra\n0417 Varnhem gata 22\nOslo", "22\nOslo", "0417 Varnhem gata 22\nOslo"),
        ("Ship to 610 12 Elm Rise please", "12 Elm Rise", "610 12 Elm Rise"),
        ("Please ship it to my 12 Elm Rise", "12 Elm Rise", "12 Elm Rise"),  # "my" is no address
    ],
)
def test_extend_street_heads(text, street, expected):
    ents = extend_street_heads(text, [_span(text, street, "street_address")])
    assert text[ents[0].start : ents[0].end] == expected


def test_extend_street_heads_takes_a_unit_before():
    text = "Ms. Vera Lind Apt. 4 12 Elm Rise"
    ents = extend_street_heads(
        text, [_span(text, "Vera Lind", "person"), _span(text, "4 12 Elm Rise", "street_address")]
    )
    assert [text[e.start : e.end] for e in ents] == ["Vera Lind", "Apt. 4 12 Elm Rise"]


def test_extend_street_heads_keeps_other_spans():
    text = "Vera Lind 12 Elm Rise"
    ents = extend_street_heads(
        text, [_span(text, "Vera Lind", "person"), _span(text, "12 Elm Rise", "street_address")]
    )
    assert [text[e.start : e.end] for e in ents] == ["Vera Lind", "12 Elm Rise"]


def test_engine_repeats_a_name_and_reads_escaped_breaks():
    engine = PiiEngine(method="aimon_pii_m1", pii_types=["person", "organization"], processes=1)
    text = "Ilvara Quent wrote the letter.\\nEveryone thanked Ilvara."
    found = {(text[e.start : e.end], e.label) for e in engine.analyze(text)}
    assert ("Ilvara", "person") in found


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("I used to work for NATO as a clerk.", "NATO", True),  # an acronym employer
        ("I work for IT.", "IT", False),  # a department
        ("I work for Money Transfer.", "Money Transfer", False),
    ],
)
def test_org_cue_acronym(text, value, expected):
    assert ((value, "organization") in _found(OrganizationCueRecognizer(), text)) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("Mrs. Vera Lind Apt. 4 12 Elm Rise", "Vera Lind", True),  # the unit is left out
        ("Mrs. Vera Lind Apt. 4 12 Elm Rise", "Vera Lind Apt", False),
        ("Dr. Orm Tallqvist Suite 9", "Orm Tallqvist", True),
    ],
)
def test_person_cue_stops_at_unit(text, value, expected):
    assert ((value, "person") in _found(PersonCueRecognizer(), text)) is expected


def test_refine_long_text_in_windows():
    block = "Ilvara Quent wrote the note. Later Ilvara left. " * 400
    text = block + "Ship to 610 12 Elm Rise please. "
    assert len(text) > CHUNK_CHARS
    seeds = [Entity(k, k + len("Ilvara Quent"), "person", 0.8) for k in range(0, len(block), 48)]
    street = _span(text, "12 Elm Rise", "street_address")
    out = refine(text, [*seeds, street], min_score=0.3)
    names = [e for e in out if e.label == "person"]
    assert len(names) == 2 * len(seeds)  # every repeat found, in every window
    assert all(a.end <= b.start for a, b in zip(out, out[1:], strict=False))  # still no overlaps
    assert text[out[-1].start : out[-1].end] == "610 12 Elm Rise"
