"""Numbers of a results section (ranges, statistics, decimals, designations of molecules and devices)
are no phone numbers and no street addresses; real phones and addresses, US and international, still are.

Every text here is invented for the test."""

from __future__ import annotations

import pytest

from sanitas.pii.recognizers.pattern import has_context
from sanitas.pii.recognizers.phone import PhoneRecognizer
from sanitas.pii.recognizers.street_address import StreetAddressRecognizer

# The engine's default threshold: a span under it is never reported.
THRESHOLD = 0.3


def _found(recognizer, text: str) -> list[str]:
    recognizer.setup()
    return [text[e.start : e.end] for e in recognizer.find(text) if e.score >= THRESHOLD]


@pytest.mark.parametrize(
    "text",
    [
        # A range "a-b", the lower bound first, of bounds of about one size.
        "Plasma levels ranged 1400-2600 ng across the cohort.",
        "Peaks fell between 0900-1300 or 1300-1700 hours in most subjects.",
        # A parenthesis that opens on a decimal or a range is an aside, not an area code.
        "Cells were exposed to compound B 45120 (0.5 mM) for an hour.",
        "The mean count was 412 +/- 35 (280-760) per field.",
        "Median weight 3,100 g (range, 2100-4800 g) at term.",
    ],
)
def test_ranges_and_statistics_are_no_phone(text: str) -> None:
    assert _found(PhoneRecognizer(), text) == []


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("call me at (415) 555-0132 tonight", "(415) 555-0132"),
        ("Office: +44 (0) 20 7946 0958, ask for Ana", "+44 (0) 20 7946 0958"),
        ("Ruf mich an: +49 30 9018 2741", "+49 30 9018 2741"),
        ("ligne directe +33 1 42 68 53 07 le matin", "+33 1 42 68 53 07"),
        ("call (415) 555-0132 (mobile) after six", "(415) 555-0132"),
        # Two groups, the first above the second: no range, a local number.
        ("ring 9876-5432 after six", "9876-5432"),
        # A leading zero is a trunk prefix, not the lower bound of a range (unless both are clock times).
        ("ring 0412-3456 after six", "0412-3456"),
        # Two ascending groups with a phone word near: the number it names.
        ("my mobile is 2345-6789, text me", "2345-6789"),
        ("Tel. 1234-5678 (front desk)", "1234-5678"),
    ],
)
def test_real_phones_are_still_found(text: str, phone: str) -> None:
    assert phone in _found(PhoneRecognizer(), text)


@pytest.mark.parametrize(
    "text",
    [
        # A street suffix followed by a capitalized function word: a title goes on ("... Park For ...").
        "Staging followed the 1992 Metropolitan Park For Children scheme (MPC) in all cases.",
        # A short acronym joined to a word by a hyphen designates a molecule, a drug, a device.
        "Binding of NKT-beta 4, NKT-beta 7 and NKT-gamma 2 chains was low.",
        "Each patient had one course of XRT-dosing of 6, then a rest.",
        # A number before a decimal mark is a measure, not a house number.
        "The median delay to Kessler 4.5 days was longer.",
        # An article opens the name of a thing (a device, a model), not a street.
        "The accuracy of the Vantor 5200, Brisk Q12, Lumeo Duo Plus and other monitors was compared.",
    ],
)
def test_designations_and_measures_are_no_street(text: str) -> None:
    assert _found(StreetAddressRecognizer(), text) == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Send it to 1992 Harbor Park, Denver CO 80202 please", "1992 Harbor Park, Denver CO 80202"),
        ("I live at 42 Elm Park in the west end", "42 Elm Park"),
        ("Ship to 1600 Pennsylvania Avenue NW, Washington", "1600 Pennsylvania Avenue NW, Washington"),
        ("He lives on Kessler 45.", "Kessler 45"),
        ("He lives on Vantor 52.", "Vantor 52"),
        ("The office is on Saint-Honoré 12.", "Saint-Honoré 12"),
        ("Meine Adresse: Lindenstraße 12, Berlin", "Lindenstraße 12, Berlin"),
        ("Scrivimi a Via Roma 12, Milano", "Via Roma 12, Milano"),
        ("1507 Rákóczi út 13. is the place", "1507 Rákóczi út 13"),
    ],
)
def test_real_addresses_are_still_found(text: str, address: str) -> None:
    assert address in _found(StreetAddressRecognizer(), text)


@pytest.mark.parametrize(
    ("before", "words", "found"),
    [
        ("Response was excellent in ", ("cell",), False),  # a cue inside another word is none
        ("Tumour cells numbered ", ("cell",), False),
        ("on recall at ", ("call",), False),
        ("see the next page: ", ("age",), False),
        ("Cell: ", ("cell",), True),
        ("please called me at ", ("call",), True),  # a verb's -ed and -ing keep it
        ("Tel. ", ("tel",), True),
        ("D.O.B ", ("d.o.b",), True),
    ],
)
def test_context_words_are_whole_words(before, words, found):
    text = before + "555 0199"
    assert has_context(text, len(before), len(text), words) is found
