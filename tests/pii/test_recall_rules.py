"""Rules that relate a name to people, firms and places: positive and negative rows (examples invented)."""

from __future__ import annotations

import pytest

from sanitas.pii.address_lead import extend_street_heads
from sanitas.pii.chunking import CHUNK_CHARS
from sanitas.pii.coreference import inverted_given_names, list_siblings, repeat_people
from sanitas.pii.engine import PiiEngine
from sanitas.pii.entities import Entity
from sanitas.pii.escapes import unescape_breaks
from sanitas.pii.postpass import refine
from sanitas.pii.recognizers.iban import IbanRecognizer
from sanitas.pii.recognizers.name_lexicon import NameLexiconRecognizer
from sanitas.pii.recognizers.person import PersonCueRecognizer
from sanitas.pii.recognizers.phone import PhoneRecognizer
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
        ("The Halina Nowak show starts now.", "Halina Nowak", True),  # a leading word left out
        ("Vostrid Halvorsen lives here.", "Vostrid Halvorsen", True),  # a rare given name, a known surname
        ("The Princess Royal arrived.", "Princess Royal", False),  # dictionary words
        ("The Big Apple is busy.", "Big Apple", False),
    ],
)
def test_name_lexicon_runs(text, value, expected):
    assert ((value, "person") in _found(NameLexiconRecognizer(), text)) is expected


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
        ("as written by Drs Moeser and Gross.", "Gross", "person", "Moeser", True),  # a title is no name
        ("as written by Drs Moeser and Gross.", "Gross", "person", "Drs Moeser", False),
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


@pytest.mark.parametrize(
    ("text", "family", "given", "expected"),
    [
        ("Patient: OKAFOR, MARIA  MRN: 0048", "OKAFOR", "MARIA", True),  # field ends at two spaces
        ("Attending: Veldhuis, Daniel\nUnit 4", "Veldhuis", "Daniel", True),  # at a line end
        ("Name: Veldhuis, Daniel DOB: 3/4/1990", "Veldhuis", "Daniel", True),  # the next key follows
        ("I asked Veldhuis, Daniel said no more", "Veldhuis", "Daniel", False),  # a clause goes on
        ("Contact: Veldhuis, Printer", "Veldhuis", "Printer", False),  # no given name
    ],
)
def test_inverted_given_names(text, family, given, expected):
    ents = inverted_given_names(text, [_span(text, family, "person")], min_score=0.3)
    assert any(text[e.start : e.end] == given and e.label == "person" for e in ents) is expected
