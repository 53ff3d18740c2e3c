"""Context recognizers of the model method and the address forms they rely on: positive and negative rows."""

from __future__ import annotations

import pytest

from sanitas.pii.recognizers.organization import OrganizationRecognizer
from sanitas.pii.recognizers.person import PersonCueRecognizer
from sanitas.pii.recognizers.postal_lines import PostalLinesRecognizer
from sanitas.pii.recognizers.signature_block import SignatureBlockRecognizer, is_job_title
from sanitas.pii.recognizers.street_address import StreetAddressRecognizer


def _found(recognizer, text: str, threshold: float = 0.3) -> set[tuple[str, str]]:
    return {(text[e.start : e.end], e.label) for e in recognizer.find(text) if e.score >= threshold}


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        (
            "Sorry, what is your family name? Quistorp",
            "Quistorp",
            True,
        ),  # the answer to a question about a name
        ("what was the name? Never mind", "Never", False),  # an everyday word
    ],
)
def test_name_question_cue(text, value, expected):
    assert ((value, "person") in _found(PersonCueRecognizer(), text)) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("Dear Customer, your order has shipped.", "Customer", False),  # a role, not a name
        ("Dear Hiring Manager, I am applying for the role.", "Hiring Manager", False),
        ("Thanks! Regards, Support Team", "Support Team", False),
        ("Dear Grace, thanks for the update.", "Grace", True),  # a dictionary word someone is called
        ("Sincerely, Maria Lopez", "Maria Lopez", True),
        ("My name is Hope and I need help", "Hope", True),  # after "my name is", any word is the name
        ("thanks Dr. K for the advice today", "Dr", False),  # a title after a greeting is no name
        ("thanks Dr. Kowalski for the advice", "Kowalski", True),  # its own cue reads the name after it
    ],
)
def test_salutation_opens_on_a_name_or_a_role(text, value, expected):
    assert ((value, "person") in _found(PersonCueRecognizer(), text)) is expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # a tab or a run of spaces is the gap between a form's fields: the name ends there
        ("Homeroom: Mrs. Alvarez   Parent/Guardian: Li Chen", "Alvarez"),
        ("Name:\tMaria Lopez\tCity:\tLeeds", "Maria Lopez"),
        ("Attending: Dr. Ruth Okafor    Unit: 4 West", "Ruth Okafor"),
        ("Dear Mrs. Ines Duarte  Vaz, thanks", "Ines Duarte  Vaz"),  # one or two spaces inside a name
    ],
)
def test_a_cued_name_ends_at_a_field_gap(text, value):
    assert {v for v, label in _found(PersonCueRecognizer(), text) if label == "person"} == {value}


@pytest.mark.parametrize(
    ("text", "value", "label", "expected"),
    [
        (
            "Halvard Tallqvist\nRadiographer\nBrindlecove\n214 6 Larkspur Close",
            "Brindlecove",
            "organization",
            True,
        ),
        (
            "Halvard Tallqvist\nProperty manager\nBrindlecove\n214 6 Larkspur Close",
            "Halvard Tallqvist",
            "person",
            True,
        ),
        (
            ">Zolvan Aritzeta\n>Kessler-Dunmore\n>Zolvan Aritzeta\n>58213 14 Rue des Glycines",
            "Zolvan Aritzeta",
            "person",
            True,
        ),
        (
            "}} Dorka Vellai\\n}} KORVATH LTD RX7\\n}} 30518 Vrtna 7",
            "KORVATH LTD RX7",
            "organization",
            True,
        ),
        (
            "Ingmar Saltvedt\n\nNight shift bakery worker\n\nContact details:",
            "Ingmar Saltvedt",
            "person",
            True,
        ),
        (
            "Halvard Tallqvist\nProperty manager\nBrindlecove\n214 6 Larkspur Close",
            "Property manager",
            "organization",
            False,
        ),
        (
            "Hi all\nThe parcel came today\n7 boxes are damaged",
            "The parcel came today",
            "organization",
            False,
        ),
        (
            "Halvard Tallqvist, Brindlecove, 214 6 Larkspur Close",
            "Brindlecove",
            "organization",
            False,
        ),  # one line
        ("Dear Billing\n4 invoices were returned", "Dear Billing", "organization", False),  # no address below
        # a title opens a person's line, never a firm's; the title and the degree are not the name
        (
            "Dr. Amara Nwosu-Bello, PhD\nDepartment of Epidemiology\n1415 Washington Heights, Ann Arbor",
            "Amara Nwosu-Bello",
            "person",
            True,
        ),
        (
            "Dr. Amara Nwosu-Bello, PhD\nDepartment of Epidemiology\n1415 Washington Heights, Ann Arbor",
            "Dr. Amara Nwosu-Bello, PhD",
            "organization",
            False,
        ),
        ("Mr Tobias Grell MBA\nGrell & Sons\n22 Quay Street", "Tobias Grell", "person", True),
        # two people on one line: the second carries the family name; a firm named after two keeps one
        ("Kwame and Abena Mensah\n14 Cedar Lane\nColumbus, OH 43215", "Kwame", "person", True),
        ("Kwame and Abena Mensah\n14 Cedar Lane\nColumbus, OH 43215", "Abena Mensah", "person", True),
        ("kwame and abena mensah\n14 cedar lane\ncolumbus oh", "abena mensah", "person", True),
        ("Procter & Gamble\n1 Procter Plaza\nCincinnati", "Procter & Gamble", "organization", True),
    ],
)
def test_signature_block(text, value, label, expected):
    assert ((value, label) in _found(SignatureBlockRecognizer(), text)) is expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Parking garage manager", True),
        ("chimney flue cleaner", True),
        ("Shared Roots", False),
        ("Zentrivo", False),
    ],
)
def test_job_title_lines(line, expected):
    assert is_job_title(line) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("Ilse Vandenbroek\n\nDen Haag\nNetherlands", "Netherlands", True),  # a country line
        ("Ilse Vandenbroek\n\nDen Haag\nNetherlands", "Den Haag", True),  # the town above it
        ("> Unit 88\n> LEUVEN\n> Belgium 30120", "Belgium", True),  # with its postcode
        ("I sent money from Brazil\nWhen will it arrive?", "Brazil", False),  # inside a sentence
        ("Portugal", "Portugal", False),  # a single line is no postal block
    ],
)
def test_postal_lines(text, value, expected):
    assert ((value, "location") in _found(PostalLinesRecognizer(), text)) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("his ZELTRONIKA CO.LTD. contract", "ZELTRONIKA CO.LTD.", True),
        ("Radka is from VELMAR CORPORATION", "VELMAR CORPORATION", True),
        ("PLEASE CHECK MY PAYMENT", "MY PAYMENT", False),
    ],
)
def test_organization_forms_in_capitals(text, value, expected):
    assert ((value, "organization") in _found(OrganizationRecognizer(), text)) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        # An empty field written by an export ("nan") does not end the address.
        (
            "it is 6127 Tolvik 38 Apt. 219\nBrennholt, nan 51836",
            "6127 Tolvik 38 Apt. 219\nBrennholt, nan 51836",
            True,
        ),
        # After a unit, the town, region and country up to the clause's end.
        ("It's in 418 52 Copperbeech Lane Suite 207 Ashgrove New Zealand", "Ashgrove New Zealand", True),
        ("at 2290 Via Montelupo 18 Suite 41 Borgo Lario CO last night.", "Borgo Lario CO", True),
        # A line ending in a postcode closes the address whatever follows it.
        ("to 3310 12 Pefkon Street\n Suite 95\n Ardelia\n Greece 48215? I am in", "Greece 48215", True),
        (
            "Nadia lives at 512 9 Rue Ibn Khaldoun El Wardi, Cite Zohra",
            "512 9 Rue Ibn Khaldoun El Wardi",
            True,
        ),
        (
            "the corner of ul. Lipowa 21 and Marzanna Path?",
            "the corner of ul. Lipowa 21 and Marzanna Path",
            True,
        ),
        ("to the same: 4471 rua das flores 8 suite 302, tavira, portugal 81260", "portugal 81260", True),
        ("psc 3187, box 6642\napo aa 20514", "psc 3187, box 6642\napo aa 20514", True),
        ("Marlow Freight PLC\\nUSNV Tarrant\nFPO AE 61207", "USNV Tarrant\nFPO AE 61207", True),
        ("will 4 route updates be applied today?", "4 route updates", False),
        ("i want 3 lemons and 6 plums thanks", "3 lemons and 6 plums thanks", False),  # uncased, no unit
        ("Suite 12 Please ring me tomorrow", "Please ring me tomorrow", False),
    ],
)
def test_street_address_forms(text, value, expected):
    # The masking view: every character of ``value`` inside a found span (postal blocks come line by line).
    covered = {
        i for e in StreetAddressRecognizer().find(text) if e.score >= 0.3 for i in range(e.start, e.end)
    }
    start = text.index(value)
    inside = [i for i in range(start, start + len(value)) if not text[i].isspace()]
    assert all(i in covered for i in inside) is expected
