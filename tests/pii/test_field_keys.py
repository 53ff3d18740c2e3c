"""A form's field key types the name after it (``sanitas.pii.field_keys``); texts written for this test."""

from __future__ import annotations

import pytest

from sanitas.pii.entities import Entity
from sanitas.pii.field_keys import drop_value_keys, field_kind
from sanitas.pii.ner import spans_to_entities


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("last name: de luca", "de luca", "person"),
        ("<tr><td>Surname</td><td>Okafor</td></tr>", "Okafor", "person"),
        ('{"first_name": "marco", "city": "turin"}', "marco", "person"),
        ('{"first_name": "marco", "city": "turin"}', "turin", "location"),
        ("Company name: Bluefin Analytics", "Bluefin Analytics", "organization"),
        ("EMPLOYER: ST. JUDE MEDICAL", "ST. JUDE MEDICAL", "organization"),
        ("State = Ohio", "Ohio", "location"),
        # no key, or a key of something else
        ("User name: bob_k", "bob_k", None),
        ("username: bob", "bob", None),
        ("rename: Joe", "Joe", None),  # a key is a whole word
        ("the city of Rome", "Rome", None),
        ("we met Dana at noon", "Dana", None),
        ("I call the name Qatar Heroes", "Qatar", None),  # prose: a name key needs a separator
        ("at the Business Centre today", "Centre", None),
    ],
)
def test_field_kind(text, value, kind):
    assert field_kind(text, text.index(value)) == kind


@pytest.mark.parametrize(
    ("text", "span", "model_label", "want"),
    [
        ("first name: marco\nlast name: de luca", "de luca", "ORG", "person"),  # the key wins
        ("Employer: Northwind Logistics", "Northwind Logistics", "PERSON", "organization"),
        ("Ship from: Kessler Freight", "Kessler Freight", "ORG", "organization"),  # no name key: the model's
    ],
)
def test_a_model_span_takes_its_field_keys_kind(text, span, model_label, want):
    start = text.index(span)
    ents = spans_to_entities(text, [(start, start + len(span), model_label, span)], adjust=False)
    assert [(text[e.start : e.end], e.label) for e in ents] == [(span, want)]


def _e(text: str, value: str, label: str, nth: int = 0) -> Entity:
    start = -1
    for _ in range(nth + 1):
        start = text.index(value, start + 1)
    return Entity(start, start + len(value), label, 0.8)


@pytest.mark.parametrize(
    ("text", "spans", "kept"),
    [
        # the key of a line whose value is a date is no person, in any case
        (
            "name: olivia martinez\ndob: 03/22/1991",
            [("dob", "person"), ("03/22/1991", "date_of_birth")],
            ["03/22/1991"],
        ),
        (
            "SEX: M   DOB: 08/30/1984",
            [("DOB", "organization"), ("08/30/1984", "date_of_birth")],
            ["08/30/1984"],
        ),
        # a speaker before a message, a name before a non-name value inside a sentence: kept
        ("Jamal: yo did u finish", [("Jamal", "person")], ["Jamal"]),
        ("Jamal: Bianca has the slides", [("Jamal", "person"), ("Bianca", "person")], ["Jamal", "Bianca"]),
        ("call Maria: 555 0199", [("Maria", "person"), ("555 0199", "phone_number")], ["Maria", "555 0199"]),
        # a word of an identifier's key ("NHS number:"), an aside in its brackets ("Tax ID (EIN):")
        (
            "NHS no: 943 476 5919",
            [("NHS", "organization"), ("943 476 5919", "national_id")],
            ["943 476 5919"],
        ),
        (
            "Tax ID (EIN): 12-3456789",
            [("EIN", "organization"), ("12-3456789", "national_id")],
            ["12-3456789"],
        ),
    ],
)
def test_a_lines_key_before_a_value_is_no_name(text, spans, kept):
    ents = [_e(text, v, label) for v, label in spans]
    assert [text[e.start : e.end] for e in drop_value_keys(text, ents)] == kept
